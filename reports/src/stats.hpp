// The two-sided Mann-Whitney U test, used to tell a real change from noise between repetitions.
#pragma once

#include <span>

namespace coroscope::report {

struct u_test {
  double u1 = 0;           // U of the first sample: pairs (a, b) with a > b, ties counting one half
  double p = 1;            // two-sided p-value
  bool exact = false;      // exact null distribution (small samples, no ties) or normal approximation
  double smallest_p = 1;   // the smallest p these sample sizes can produce at all
};

// Exact distribution when there are no ties and both samples have at most `exact_limit` values; otherwise
// the normal approximation with tie correction and continuity correction.
// `force_normal` exists so tests can check the approximation against published values.
inline constexpr int exact_limit = 20;
u_test mann_whitney(std::span<const double> a, std::span<const double> b, bool force_normal = false);

// The smallest two-sided p the exact test can reach with samples of n1 and n2 values: 2 / C(n1+n2, n1).
double smallest_exact_p(int n1, int n2);

}  // namespace coroscope::report
