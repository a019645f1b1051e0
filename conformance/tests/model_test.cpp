// Unit tests of the runtime-agnostic model: loading, validation, comparison, rendering.
#include <conform/model.hpp>

#include <gtest/gtest.h>

namespace conform {
namespace {

scenario with_compare(const std::string& compare) {
  scenario s;
  s.compare = compare;
  return s;
}

TEST(GlobMatch, MatchesStarsAndQuestionMarks) {
  EXPECT_TRUE(glob_match("CAN-*", "CAN-004a"));
  EXPECT_TRUE(glob_match("TMO-00?", "TMO-005"));
  EXPECT_FALSE(glob_match("TMO-00?", "TMO-005a"));
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_FALSE(glob_match("GAT-*", "CAN-001"));
}

TEST(RenderKind, SortsGroupMembersRecursively) {
  exc_info inner{"ExceptionGroup", "", {{"ValueError", "", {}}, {"KeyError", "", {}}}};
  exc_info outer{"ExceptionGroup", "", {inner, {"RuntimeError", "", {}}}};
  EXPECT_EQ(render_kind(outer), "ExceptionGroup[ExceptionGroup[KeyError,ValueError],RuntimeError]");
  EXPECT_EQ(render_exc({"CancelledError", "bye \"x\"", {}}), "CancelledError(\"bye \\\"x\\\"\")");
}

TEST(ExceptMatches, FollowsPythonsHierarchy) {
  EXPECT_FALSE(except_matches({"CancelledError", "", {}}, "Exception"));
  EXPECT_TRUE(except_matches({"CancelledError", "", {}}, "BaseException"));
  EXPECT_TRUE(except_matches({"TimeoutError", "", {}}, "Exception"));
  EXPECT_TRUE(except_matches({"ExceptionGroup", "", {}}, "Exception"));
  EXPECT_FALSE(except_matches({"BaseExceptionGroup", "", {}}, "Exception"));
  EXPECT_TRUE(except_matches({"ExceptionGroup", "", {}}, "BaseExceptionGroup"));
  EXPECT_FALSE(except_matches({"KeyError", "", {}}, "ValueError"));
}

TEST(CompareTraces, OrderMattersUnlessUnordered) {
  std::vector<event> a{{10, "cb", "log 1"}, {10, "cb", "log 2"}};
  std::vector<event> b{{10, "cb", "log 2"}, {10, "cb", "log 1"}};
  EXPECT_FALSE(compare_traces(with_compare(""), a, b, 0).same);
  EXPECT_TRUE(compare_traces(with_compare("unordered"), a, b, 0).same);
}

TEST(CompareTraces, TimestampsMayDriftOnlyWithinTheTolerance) {
  std::vector<event> a{{10, "main", "log x"}};
  std::vector<event> b{{13, "main", "log x"}};
  EXPECT_FALSE(compare_traces(with_compare(""), a, b, 2).same);
  EXPECT_TRUE(compare_traces(with_compare(""), a, b, 3).same);
  auto missing = compare_traces(with_compare(""), a, {}, 0);
  EXPECT_EQ(missing.first_difference, "missing event: 10ms main: log x");
}

TEST(FeaturesOf, CollectsOpsTypesMethodsAndRaisedKinds) {
  json doc = json::parse(R"({"coros": {"c": [{"op": "raise", "kind": "KeyError"}]},
    "main": [{"op": "new", "type": "Lock", "name": "l"}, {"op": "call", "target": "l", "method": "acquire"},
             {"op": "create_task", "name": "t", "coro": "c"}, {"op": "call", "target": "t", "method": "uncancel"}]})");
  auto f = features_of(doc, "x.json");
  for (const char* want : {"op:new", "new:lock", "call:lock.acquire", "call:task.uncancel", "raise:key_error"})
    EXPECT_TRUE(f.count(want)) << want;
}

TEST(FeaturesOf, RejectsAnAwaitInsideACallbackNamingTheField) {
  json doc = json::parse(R"({"main": [{"op": "call_soon", "do": [{"op": "log"}, {"op": "sleep", "ms": 1}]}]})");
  try {
    features_of(doc, "x.json");
    FAIL() << "no error";
  } catch (const scenario_error& e) {
    EXPECT_STREQ(e.what(), "x.json: field main[0].do[1].op: op \"sleep\" cannot run in a callback (it awaits)");
  }
}

TEST(FeaturesOf, RejectsAnUnknownCoroutine) {
  json doc = json::parse(R"({"main": [{"op": "create_task", "name": "t", "coro": "nope"}]})");
  EXPECT_THROW(features_of(doc, "x.json"), scenario_error);
}

TEST(LoadScenario, NamesTheFileAndTheField) {
  try {
    load_scenario(std::string(CONFORM_FIXTURES) + "/bad/ORD/ORD-900.json");
    FAIL() << "no error";
  } catch (const scenario_error& e) {
    EXPECT_NE(std::string(e.what()).find("ORD-900.json: field main[1].op: unknown op \"teleport\""), std::string::npos)
        << e.what();
  }
}

TEST(LoadScenario, ReadsTheExpectedTrace) {
  auto s = load_scenario(std::string(CONFORM_FIXTURES) + "/wrong/ORD/ORD-901.json");
  EXPECT_EQ(s.id, "ORD-901");
  ASSERT_EQ(s.expected.size(), 2u);
  EXPECT_EQ(s.expected[1].ev, "final main = null");
  EXPECT_FALSE(s.informative());
}

TEST(FeatureNames, AreLowercaseSnakeCaseWhateverTheScenarioSpelling) {
  EXPECT_EQ(feature_word("BoundedSemaphore"), "bounded_semaphore");
  EXPECT_EQ(feature_word("FIRST_COMPLETED"), "first_completed");
  EXPECT_EQ(feature_word("ZeroDivisionError"), "zero_division_error");
  EXPECT_EQ(feature_word("task_group"), "task_group");
  EXPECT_EQ(feature_name("call:Event.set"), "call:event.set");
  EXPECT_EQ(feature_name("call:task.done"), "call:task.done");
  EXPECT_EQ(unsupported_error("new:LifoQueue").feature(), "new:lifo_queue");
}

TEST(FeatureCatalogue, NamesEveryFeatureTheStoredScenariosNeedOnceWithAMeaning) {
  std::set<std::string> known;
  for (const auto& f : feature_catalogue()) {
    EXPECT_EQ(f.name, feature_name(f.name)) << "not in the one spelling";
    EXPECT_FALSE(f.meaning.empty()) << f.name;
    EXPECT_TRUE(known.insert(f.name).second) << "listed twice: " << f.name;
  }
  std::size_t scenarios = 0;
  for (const auto& s : load_scenarios(CONFORM_SCENARIOS)) {
    ++scenarios;
    for (const auto& f : s.features) EXPECT_TRUE(known.count(f)) << s.id << " needs " << f << ", not in the catalogue";
  }
  EXPECT_GT(scenarios, 180u);
}

}  // namespace
}  // namespace conform
