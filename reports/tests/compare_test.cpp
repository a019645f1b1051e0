#include "compare.hpp"
#include "helpers.hpp"
#include "report.hpp"

#include <gtest/gtest.h>

using namespace coroscope::report;
using namespace coroscope::report::testing;

namespace {

bench_run run_of(const std::string& runtime, std::vector<bench_case> cases, const std::string& date = "2024-01-01") {
  bench_run r;
  r.runtime = runtime;
  r.file = runtime + ".json";
  r.date = date;
  r.cases = std::move(cases);
  return r;
}

}  // namespace

TEST(Verdict, TwentyPercentSlowerOverNineRepetitionsIsARegression) {
  const auto c = compare_case(make_case("BM_A", spread(100, 9, 0.02)), make_case("BM_A", spread(120, 9, 0.02)), {});
  EXPECT_EQ(c.outcome, verdict::regressed);
  EXPECT_NEAR(c.change, 0.2, 1e-9);
  EXPECT_LT(c.test.p, 0.001);
}

TEST(Verdict, TwentyPercentFasterIsAnImprovement) {
  const auto c = compare_case(make_case("BM_A", spread(100, 9, 0.02)), make_case("BM_A", spread(80, 9, 0.02)), {});
  EXPECT_EQ(c.outcome, verdict::improved);
}

TEST(Verdict, TheSameDistributionIsUnchanged) {
  const auto c = compare_case(make_case("BM_A", spread(100, 9, 0.03)), make_case("BM_A", spread(100, 9, 0.03, 0.01)), {});
  EXPECT_EQ(c.outcome, verdict::unchanged);
  EXPECT_GT(c.test.p, 0.5);
}

TEST(Verdict, ThreeRepetitionsAreInconclusiveAndSayWhy) {
  const auto c = compare_case(make_case("BM_A", spread(100, 3, 0.01)), make_case("BM_A", spread(150, 3, 0.01)), {});
  EXPECT_EQ(c.outcome, verdict::inconclusive);
  EXPECT_NE(c.note.find("too few repetitions (3 vs 3)"), std::string::npos) << c.note;
  EXPECT_NE(c.note.find("below 4 a side"), std::string::npos) << c.note;
}

TEST(Verdict, ASignificantChangeBelowTheMinimumEffectIsUnchanged) {
  const auto c = compare_case(make_case("BM_A", spread(100, 9, 0.001)), make_case("BM_A", spread(102, 9, 0.001)), {});
  EXPECT_LT(c.test.p, 0.05);
  EXPECT_EQ(c.outcome, verdict::unchanged);
  EXPECT_NE(c.note.find("below the 5% minimum effect"), std::string::npos) << c.note;
}

TEST(Verdict, TheMinimumEffectIsConfigurable) {
  compare_options opt;
  opt.min_effect = 0.01;
  const auto c = compare_case(make_case("BM_A", spread(100, 9, 0.001)), make_case("BM_A", spread(102, 9, 0.001)), opt);
  EXPECT_EQ(c.outcome, verdict::regressed);
}

TEST(Verdict, ALargeChangeTheRepetitionsDoNotConfirmIsInconclusive) {
  // Medians 10% apart, but the samples interleave: no evidence.
  const auto c = compare_case(make_case("BM_A", {50, 100, 150, 200, 250}), make_case("BM_A", {60, 110, 165, 210, 260}), {});
  EXPECT_GT(c.test.p, 0.05);
  EXPECT_EQ(c.outcome, verdict::inconclusive);
  EXPECT_NE(c.note.find("noisy"), std::string::npos);
}

TEST(Verdict, AnErroredBenchmarkIsAnError) {
  bench_case broken = make_case("BM_A", {});
  broken.error = "socket: too many open files";
  const auto c = compare_case(make_case("BM_A", spread(100, 9, 0.02)), broken, {});
  EXPECT_EQ(c.outcome, verdict::error);
  EXPECT_NE(c.note.find("too many open files"), std::string::npos);
}

TEST(Verdict, UsesWallTimeWhenAsked) {
  bench_case base = make_case("BM_A", spread(100, 9, 0.01)), cur = make_case("BM_A", spread(100, 9, 0.01));
  cur.real_ns = spread(150, 9, 0.01);
  compare_options opt;
  EXPECT_EQ(compare_case(base, cur, opt).outcome, verdict::unchanged);
  opt.which = metric::real;
  EXPECT_EQ(compare_case(base, cur, opt).outcome, verdict::regressed);
}

TEST(CompareRuns, ReportsMissingAndNewBenchmarksAndGuessesARename) {
  const std::vector<bench_run> base{run_of("asio", {make_case("BM_Spawn", spread(100, 9, 0.01)),
                                                    make_case("BM_Gather/fanout:10", spread(100, 9, 0.01)),
                                                    make_case("BM_Chain", spread(100, 9, 0.01))})};
  const std::vector<bench_run> cur{run_of("asio", {make_case("BM_Spawn", spread(100, 9, 0.01)),
                                                   make_case("BM_Gather/n:10", spread(100, 9, 0.01)),
                                                   make_case("BM_Resume", spread(100, 9, 0.01))})};
  const auto set = compare_runs(base, cur, {});
  ASSERT_EQ(set.rows.size(), 1u);
  EXPECT_EQ(set.rows[0].name, "BM_Spawn");
  ASSERT_EQ(set.missing.size(), 2u);
  EXPECT_EQ(set.missing[0].name, "BM_Gather/fanout:10");
  EXPECT_EQ(set.missing[0].maybe_renamed_to, "BM_Gather/n:10");
  EXPECT_EQ(set.missing[1].name, "BM_Chain");
  EXPECT_EQ(set.missing[1].maybe_renamed_to, "");
  ASSERT_EQ(set.added.size(), 2u);
  EXPECT_EQ(set.added[1].name, "BM_Resume");
}

TEST(CompareRuns, MatchesBenchmarksOfTheSameRuntimeOnly) {
  const std::vector<bench_run> base{run_of("asio", {make_case("BM_Spawn", spread(100, 9, 0.01))}),
                                    run_of("floor", {make_case("BM_Spawn", spread(10, 9, 0.01))})};
  const std::vector<bench_run> cur{run_of("floor", {make_case("BM_Spawn", spread(10, 9, 0.01))}),
                                   run_of("asio", {make_case("BM_Spawn", spread(100, 9, 0.01))})};
  const auto set = compare_runs(base, cur, {});
  ASSERT_EQ(set.rows.size(), 2u);
  EXPECT_EQ(set.rows[0].runtime, "floor");  // display order: floor first
  EXPECT_EQ(set.count(verdict::unchanged), 2);
}

TEST(CompareRuns, UsesTheLatestRunOfEachRuntime) {
  const std::vector<bench_run> base{run_of("floor", {make_case("BM_Spawn", spread(10, 9, 0.01))})};
  const std::vector<bench_run> cur{run_of("floor", {make_case("BM_Spawn", spread(10, 9, 0.01))}, "2024-03-01"),
                                   run_of("floor", {make_case("BM_Spawn", spread(20, 9, 0.01))}, "2024-02-01")};
  EXPECT_EQ(compare_runs(base, cur, {}).count(verdict::unchanged), 1);
}

TEST(Analyse, ARegressionFailsWithExitOne) {
  report_input in;
  in.baseline = {run_of("floor", {make_case("BM_Spawn", spread(10, 9, 0.01))})};
  in.bench = {run_of("floor", {make_case("BM_Spawn", spread(13, 9, 0.01))})};
  const auto d = analyse(in, {});
  EXPECT_EQ(d.status, "fail");
  EXPECT_EQ(d.exit_code, 1);
  EXPECT_EQ(d.reasons, std::vector<std::string>{"1 benchmark(s) regressed"});
}

TEST(Analyse, AnErroredBenchmarkGivesExitTwoEvenWithoutABaseline) {
  report_input in;
  bench_case broken = make_case("BM_Echo/64Bx1conn", {});
  broken.error = "bind: address in use";
  in.bench = {run_of("floor", {make_case("BM_Spawn", {10}), broken})};
  const auto d = analyse(in, {});
  EXPECT_EQ(d.status, "error");
  EXPECT_EQ(d.exit_code, 2);
  EXPECT_EQ(d.errors, std::vector<std::string>{"floor: BM_Echo/64Bx1conn: bind: address in use"});
}

TEST(Analyse, ConformanceFailuresFailButLintFindingsOnlyWhenAsked) {
  report_input in;
  conformance_run conf;
  conf.runtime = "coroscope";
  conf.counts = {{"pass", 3}, {"fail", 1}, {"unsupported", 0}, {"note", 0}};
  lint_run lint;
  lint.findings.resize(2);
  in.lint = {lint};
  EXPECT_EQ(analyse(in, {}).exit_code, 0);
  report_options strict;
  strict.fail_on.insert("lint");
  EXPECT_EQ(analyse(in, strict).exit_code, 1);
  in.conformance = {conf};
  const auto d = analyse(in, {});
  EXPECT_EQ(d.exit_code, 1);
  EXPECT_EQ(d.reasons, std::vector<std::string>{"1 conformance scenario(s) failed"});
}

TEST(Analyse, RatiosAreTakenToTheFloorOfTheSameRun) {
  report_input in;
  in.bench = {run_of("asio", {make_case("BM_Spawn", {300, 310, 290})}), run_of("floor", {make_case("BM_Spawn", {15, 14, 16})})};
  const auto d = analyse(in, {});
  ASSERT_NE(d.floor, nullptr);
  EXPECT_DOUBLE_EQ(*d.ratio_to_floor(in.bench[0], "BM_Spawn"), 20.0);
  EXPECT_EQ(d.runs.front()->runtime, "floor");
}
