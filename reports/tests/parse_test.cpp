#include "helpers.hpp"
#include "json_input.hpp"
#include "model.hpp"

#include <gtest/gtest.h>

#include <cmath>

using namespace coroscope::report;
using namespace coroscope::report::testing;

namespace {

std::string error_of(auto&& fn) {
  try {
    fn();
  } catch (const input_error& e) {
    return e.what();
  }
  return "(no error)";
}

constexpr const char* two_reps = R"({
  "context": {"date": "2024-05-01T10:00:00", "runtime": "floor", "num_cpus": 2},
  "benchmarks": [
    {"name": "BM_Spawn", "run_name": "BM_Spawn", "run_type": "iteration", "repetitions": 2, "repetition_index": 0,
     "iterations": 1000, "real_time": 16.0, "cpu_time": 15.0, "time_unit": "ns", "items_per_second": 6.0e7},
    {"name": "BM_Spawn", "run_name": "BM_Spawn", "run_type": "iteration", "repetitions": 2, "repetition_index": 1,
     "iterations": 1000, "real_time": 18.0, "cpu_time": 17.0, "time_unit": "ns", "items_per_second": 8.0e7},
    {"name": "BM_Spawn_mean", "run_name": "BM_Spawn", "run_type": "aggregate", "aggregate_name": "mean",
     "iterations": 2, "real_time": 17.0, "cpu_time": 16.0, "time_unit": "ns"}
  ]
})";

}  // namespace

TEST(BenchParse, ReadsEachRepetitionAsOneSampleAndIgnoresAggregates) {
  const bench_run run = parse_bench_text(two_reps, "two.json");
  ASSERT_EQ(run.cases.size(), 1u);
  EXPECT_EQ(run.runtime, "floor");
  EXPECT_EQ(run.context.at("num_cpus"), "2");
  const bench_case& c = run.cases[0];
  EXPECT_EQ(c.name, "BM_Spawn");
  EXPECT_EQ(c.cpu_ns, (std::vector<double>{15.0, 17.0}));
  EXPECT_EQ(c.real_ns, (std::vector<double>{16.0, 18.0}));
  EXPECT_DOUBLE_EQ(c.median(metric::cpu), 16.0);
  EXPECT_DOUBLE_EQ(c.counters.at("items_per_second"), 7.0e7);
  EXPECT_EQ(c.iterations, 1000);
  EXPECT_FALSE(c.aggregates_only);
}

TEST(BenchParse, AcceptsTheBareNaNAndInfinityGoogleBenchmarkWrites) {
  const bench_run run = parse_bench_text(R"({"benchmarks":[
    {"name":"BM_A","run_type":"iteration","real_time":1,"cpu_time":1,"time_unit":"ns","rate":NaN,"big":Infinity,
     "small":-Infinity,"label":"NaN Infinity stays text"}]})", "nan.json");
  const bench_case& c = run.cases.at(0);
  EXPECT_TRUE(std::isnan(c.counters.at("rate")));
  EXPECT_EQ(c.counters.at("big"), INFINITY);
  EXPECT_EQ(c.counters.at("small"), -INFINITY);
  EXPECT_EQ(c.counters.count("label"), 0u);
}

TEST(BenchParse, TakesTheRuntimeFromTheFileNameWhenTheContextHasNone) {
  const bench_run run = parse_bench_text(R"({"benchmarks":[]})", "some/dir/asio.json");
  EXPECT_EQ(run.runtime, "asio");
  EXPECT_TRUE(run.cases.empty());
}

TEST(BenchParse, ConvertsTimeUnitsToNanoseconds) {
  const bench_run run = parse_bench_text(R"({"benchmarks":[
    {"name":"BM_Us","real_time":2,"cpu_time":1.5,"time_unit":"us"},
    {"name":"BM_Ms","real_time":2,"cpu_time":3,"time_unit":"ms"},
    {"name":"BM_S","real_time":2,"cpu_time":0.25,"time_unit":"s"}]})", "units.json");
  EXPECT_DOUBLE_EQ(run.cases[0].cpu_ns.at(0), 1500);
  EXPECT_DOUBLE_EQ(run.cases[1].cpu_ns.at(0), 3e6);
  EXPECT_DOUBLE_EQ(run.cases[2].cpu_ns.at(0), 2.5e8);
}

TEST(BenchParse, FallsBackToTheMedianWhenOnlyAggregatesWereWritten) {
  const bench_run run = parse_bench_text(R"({"benchmarks":[
    {"name":"BM_A_mean","run_name":"BM_A","run_type":"aggregate","aggregate_name":"mean","real_time":9,"cpu_time":9,"time_unit":"ns"},
    {"name":"BM_A_median","run_name":"BM_A","run_type":"aggregate","aggregate_name":"median","real_time":8,"cpu_time":7,"time_unit":"ns"}]})",
                                         "agg.json");
  const bench_case& c = run.cases.at(0);
  EXPECT_TRUE(c.aggregates_only);
  EXPECT_EQ(c.cpu_ns, std::vector<double>{7});
}

TEST(BenchParse, KeepsTheMessageOfABenchmarkThatErrored) {
  const bench_run run = parse_bench_text(R"({"benchmarks":[
    {"name":"BM_Echo/64Bx1conn","run_type":"iteration","error_occurred":true,"error_message":"connect: refused",
     "iterations":0,"real_time":0,"cpu_time":0,"time_unit":"ns"}]})", "err.json");
  ASSERT_TRUE(run.cases.at(0).error.has_value());
  EXPECT_EQ(*run.cases[0].error, "connect: refused");
}

TEST(BenchParse, ReadsSkippedWorkloadsAndTheirReasonsFromTheContext) {
  const bench_run run = parse_bench_text(
      R"({"context":{"skipped_workloads":"BM_Queue/pipeline=needs a queue;BM_Echo/64Bx1conn=no sockets yet"},"benchmarks":[]})",
      "skip.json");
  ASSERT_EQ(run.skipped.size(), 2u);
  EXPECT_EQ(run.skipped.at("BM_Queue/pipeline"), "needs a queue");
  EXPECT_EQ(run.skipped.at("BM_Echo/64Bx1conn"), "no sockets yet");
}

TEST(BenchParse, NamesFileLineAndColumnOfASyntaxError) {
  const std::string msg = error_of([] { parse_bench_text("{\n  \"benchmarks\": [\n    {\"name\": }\n]}", "bad.json"); });
  EXPECT_NE(msg.find("bad.json: line 3, column 14: syntax error"), std::string::npos) << msg;
}

TEST(BenchParse, NamesTheFieldThatHasTheWrongType) {
  const std::string msg = error_of([] {
    parse_bench_text(R"({"benchmarks":[{"name":"BM_A","real_time":1,"cpu_time":1},{"name":"BM_B","real_time":1,"cpu_time":"fast"}]})",
                     "types.json");
  });
  EXPECT_EQ(msg, "types.json: benchmarks[1].cpu_time: expected a number");
}

TEST(BenchParse, NamesAMissingBenchmarksArray) {
  EXPECT_EQ(error_of([] { parse_bench_text(R"({"context":{}})", "empty.json"); }),
            "empty.json: benchmarks: missing");
}

TEST(BenchParse, RejectsAnUnknownTimeUnitByName) {
  EXPECT_EQ(error_of([] { parse_bench_text(R"({"benchmarks":[{"name":"BM_A","real_time":1,"cpu_time":1,"time_unit":"min"}]})", "u.json"); }),
            "u.json: benchmarks[0].time_unit: unknown time unit 'min' (expected ns, us, ms or s)");
}

TEST(BenchParse, ReadsTheCommittedFixtureWithNaNCounters) {
  const bench_run run = parse_bench_json(fixture("report_uvloop.json"));
  EXPECT_EQ(run.runtime, "uvloop");
  ASSERT_NE(run.find("BM_Gather/fanout:10"), nullptr);
  EXPECT_EQ(run.find("BM_Gather/fanout:10")->cpu_ns.size(), 3u);
  EXPECT_TRUE(std::isnan(run.find("BM_Gather/fanout:10")->counters.at("items_per_second")));
}

TEST(ConformanceParse, CountsScenariosByStatus) {
  const auto runs = parse_conformance_json(fixture("conformance.json"));
  ASSERT_EQ(runs.size(), 1u);
  const conformance_run& run = runs[0];
  EXPECT_EQ(run.runtime, "coroscope");
  EXPECT_EQ(run.scenarios.size(), 5u);
  EXPECT_EQ(run.counts.at("pass"), 2);
  EXPECT_EQ(run.failures(), 1);
  EXPECT_EQ(run.scenarios[0].expected, R"(["start","end"])");
  EXPECT_EQ(run.scenarios[3].expected, "");
  EXPECT_DOUBLE_EQ(run.scenarios[2].duration, 0.0011);
}

TEST(ConformanceParse, ReadsEveryRunOfCoroscopeConformOutput) {
  const auto runs = parse_conformance_text(R"({"tool":"coroscope-conform","schema":1,"runs":[
    {"runtime":"reference","summary":{"total":2,"pass":1,"fail":1,"unsupported":0,"note":0},
     "scenarios":[{"id":"CAN-001","group":"cancellation","status":"pass","duration":0.001,"message":"",
                   "expected":[["start","a"]],"actual":[["start","a"]]},
                  {"id":"CAN-002","group":"cancellation","status":"fail","duration":0.002,"message":"trace differs",
                   "expected":[["end","a"]],"actual":[]}]},
    {"runtime":"asio","summary":{"total":1,"unsupported":1},
     "scenarios":[{"id":"CAN-001","group":"cancellation","status":"unsupported","duration":0,"message":"no cancel"}]}]})",
                                           "conform.json");
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].runtime, "reference");
  EXPECT_EQ(runs[0].failures(), 1);
  EXPECT_EQ(runs[0].scenarios[1].message, "trace differs");
  EXPECT_EQ(runs[0].scenarios[1].expected, R"([["end","a"]])");
  EXPECT_EQ(runs[1].runtime, "asio");
  EXPECT_EQ(runs[1].counts.at("unsupported"), 1);
}

TEST(ConformanceParse, NamesTheRunOfABadScenario) {
  EXPECT_EQ(error_of([] { parse_conformance_text(R"({"schema":1,"runs":[{"runtime":"x","scenarios":[{"id":"A","status":"passed"}]}]})", "c.json"); }),
            "c.json: runs[0].scenarios[0].status: 'passed' is not one of pass, fail, unsupported, note, crash, timeout");
}

TEST(ConformanceParse, RejectsAnUnknownStatusNamingTheScenario) {
  EXPECT_EQ(error_of([] { parse_conformance_text(R"({"scenarios":[{"id":"T-1","status":"pass"},{"id":"T-2","status":"ok"}]})", "c.json"); }),
            "c.json: scenarios[1].status: 'ok' is not one of pass, fail, unsupported, note, crash, timeout");
}

TEST(ConformanceParse, CountsCrashesAndTimeoutsAsFailures) {
  auto runs = parse_conformance_text(
      R"({"scenarios":[{"id":"T-1","status":"crash"},{"id":"T-2","status":"timeout"},{"id":"T-3","status":"pass"}],"summary":{"crash":1,"timeout":1}})",
      "c.json");
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].failures(), 2);
}

TEST(ConformanceParse, RejectsASummaryThatDisagreesWithTheScenarios) {
  EXPECT_EQ(error_of([] { parse_conformance_text(R"({"scenarios":[{"id":"T-1","status":"fail"}],"summary":{"pass":0,"fail":0}})", "c.json"); }),
            "c.json: summary.fail: says 0 but the scenarios list has 1");
}

TEST(ConformanceParse, RejectsAnotherSchemaVersion) {
  EXPECT_EQ(error_of([] { parse_conformance_text(R"({"version":2,"scenarios":[]})", "c.json"); }),
            "c.json: version: unsupported version (this tool reads version 1)");
}

TEST(LintParse, ReadsCoroscopeLintJson) {
  const lint_run run = parse_lint_json(fixture("lint.json"));
  EXPECT_EQ(run.format, "json");
  ASSERT_EQ(run.findings.size(), 2u);
  const lint_finding& f = run.findings[0];
  EXPECT_EQ(f.rule, "blocking-call-in-coroutine");
  EXPECT_EQ(f.file, "src/server.cpp");
  EXPECT_EQ(f.line, 42);
  EXPECT_EQ(f.column, 7);
  EXPECT_EQ(f.function, "handle_client");
  EXPECT_EQ(f.callee, "std::this_thread::sleep_for");
  EXPECT_EQ(f.category, "blocking");
  EXPECT_EQ(f.notes, std::vector<std::string>{"src/server.cpp:30: coroutine starts here"});
  EXPECT_EQ(run.by_rule().at("unawaited-task"), 1);
}

TEST(LintParse, ReadsTheSameFindingFromSarif) {
  const lint_run run = parse_lint_json(fixture("lint.sarif"));
  EXPECT_EQ(run.format, "sarif");
  EXPECT_EQ(run.tool, "coroscope-lint");
  ASSERT_EQ(run.findings.size(), 1u);
  const lint_finding& f = run.findings[0];
  EXPECT_EQ(f.rule, "blocking-call-in-coroutine");
  EXPECT_EQ(f.file, "src/server.cpp");
  EXPECT_EQ(f.line, 42);
  EXPECT_EQ(f.column, 7);
  EXPECT_EQ(f.function, "handle_client");
  EXPECT_EQ(f.notes, std::vector<std::string>{"src/server.cpp:30: coroutine starts here"});
}

TEST(LintParse, RejectsSarifOtherThan210) {
  EXPECT_EQ(error_of([] { parse_lint_text(R"({"version":"2.0.0","runs":[]})", "l.sarif"); }),
            "l.sarif: version: only SARIF 2.1.0 is read");
}

TEST(LintParse, RejectsAFindingWithoutALine) {
  EXPECT_EQ(error_of([] { parse_lint_text(R"({"version":1,"findings":[{"rule":"r","file":"f","message":"m"}]})", "l.json"); }),
            "l.json: findings[0].line: missing");
}

// Hostile but well-formed inputs: each is an input error naming the file, the field and the limit, never a
// crash (these crashed or were silently misread before the limits existed).
TEST(Limits, ADeeplyNestedActualTraceIsAnInputErrorNotAStackOverflow) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  const std::string msg = error_of([&] {
    parse_conformance_text(R"({"version":1,"scenarios":[{"id":"A","status":"fail","actual":)" + deep + "}]}", "c.json");
  });
  EXPECT_EQ(msg, "c.json: nested deeper than the limit of 64 levels");
}

TEST(Limits, ALineNumberBeyondIntIsAnInputErrorNamingTheRange) {
  EXPECT_EQ(error_of([] { parse_lint_text(R"({"version":1,"findings":[{"rule":"r","file":"f","line":1e300,"message":"m"}]})", "l.json"); }),
            "l.json: findings[0].line: expected a whole number from 0 to 2147483647, got 1e+300");
  EXPECT_EQ(error_of([] { parse_lint_text(R"({"version":1,"findings":[{"rule":"r","file":"f","line":3,"column":-1,"message":"m"}]})", "l.json"); }),
            "l.json: findings[0].column: expected a whole number from 0 to 2147483647, got -1");
  EXPECT_EQ(error_of([] {
              parse_lint_text(R"({"version":"2.1.0","runs":[{"results":[{"message":{"text":"m"},"locations":[{"physicalLocation":{"region":{"startLine":2.5}}}]}]}]})",
                              "l.sarif");
            }),
            "l.sarif: runs[0].results[0].locations[0].physicalLocation.region.startLine: expected a whole number from 0 to "
            "2147483647, got 2.5");
}

TEST(Limits, IterationsThatAreNotAWholeCountAreAnInputError) {
  EXPECT_EQ(error_of([] { parse_bench_text(R"({"benchmarks":[{"name":"BM_A","real_time":1,"cpu_time":1,"iterations":1e300}]})", "b.json"); }),
            "b.json: benchmarks[0].iterations: expected a whole number from 0 to 9007199254740992, got 1e+300");
}

TEST(Limits, ANaNDurationIsAnInputError) {
  EXPECT_EQ(error_of([] { parse_conformance_text(R"({"version":1,"scenarios":[{"id":"A","status":"pass","duration":NaN}]})", "c.json"); }),
            "c.json: scenarios[0].duration: not a finite, non-negative number of seconds");
}

TEST(Limits, ADirectoryGivenAsAnInputIsNamedAsOne) {
  EXPECT_EQ(error_of([] { parse_bench_json(COROSCOPE_REPORT_FIXTURES); }),
            std::string(COROSCOPE_REPORT_FIXTURES) + ": is a directory, not a file");
}

// Found by the report_sarif fuzzer: nlohmann reports a number beyond a double as out_of_range, not as a
// syntax error, and it escaped as an uncaught exception.
TEST(Limits, ANumberBeyondADoubleIsAnInputErrorNamingTheFile) {
  EXPECT_EQ(error_of([] { parse_bench_text(R"({"benchmarks":[{"name":"BM_A","cpu_time":1,"real_time":1e3300}]})", "b.json"); }),
            "b.json: number overflow parsing '1e3300'");
}
