#include "cli.hpp"
#include "helpers.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

using coroscope::report::run_cli;
using coroscope::report::testing::fixture;

namespace {

struct result {
  int code;
  std::string out, err;
};

result run(std::vector<std::string> args) {
  std::ostringstream out, err;
  const int code = run_cli(args, out, err);
  return {code, out.str(), err.str()};
}

}  // namespace

TEST(Cli, HelpDocumentsEveryFlag) {
  const auto r = run({"--help"});
  EXPECT_EQ(r.code, 0);
  for (const char* flag : {"--bench", "--current", "--baseline", "--conformance", "--lint", "--out", "--title",
                           "--metric", "--alpha", "--min-effect", "--fail-on", "--help", "--version"})
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag;
}

TEST(Cli, RenderIsAnotherNameForReport) {
  const std::string dir = ::testing::TempDir() + "/coroscope-report-render";
  const auto r = run({"render", "--bench", fixture("report_floor.json"), "--out", dir});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::exists(dir + "/report.html"));
}

TEST(Cli, AnUnknownOptionIsAUsageError) {
  const auto r = run({"report", "--out", "x", "--colour", "red"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("unknown option '--colour'"), std::string::npos);
}

TEST(Cli, CompareWithoutABaselineIsAUsageError) {
  const auto r = run({"compare", "--current", fixture("compare_slow20.json")});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("compare needs --baseline"), std::string::npos);
}

TEST(Cli, ABadNumberNamesTheFlag) {
  const auto r = run({"compare", "--baseline", "a", "--current", "b", "--min-effect=lots"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--min-effect: 'lots' is not a number"), std::string::npos) << r.err;
}

TEST(Cli, InvalidInputNamesTheFileAndField) {
  const auto r = run({"report", "--out", ::testing::TempDir() + "/bad", "--bench", fixture("conformance.json")});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("conformance.json: field 'benchmarks': missing"), std::string::npos) << r.err;
}

TEST(Cli, CompareFlagsTheSlowdownOnStdout) {
  const auto r = run({"compare", "--baseline", fixture("compare_baseline.json"), "--current", fixture("compare_slow20.json")});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("| regressed | coroscope | BM\\_Spawn |"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("coroscope-report: fail: 4 benchmark(s) regressed"), std::string::npos) << r.err;
}

TEST(Cli, ReportWritesMarkdownHtmlAndVerdict) {
  const std::string dir = ::testing::TempDir() + "/coroscope-report-cli";
  std::filesystem::remove_all(dir);
  const auto r = run({"report", "--out=" + dir, "--bench", fixture("report_floor.json"), "--bench",
                      fixture("report_asio.json"), "--conformance", fixture("conformance.json"), "--lint",
                      fixture("lint.sarif"), "--fail-on", "none"});
  EXPECT_EQ(r.code, 0) << r.err;
  for (const char* f : {"report.md", "report.html", "verdict.json"})
    EXPECT_GT(std::filesystem::file_size(dir + "/" + f), 100u) << f;
}
