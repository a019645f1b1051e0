// Known values: scipy.stats.mannwhitneyu's documented example, R's wilcox.test example, and
// closed forms (2 / C(n1+n2, n1) for fully separated samples).
#include "stats.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

using coroscope::report::mann_whitney;
using coroscope::report::smallest_exact_p;

TEST(MannWhitney, MatchesScipysDocumentedExampleExactly) {
  const std::vector<double> males{19, 22, 16, 29, 24}, females{20, 11, 17, 12};
  const auto r = mann_whitney(males, females);
  EXPECT_TRUE(r.exact);
  EXPECT_DOUBLE_EQ(r.u1, 17);
  EXPECT_NEAR(r.p, 0.1111111111111111, 1e-12);
}

TEST(MannWhitney, MatchesScipysDocumentedExampleAsymptotically) {
  const std::vector<double> males{19, 22, 16, 29, 24}, females{20, 11, 17, 12};
  const auto r = mann_whitney(males, females, /*force_normal=*/true);
  EXPECT_FALSE(r.exact);
  EXPECT_NEAR(r.p, 0.11134688653314041, 1e-12);
}

TEST(MannWhitney, MatchesRsWilcoxTestExample) {
  const std::vector<double> x{0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46};
  const std::vector<double> y{1.15, 0.88, 0.90, 0.74, 1.21};
  const auto r = mann_whitney(x, y);
  EXPECT_DOUBLE_EQ(r.u1, 35);  // R prints W = 35; one-sided p = 0.1272, so two-sided 0.2544
  EXPECT_NEAR(r.p, 0.2544122544122544, 1e-12);
}

TEST(MannWhitney, CorrectsTheNormalApproximationForTies) {
  // With ties the exact table does not apply; the value is sum(t^3 - t) corrected, continuity corrected.
  const std::vector<double> a{1, 2, 2, 3, 3, 3, 4, 5}, b{3, 4, 4, 5, 5, 6, 6, 7, 8};
  const auto r = mann_whitney(a, b);
  EXPECT_FALSE(r.exact);
  EXPECT_DOUBLE_EQ(r.u1, 7.5);
  EXPECT_NEAR(r.p, 0.006373133838085877, 1e-12);
}

TEST(MannWhitney, FourAgainstFourFullySeparatedGivesTwoOverSeventy) {
  const std::vector<double> a{1, 2, 3, 4}, b{5, 6, 7, 8};
  EXPECT_NEAR(mann_whitney(a, b).p, 2.0 / 70, 1e-15);
  EXPECT_NEAR(mann_whitney(b, a).p, 2.0 / 70, 1e-15);
}

TEST(MannWhitney, ThreeAgainstThreeCanNeverReachFivePercent) {
  EXPECT_NEAR(smallest_exact_p(3, 3), 0.1, 1e-15);
  EXPECT_NEAR(smallest_exact_p(4, 4), 2.0 / 70, 1e-15);
  const std::vector<double> a{1, 2, 3}, b{10, 20, 30};
  EXPECT_NEAR(mann_whitney(a, b).p, 0.1, 1e-15);
}

TEST(MannWhitney, NineAgainstNineSeparatedMatchesBothMethods) {
  std::vector<double> a, b;
  for (int i = 0; i < 9; ++i) {
    a.push_back(i);
    b.push_back(10 + i);
  }
  EXPECT_NEAR(mann_whitney(a, b).p, 2.0 / 48620, 1e-15);
  EXPECT_NEAR(mann_whitney(a, b, true).p, 0.0004122948020616911, 1e-12);
}

TEST(MannWhitney, AllValuesEqualGivePOne) {
  const std::vector<double> a{5, 5, 5, 5}, b{5, 5, 5};
  EXPECT_DOUBLE_EQ(mann_whitney(a, b).p, 1);
}

// Brute force: every way of splitting the pooled ranks into the two samples.
double permutation_p(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> pooled(a);
  pooled.insert(pooled.end(), b.begin(), b.end());
  auto u_of = [](const std::vector<double>& x, const std::vector<double>& y) {
    double u = 0;
    for (double p : x)
      for (double q : y) u += p > q ? 1 : p == q ? 0.5 : 0;
    return u;
  };
  const double u = u_of(a, b);
  std::vector<bool> pick(pooled.size(), false);
  std::fill(pick.begin(), pick.begin() + static_cast<long>(a.size()), true);
  double below = 0, above = 0, total = 0;
  do {
    std::vector<double> x, y;
    for (std::size_t i = 0; i < pooled.size(); ++i) (pick[i] ? x : y).push_back(pooled[i]);
    const double v = u_of(x, y);
    total += 1;
    below += v <= u;
    above += v >= u;
  } while (std::prev_permutation(pick.begin(), pick.end()));
  return std::min(1.0, 2 * std::min(below, above) / total);
}

TEST(MannWhitney, ExactPAgreesWithBruteForceOnRandomSamples) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> value(0, 1);
  for (int trial = 0; trial < 40; ++trial) {
    const int n1 = 1 + trial % 6, n2 = 1 + (trial / 6) % 7;
    std::vector<double> a, b;
    for (int i = 0; i < n1; ++i) a.push_back(value(rng));
    for (int i = 0; i < n2; ++i) b.push_back(value(rng) + 0.1 * (trial % 3));
    const auto r = mann_whitney(a, b);
    ASSERT_TRUE(r.exact);
    EXPECT_NEAR(r.p, permutation_p(a, b), 1e-12) << "n1=" << n1 << " n2=" << n2;
    EXPECT_NEAR(r.u1 + mann_whitney(b, a).u1, n1 * n2, 1e-12);
  }
}
