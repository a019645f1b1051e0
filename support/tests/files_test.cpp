#include <coroscope/support/files.hpp>

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

namespace fs = std::filesystem;
using namespace coroscope::support;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::size_t entries(const fs::path& dir) {
  return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

// what() of the io_error that `f` throws, or "" when it throws none.
template <class F>
std::string error_of(F f) {
  try {
    f();
  } catch (const io_error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(WriteFile, ReplacesTheTargetAndLeavesNoTemporaryBehind) {
  temp_dir dir("support-test");
  const fs::path out = dir.path() / "report.md";
  write_file(out, "old");
  write_file(out, "new content");
  EXPECT_EQ(slurp(out), "new content");
  EXPECT_EQ(entries(dir.path()), 1u);
}

TEST(WriteFile, KeepsTheModeOfTheFileItReplaces) {
  temp_dir dir("support-test");
  const fs::path out = dir.path() / "out.json";
  write_file(out, "1");
  ASSERT_EQ(::chmod(out.c_str(), 0640), 0);
  write_file(out, "2");
  struct stat st {};
  ASSERT_EQ(::stat(out.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
}

TEST(WriteFile, AFullDeviceIsAnErrorNamingIt) {
  const std::string msg = error_of([] { write_file("/dev/full", "anything"); });
  EXPECT_NE(msg.find("/dev/full: cannot write: No space left on device"), std::string::npos) << msg;
}

TEST(WriteFile, WritesToANullDeviceInPlace) {
  EXPECT_EQ(error_of([] { write_file("/dev/null", "anything"); }), "");
  EXPECT_TRUE(fs::is_character_file("/dev/null"));
}

TEST(WriteFile, AMissingDirectoryIsAnErrorNamingTheTarget) {
  temp_dir dir("support-test");
  const fs::path out = dir.path() / "no-such-dir" / "x.json";
  const std::string msg = error_of([&] { write_file(out, "x"); });
  EXPECT_EQ(msg.rfind(out.string() + ": cannot create a temporary file beside it", 0), 0u) << msg;
}

TEST(WriteFile, ADirectoryTargetIsAnError) {
  temp_dir dir("support-test");
  EXPECT_EQ(error_of([&] { write_file(dir.path(), "x"); }), dir.path().string() + ": is a directory");
}

TEST(WriteFile, ReplacesASymlinkInsteadOfWritingThroughIt) {
  temp_dir dir("support-test");
  const fs::path victim = dir.path() / "victim.txt";
  write_file(victim, "precious");
  fs::create_symlink(victim, dir.path() / "report.html");
  write_file(dir.path() / "report.html", "report");
  EXPECT_EQ(slurp(victim), "precious");
  EXPECT_FALSE(fs::is_symlink(dir.path() / "report.html"));
  EXPECT_EQ(slurp(dir.path() / "report.html"), "report");
}

TEST(RefuseOutputOverInputs, RefusesTheSameFileByAnotherPath) {
  temp_dir dir("support-test");
  const fs::path in = dir.path() / "in.json";
  write_file(in, "{}");
  fs::create_directory(dir.path() / "sub");
  const fs::path other = dir.path() / "sub" / ".." / "in.json";
  EXPECT_EQ(error_of([&] { refuse_output_over_inputs(other, {in}); }),
            other.string() + ": refusing to overwrite the input " + in.string());
  fs::create_hard_link(in, dir.path() / "hard.json");
  EXPECT_NE(error_of([&] { refuse_output_over_inputs(dir.path() / "hard.json", {in}); }), "");
}

TEST(RefuseOutputOverInputs, AcceptsADifferentOrNewFileAndStandardOutput) {
  temp_dir dir("support-test");
  const fs::path in = dir.path() / "in.json";
  write_file(in, "{}");
  EXPECT_EQ(error_of([&] { refuse_output_over_inputs(dir.path() / "new.json", {in}); }), "");
  EXPECT_EQ(error_of([&] { refuse_output_over_inputs("-", {in, "-"}); }), "");
}

TEST(ReadFile, RefusesADirectoryAndAnOversizedFile) {
  temp_dir dir("support-test");
  EXPECT_EQ(error_of([&] { read_file(dir.path(), 10); }), dir.path().string() + ": is a directory, not a file");
  write_file(dir.path() / "big", std::string(11, 'x'));
  EXPECT_EQ(error_of([&] { read_file(dir.path() / "big", 10); }),
            (dir.path() / "big").string() + ": larger than the limit of 10 bytes");
  EXPECT_EQ(read_file(dir.path() / "big", 11), std::string(11, 'x'));
}

TEST(TempFile, IsPrivateUnpredictableAndRemovedWhenDestroyed) {
  fs::path a, b;
  {
    temp_file t1("support-test"), t2("support-test");
    a = t1.path();
    b = t2.path();
    EXPECT_NE(a, b);
    struct stat st {};
    ASSERT_EQ(::stat(a.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
  }
  EXPECT_FALSE(fs::exists(a));
  EXPECT_FALSE(fs::exists(b));
}

TEST(TempDir, IsRemovedWithItsContent) {
  fs::path p;
  {
    temp_dir d("support-test");
    p = d.path();
    write_file(p / "x", "y");
  }
  EXPECT_FALSE(fs::exists(p));
}
