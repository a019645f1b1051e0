#include "cli.hpp"
#include "helpers.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
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

namespace fs = std::filesystem;

// A fresh --out directory per test.
std::string fresh_dir(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "/coroscope-report-" + name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void write(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

result report_into(const std::string& dir, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"report", "--out", dir, "--bench", fixture("report_floor.json")};
  args.insert(args.end(), extra.begin(), extra.end());
  return run(args);
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
  EXPECT_NE(r.err.find("conformance.json: benchmarks: missing"), std::string::npos) << r.err;
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

TEST(Cli, HelpStatesWhatOutWritesAndWhatItRefuses) {
  const auto r = run({"--help"});
  for (const char* text : {"report.md", "report.html", "verdict.json", "--force", "symbolic link", "generator marker",
                           "256 MiB", "64 levels"})
    EXPECT_NE(r.out.find(text), std::string::npos) << text;
}

TEST(CliOut, ReplacesTheFilesItWroteItself) {
  const std::string dir = fresh_dir("rerun");
  ASSERT_EQ(report_into(dir).code, 0);
  const auto r = report_into(dir, {"--title", "second"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(read(dir + "/report.md").find("# second"), std::string::npos);
}

TEST(CliOut, RefusesToReplaceAUsersOwnReportAndWritesNothing) {
  const std::string dir = fresh_dir("users-file");
  write(dir + "/report.md", "# my own notes\n");
  const auto r = report_into(dir);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find(dir + "/report.md: exists and was not written by coroscope-report"), std::string::npos) << r.err;
  EXPECT_EQ(read(dir + "/report.md"), "# my own notes\n");
  EXPECT_FALSE(fs::exists(dir + "/report.html"));
  EXPECT_FALSE(fs::exists(dir + "/verdict.json"));
}

TEST(CliOut, ForceReplacesAUsersOwnReport) {
  const std::string dir = fresh_dir("force");
  write(dir + "/verdict.json", "{}");
  const auto r = report_into(dir, {"--force"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(read(dir + "/verdict.json").find("coroscope-report"), std::string::npos);
}

TEST(CliOut, RefusesASymlinkNamedLikeAnOutputAndLeavesItsTargetAlone) {
  const std::string dir = fresh_dir("symlink");
  write(dir + "/precious.txt", "keep me");
  fs::create_symlink("precious.txt", dir + "/report.html");
  for (bool force : {false, true}) {
    const auto r = report_into(dir, force ? std::vector<std::string>{"--force"} : std::vector<std::string>{});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find(dir + "/report.html: is a symbolic link"), std::string::npos) << r.err;
    EXPECT_EQ(read(dir + "/precious.txt"), "keep me");
    EXPECT_TRUE(fs::is_symlink(dir + "/report.html"));
    EXPECT_FALSE(fs::exists(dir + "/report.md"));
  }
}

TEST(CliOut, RefusesToOverwriteAnInputEvenWithForce) {
  const std::string dir = fresh_dir("input");
  fs::copy_file(fixture("lint.json"), dir + "/verdict.json");
  const auto r = report_into(dir, {"--lint", dir + "/verdict.json", "--force"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find(dir + "/verdict.json: refusing to overwrite the input"), std::string::npos) << r.err;
  EXPECT_EQ(read(dir + "/verdict.json"), read(fixture("lint.json")));
}

TEST(CliOut, NeverLeavesTemporaryFilesBehind) {
  const std::string dir = fresh_dir("clean");
  ASSERT_EQ(report_into(dir).code, 0);
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"report.html", "report.md", "verdict.json"}));
}
