#include "helpers.hpp"
#include "report.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>

using namespace coroscope::report;
using namespace coroscope::report::testing;

namespace {

report_input fixture_input() {
  report_input in;
  for (const char* rt : {"uvloop", "asio", "floor", "asyncio", "coroscope"})
    in.bench.push_back(parse_bench_json(fixture(std::string("report_") + rt + ".json")));
  in.baseline.push_back(parse_bench_json(fixture("compare_baseline.json")));
  in.conformance = parse_conformance_json(fixture("conformance.json"));
  in.lint.push_back(parse_lint_json(fixture("lint.json")));
  return in;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

// To accept a deliberate change: COROSCOPE_UPDATE_GOLDEN=1 ctest -R Markdown.MatchesTheGoldenFile
TEST(Markdown, MatchesTheGoldenFile) {
  const report_input in = fixture_input();
  const std::string md = render_markdown(analyse(in, {}));
  const std::string golden_path = std::string(COROSCOPE_REPORT_GOLDEN) + "/report.md";
  if (std::getenv("COROSCOPE_UPDATE_GOLDEN")) std::ofstream(golden_path, std::ios::binary) << md;
  EXPECT_EQ(md, read(golden_path)) << "golden: " << golden_path;
}

TEST(Markdown, ShowsRatiosToTheFloorAndSkippedWorkloads) {
  const report_input in = fixture_input();
  const std::string md = render_markdown(analyse(in, {}));
  EXPECT_NE(md.find("| BM\\_Spawn | 15.2 ns | 21.2 ns (1.40×) | 379 ns (25.0×) |"), std::string::npos) << md;
  EXPECT_NE(md.find("- coroscope, BM\\_Queue/pipeline: needs coroscope::queue (issue 3)"), std::string::npos);
}

TEST(Markdown, ShowsInstructionCountsBesideTheTimesOfTheSameRuntime) {
  report_input in = fixture_input();
  in.bench.push_back(parse_bench_text(R"({"context":{"runtime":"coroscope","mode":"instructions","date":"2099-01-01"},
    "benchmarks":[{"name":"BM_Spawn","run_name":"BM_Spawn","run_type":"iteration","iterations":2000,
                   "real_time":0,"cpu_time":0,"time_unit":"ns","instructions_per_op":870.4}]})",
                                      "coroscope-instructions.json"));
  const report_data d = analyse(in, {});
  const std::string md = render_markdown(d);
  // The count joins the timing run's cell; an instruction run (no times) is not a column of its own.
  EXPECT_NE(md.find("| BM\\_Spawn | 15.2 ns | 21.2 ns (1.40×), 870 instr | 379 ns (25.0×) |"), std::string::npos) << md;
  EXPECT_NE(render_html(d).find("870 instr"), std::string::npos);
}

TEST(Markdown, StaysUnderTheStepSummaryLimitWithThousandsOfFindings) {
  report_input in = fixture_input();
  lint_run lint;
  lint.tool = "coroscope-lint";
  lint.format = "json";
  for (int i = 0; i < 5000; ++i)
    lint.findings.push_back({"blocking-call-in-coroutine", "src/file_" + std::to_string(i) + ".cpp",
                             "a long message that repeats to fill the summary quickly, again and again", "f", "g", "c",
                             i, 1, {}});
  in.lint = {lint};
  const std::string md = render_markdown(analyse(in, {}));
  EXPECT_LT(md.size(), 65536u);
  EXPECT_NE(md.find("more findings in report.html"), std::string::npos);
  EXPECT_NE(md.find("## Benchmarks"), std::string::npos);  // the important part survives
}

TEST(Markdown, EscapesTablePipesAndMarkupInNames) {
  report_input in;
  bench_run run;
  run.runtime = "floor";
  run.cases.push_back(make_case("BM_X/a|b<img src=x>", {1, 2, 3}));
  in.bench = {run};
  const std::string md = render_markdown(analyse(in, {}));
  EXPECT_NE(md.find("BM\\_X/a\\|b&lt;img src=x&gt;"), std::string::npos) << md;
  EXPECT_EQ(md.find("<img"), std::string::npos);
}

TEST(Html, EscapesEveryNameFromTheInputs) {
  report_input in = fixture_input();
  in.bench[0].cases.push_back(make_case("BM_<script>alert(1)</script>", {1, 2, 3}));
  in.bench[0].runtime = "uv\"loop'<b>";
  in.conformance[0].scenarios[0].id = "T-1<iframe>";
  in.lint[0].findings[0].message = "<svg onload=alert(1)>";
  const std::string html = render_html(analyse(in, {}));
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<iframe"), std::string::npos);
  EXPECT_EQ(html.find("<b>"), std::string::npos);
  EXPECT_EQ(html.find("<svg onload"), std::string::npos);
  EXPECT_NE(html.find("BM_&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("uv&quot;loop&#39;&lt;b&gt;"), std::string::npos);
}

TEST(Html, NeedsNoNetworkAndNoScript) {
  const report_input in = fixture_input();
  const std::string html = render_html(analyse(in, {}));
  // The only URL is the SVG namespace name, which is never fetched.
  const std::string without_ns = std::regex_replace(html, std::regex("xmlns=\"http://www.w3.org/2000/svg\""), "");
  EXPECT_EQ(without_ns.find("http"), std::string::npos);
  EXPECT_EQ(without_ns.find("src="), std::string::npos);
  EXPECT_EQ(without_ns.find("url("), std::string::npos);
  EXPECT_EQ(without_ns.find("<script"), std::string::npos);
}

TEST(Html, DrawsOneRatioBarPerRuntimeAndWorkloadAndAScalingLinePerRuntime) {
  const report_input in = fixture_input();
  const std::string html = render_html(analyse(in, {}));
  const auto start = html.find("id=\"ratio-chart\""), end = html.find("</svg>", start);
  ASSERT_NE(start, std::string::npos);
  // 4 runtimes besides the floor x 6 workloads, minus coroscope's missing fanout:100000.
  EXPECT_EQ(count(html.substr(start, end - start), "class=\"bar\""), 23u);
  // BM_Gather/fanout has 3 sizes: a line for floor, asio, asyncio, uvloop, and coroscope (2 sizes).
  EXPECT_EQ(count(html, "class=\"chart scaling\""), 1u);
  EXPECT_EQ(count(html, "class=\"line\""), 5u);
  EXPECT_NE(html.find("id=\"compare-chart\""), std::string::npos);
}

TEST(Html, DrawsHistoryWhenARuntimeHasSeveralRuns) {
  report_input in;
  in.bench.push_back(parse_bench_json(fixture("compare_baseline.json")));
  in.bench.push_back(parse_bench_json(fixture("compare_slow20.json")));
  const std::string html = render_html(analyse(in, {}));
  EXPECT_EQ(count(html, "class=\"chart history\""), 1u);
  EXPECT_NE(html.find("coroscope: each workload relative to its first run"), std::string::npos);
}

TEST(VerdictJson, CarriesStatusExitCodeAndEveryComparison) {
  report_input in;
  in.baseline.push_back(parse_bench_json(fixture("compare_baseline.json")));
  in.bench.push_back(parse_bench_json(fixture("compare_slow20.json")));
  const auto v = nlohmann::json::parse(render_verdict_json(analyse(in, {})));
  EXPECT_EQ(v["status"], "fail");
  EXPECT_EQ(v["exit_code"], 1);
  EXPECT_EQ(v["comparison"]["counts"]["regressed"], 4);
  ASSERT_EQ(v["comparison"]["results"].size(), 4u);
  EXPECT_EQ(v["comparison"]["results"][0]["name"], "BM_Spawn");
  EXPECT_EQ(v["comparison"]["results"][0]["verdict"], "regressed");
  EXPECT_EQ(v["comparison"]["results"][0]["repetitions"], nlohmann::json::array({9, 9}));
}

TEST(Format, PrintsThreeSignificantDigitsWithUnits) {
  EXPECT_EQ(format_time(15.234), "15.2 ns");
  EXPECT_EQ(format_time(1470), "1.47 µs");
  EXPECT_EQ(format_time(152e6), "152 ms");
  EXPECT_EQ(format_time(2.5e9), "2.50 s");
  EXPECT_EQ(format_ratio(1.404), "1.40×");
  EXPECT_EQ(format_ratio(230), "230×");
  EXPECT_EQ(format_bytes(96), "96 B");
  EXPECT_EQ(format_percent(0.2), "+20.0%");
  EXPECT_EQ(format_p(0.00001), "<0.0001");
}

// One absurd name used to push the benchmarks table past the summary limit, and the cut at a line boundary
// then dropped the whole table.
TEST(Markdown, AHundredKilobyteBenchmarkNameIsCutNotTheTable) {
  report_input in;
  bench_run run;
  run.runtime = "coroscope";
  run.cases.push_back(make_case("BM_Short", {10, 11, 12}));
  run.cases.push_back(make_case("BM_Huge/" + std::string(100000, 'x'), {10, 11, 12}));
  run.cases.push_back(make_case("BM_After", {10, 11, 12}));
  in.bench.push_back(run);
  const std::string md = render_markdown(analyse(in, {}));
  EXPECT_LT(md.size(), 65536u);
  EXPECT_NE(md.find("| BM\\_Short |"), std::string::npos) << md.substr(0, 2000);
  EXPECT_NE(md.find("| BM\\_After |"), std::string::npos);
  EXPECT_NE(md.find("| BM\\_Huge/" + std::string(192, 'x') + " … |"), std::string::npos);
  EXPECT_EQ(md.find("truncated"), std::string::npos);
}

TEST(Html, ANameEndingInHundredsOfDigitsIsNoScalingFamily) {
  report_input in;
  bench_run run;
  run.runtime = "coroscope";
  run.cases.push_back(make_case("BM_Gather/n:" + std::string(400, '9'), {10, 11, 12}));
  run.cases.push_back(make_case("BM_Gather/n:10", {10, 11, 12}));
  in.bench.push_back(run);
  std::string html;
  EXPECT_NO_THROW(html = render_html(analyse(in, {})));
  EXPECT_NE(html.find("BM_Gather/n:999999"), std::string::npos);
}

TEST(Markdown, ANaNBytesPerTaskCounterShowsNotApplicable) {
  report_input in;
  bench_run run;
  run.runtime = "coroscope";
  run.cases.push_back(make_case("BM_Memory", {10, 11, 12}));
  run.cases.back().counters["bytes_per_task"] = std::nan("");
  in.bench.push_back(run);
  const std::string md = render_markdown(analyse(in, {}));
  EXPECT_NE(md.find("| BM\\_Memory | n/a |"), std::string::npos) << md;
}

TEST(Outputs, EveryFileStartsWithItsGeneratorMarker) {
  const report_input in = fixture_input();
  const report_data d = analyse(in, {});
  EXPECT_EQ(render_markdown(d).rfind(markdown_marker, 0), 0u);
  EXPECT_LT(render_html(d).find(html_marker), 200u);
  const std::string verdict = render_verdict_json(d);
  EXPECT_LT(verdict.find(verdict_marker), 10u) << verdict.substr(0, 100);
  EXPECT_EQ(nlohmann::json::parse(verdict).at("generator"), "coroscope-report");
}

// log10 of a time that underflows to 0 is -inf: the chart's grid loop used to count up from it forever.
TEST(Html, TimesThatUnderflowOrRatiosThatOverflowStillDrawAChart) {
  report_input in;
  bench_run floor, run;
  floor.runtime = "floor";
  run.runtime = "coroscope";
  floor.cases.push_back(make_case("BM_G/n:10", {5e-324, 5e-324, 5e-324}));
  floor.cases.push_back(make_case("BM_G/n:100", {1e300, 1e300, 1e300}));
  run.cases.push_back(make_case("BM_G/n:10", {1e300, 1e300, 1e300}));
  run.cases.push_back(make_case("BM_G/n:100", {5e-324, 5e-324, 5e-324}));
  in.bench = {floor, run};
  const std::string html = render_html(analyse(in, {}));
  EXPECT_NE(html.find("BM_G/n: time per element"), std::string::npos);
  EXPECT_EQ(html.find("inf"), std::string::npos);
  EXPECT_EQ(html.find("nan"), std::string::npos);
}
