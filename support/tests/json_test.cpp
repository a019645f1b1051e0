#include <coroscope/support/files.hpp>
#include <coroscope/support/json.hpp>

#include <gtest/gtest.h>

using namespace coroscope::support;

namespace {

template <class F>
std::string error_of(F f) {
  try {
    f();
  } catch (const input_error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(ParseJson, ParsesWithinTheLimits) {
  auto j = parse_json(R"({"a": [1, {"b": null}]})", "in.json", {.max_bytes = 100, .max_depth = 3});
  EXPECT_EQ(j["a"][0], 1);
}

TEST(ParseJson, RefusesNestingBeyondTheDepthLimitWithoutRecursing) {
  const std::string deep = std::string(1'000'000, '[') + std::string(1'000'000, ']');
  EXPECT_EQ(error_of([&] { parse_json(deep, "deep.json"); }),
            "deep.json: nested deeper than the limit of 256 levels");
  EXPECT_EQ(error_of([] { parse_json("[[[[]]]]", "x.json", {.max_depth = 3}); }),
            "x.json: nested deeper than the limit of 3 levels");
  EXPECT_EQ(error_of([] { parse_json(R"({"a":{"b":{}}})", "x.json", {.max_depth = 3}); }), "");
}

TEST(ParseJson, SyntaxErrorsNameLineAndColumnWithoutTheLibraryPrefix) {
  const std::string msg = error_of([] { parse_json("{\n  \"a\": tru\n}", "bad.json"); });
  EXPECT_EQ(msg.rfind("bad.json: line 2, column ", 0), 0u) << msg;
  EXPECT_EQ(msg.find("json.exception"), std::string::npos) << msg;
}

TEST(ParseJson, ANumberBeyondADoubleIsAnInputError) {
  EXPECT_EQ(error_of([] { parse_json("[1e400]", "n.json"); }), "n.json: number overflow parsing '1e400'");
}

TEST(ParseJson, RefusesAnOversizedDocument) {
  EXPECT_EQ(error_of([] { parse_json("[1,2,3]", "big.json", {.max_bytes = 3}); }),
            "big.json: larger than the limit of 3 bytes");
}

TEST(ReadJsonFile, ADirectoryIsAnInputErrorNamingIt) {
  temp_dir dir("support-test");
  EXPECT_EQ(error_of([&] { read_json_file(dir.path()); }), dir.path().string() + ": is a directory, not a file");
}

TEST(InputError, NamesFileFieldAndMessage) {
  EXPECT_STREQ(input_error("s.json", "main[1].op", "unknown op").what(), "s.json: main[1].op: unknown op");
  EXPECT_STREQ(input_error("s.json", "", "empty").what(), "s.json: empty");
  EXPECT_EQ(json_field(json_field(json_field("", "main"), 1), "op"), "main[1].op");
  EXPECT_EQ(json_type_name(nlohmann::json::array()), "an array");
}
