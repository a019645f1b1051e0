#include "stats.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace coroscope::report {
namespace {

// Number of arrangements of m values of the first sample and n of the second giving each U, for
// U = 0..m*n, by the recurrence f(u; m, n) = f(u - n; m - 1, n) + f(u; m, n - 1): the largest value
// either comes from the first sample (beating all n of the second) or from the second.
std::vector<double> u_distribution(int m, int n) {
  // table[j] holds the distribution for (i, j) while i grows.
  std::vector<std::vector<double>> table(static_cast<std::size_t>(n) + 1);
  for (int j = 0; j <= n; ++j) table[static_cast<std::size_t>(j)] = {1.0};  // i = 0: U is always 0
  for (int i = 1; i <= m; ++i) {
    std::vector<std::vector<double>> next(static_cast<std::size_t>(n) + 1);
    next[0] = {1.0};  // j = 0: U is always 0
    for (int j = 1; j <= n; ++j) {
      std::vector<double> f(static_cast<std::size_t>(i * j) + 1, 0.0);
      const auto& from_first = table[static_cast<std::size_t>(j)];  // (i-1, j), shifted by j
      const auto& from_second = next[static_cast<std::size_t>(j - 1)];  // (i, j-1)
      for (std::size_t u = 0; u < from_first.size(); ++u) f[u + static_cast<std::size_t>(j)] += from_first[u];
      for (std::size_t u = 0; u < from_second.size(); ++u) f[u] += from_second[u];
      next[static_cast<std::size_t>(j)] = std::move(f);
    }
    table = std::move(next);
  }
  return table[static_cast<std::size_t>(n)];
}

}  // namespace

double smallest_exact_p(int n1, int n2) {
  if (n1 == 0 || n2 == 0) return 1;
  // C(n1+n2, n1) computed in floating point: only its size matters.
  double c = 1;
  for (int k = 1; k <= n1; ++k) c = c * (n2 + k) / k;
  return std::min(1.0, 2 / c);
}

u_test mann_whitney(std::span<const double> a, std::span<const double> b, bool force_normal) {
  u_test r;
  const int n1 = static_cast<int>(a.size()), n2 = static_cast<int>(b.size());
  if (n1 == 0 || n2 == 0) return r;

  // Midranks of the pooled sample, and the tie term sum(t^3 - t) over groups of equal values.
  struct item { double value; bool first; };
  std::vector<item> pooled;
  for (double v : a) pooled.push_back({v, true});
  for (double v : b) pooled.push_back({v, false});
  std::sort(pooled.begin(), pooled.end(), [](const item& x, const item& y) { return x.value < y.value; });
  const std::size_t n = pooled.size();
  double rank_sum_first = 0, tie_term = 0;
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i;
    while (j < n && pooled[j].value == pooled[i].value) ++j;
    const double midrank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2;
    for (std::size_t k = i; k < j; ++k)
      if (pooled[k].first) rank_sum_first += midrank;
    const double t = static_cast<double>(j - i);
    tie_term += t * t * t - t;
    i = j;
  }
  r.u1 = rank_sum_first - n1 * (n1 + 1) / 2.0;
  const double mean = n1 * n2 / 2.0;
  r.smallest_p = smallest_exact_p(n1, n2);

  if (!force_normal && tie_term == 0 && n1 <= exact_limit && n2 <= exact_limit) {
    r.exact = true;
    const std::vector<double> dist = u_distribution(n1, n2);
    const double total = std::accumulate(dist.begin(), dist.end(), 0.0);
    const auto u = static_cast<std::size_t>(std::llround(r.u1));
    double below = 0, above = 0;  // P(U <= u), P(U >= u)
    for (std::size_t k = 0; k < dist.size(); ++k) {
      if (k <= u) below += dist[k];
      if (k >= u) above += dist[k];
    }
    r.p = std::min(1.0, 2 * std::min(below, above) / total);
    return r;
  }

  const double nn = n1 + n2;
  const double variance = n1 * n2 / 12.0 * ((nn + 1) - tie_term / (nn * (nn - 1)));
  if (variance <= 0) return r;  // every value equal: no evidence of any difference
  const double z = std::max(0.0, std::abs(r.u1 - mean) - 0.5) / std::sqrt(variance);
  r.p = std::min(1.0, std::erfc(z / std::sqrt(2.0)));
  return r;
}

}  // namespace coroscope::report
