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

// ---- hostile input (issue 11): every limit of limits.hpp is a load-time error naming file and field ----

namespace hostile {

std::string file_with(const std::string& main, const std::string& coros = "{}") {
  return R"({"id": "ORD-950", "group": "ORD", "title": "t", "authority": "tested", "source": "s", "coros": )" + coros +
         R"(, "main": )" + main + R"(, "expected": {"python": "3.11.2", "trace": []}})";
}
const std::string k_path = "hostile/ORD/ORD-950.json";

// The loader's message for `text`, or "" when it loads.
std::string error_of(const std::string& text) {
  try {
    parse_scenario(text, k_path);
  } catch (const scenario_error& e) {
    return e.what();
  }
  return "";
}

void expect_error(const std::string& text, const std::string& want) {
  const std::string got = error_of(text);
  EXPECT_EQ(got.rfind(k_path + ": ", 0), 0u) << got;
  EXPECT_NE(got.find(want), std::string::npos) << "want: " << want << "\n got: " << got;
  EXPECT_EQ(got.find("json.exception"), std::string::npos) << "a bare nlohmann message: " << got;
}

}  // namespace hostile

TEST(Limits, ALogValueNested100kDeepIsRefusedWhileParsing) {
  const std::string deep = std::string(100'000, '[') + "1" + std::string(100'000, ']');
  hostile::expect_error(hostile::file_with(R"([{"op": "log", "msg": "x", "value": )" + deep + "}]"),
                        "nested deeper than the limit of 100 levels");
}

TEST(Limits, TryNested6000DeepIsRefusedByTheDepthLimit) {
  std::string main = R"([{"op": "log", "msg": "deep"}])";
  std::string text;
  for (int i = 0; i < 6000; ++i) text += R"([{"op": "try", "body": )";
  text += main;
  for (int i = 0; i < 6000; ++i) text += "}]";
  hostile::expect_error(hostile::file_with(text), "nested deeper than the limit of 100 levels");
}

TEST(Limits, TryNestedWithinTheDepthLimitLoads) {
  std::string text;
  for (int i = 0; i < 45; ++i) text += R"([{"op": "try", "body": )";
  text += R"([{"op": "log", "msg": "deep"}])";
  for (int i = 0; i < 45; ++i) text += "}]";
  EXPECT_EQ(hostile::error_of(hostile::file_with(text)), "");
}

TEST(Limits, ACoroutineThatAwaitsItselfIsRefusedNamingTheChain) {
  hostile::expect_error(hostile::file_with(R"([{"op": "await", "coro": "c"}])", R"({"c": [{"op": "await", "coro": "c"}]})"),
                        "field coros.c[0].coro: coroutine \"c\" starts itself (main -> c -> c)");
}

TEST(Limits, ACoroutineThatSpawnsItselfIsRefused) {
  hostile::expect_error(
      hostile::file_with(R"([{"op": "create_task", "name": "t", "coro": "c"}])",
                         R"({"c": [{"op": "yield"}, {"op": "create_task", "name": "t", "coro": "c"}]})"),
      "field coros.c[1].coro: coroutine \"c\" starts itself (main -> c -> c)");
}

TEST(Limits, TwoCoroutinesThatStartEachOtherAreRefused) {
  hostile::expect_error(
      hostile::file_with(R"([{"op": "create_task", "name": "t", "coro": "a"}])",
                         R"({"a": [{"op": "gather", "name": "g", "items": [{"coro": "b"}]}], "b": [{"op": "await", "coro": "a"}]})"),
      "coroutine \"a\" starts itself (main -> a -> b -> a)");
}

TEST(Limits, CoroutinesNestedDeeperThanTheCallDepthAreRefused) {
  std::string coros = "{";
  for (int i = 0; i <= limits::max_call_depth; ++i)
    coros += "\"c" + std::to_string(i) + R"(": [{"op": "await", "coro": "c)" + std::to_string(i + 1) + "\"}], ";
  coros += "\"c" + std::to_string(limits::max_call_depth + 1) + "\": []}";
  hostile::expect_error(hostile::file_with(R"([{"op": "await", "coro": "c0"}])", coros),
                        "field coros.c99[0].coro: coroutines started by coroutines nest deeper than the limit of 100");
}

TEST(Limits, AFanOutBeyondTheExecutedStepsLimitIsRefusedAtLoad) {
  // Six levels of ten: a million steps from a file of twenty.
  std::string coros = "{";
  for (int i = 0; i < 6; ++i) {
    std::string items;
    for (int k = 0; k < 10; ++k) items += std::string(k ? ", " : "") + R"({"coro": "c)" + std::to_string(i + 1) + "\"}";
    coros += "\"c" + std::to_string(i) + R"(": [{"op": "gather", "name": "g", "items": [)" + items + "]}], ";
  }
  coros += R"("c6": [{"op": "log", "msg": "leaf"}]})";
  hostile::expect_error(hostile::file_with(R"([{"op": "await", "coro": "c0"}])", coros),
                        "the program runs more than 100000 steps with its coroutines expanded");
}

TEST(Limits, MoreStepsThanTheLimitAreRefused) {
  std::string main = "[";
  for (std::size_t i = 0; i <= limits::max_steps; ++i) main += std::string(i ? "," : "") + R"({"op": "yield"})";
  hostile::expect_error(hostile::file_with(main + "]"), "10001 steps: more than the limit of 10000 steps");
}

TEST(Limits, TimeValuesOutOfTheClocksRangeAreRefused) {
  hostile::expect_error(hostile::file_with(R"([{"op": "sleep", "ms": 1e300}])"),
                        "field main[0].ms: 1e+300 ms is out of range: a time value is within +-36000000 ms");
  hostile::expect_error(hostile::file_with(R"([{"op": "call_later", "ms": -1e20, "do": []}])"), "field main[0].ms: ");
  hostile::expect_error(hostile::file_with(R"([{"op": "timeout", "ms": 4e7, "body": []}])"), "field main[0].ms: ");
  hostile::expect_error(
      hostile::file_with(R"([{"op": "timeout", "ms": null, "name": "cm", "body": [
        {"op": "call", "target": "cm", "method": "reschedule", "args": [1e300]}]}])"),
      "field main[0].body[0].args[0]: 1e+300 ms is out of range");
  hostile::expect_error(hostile::file_with(R"([{"op": "sleep", "ms": "soon"}])"),
                        "field main[0].ms: must be a number of milliseconds, got a string");
}

TEST(Limits, AnArgumentOutOfRangeIsRefusedAtItsCallSite) {
  hostile::expect_error(
      hostile::file_with(R"([{"op": "create_task", "name": "t", "coro": "c", "args": {"d": 1e300}}])",
                         R"({"c": [{"op": "sleep", "ms": "${d}"}]})"),
      "field coros.c[0].ms: 1e+300 ms is out of range: a time value is within +-36000000 ms (limits::max_time_ms, 10 "
      "hours) (in coroutine c as started at main[0] with args {\"d\":1e+300})");
}

TEST(Limits, MalformedFieldsAreLoadTimeErrorsNamingTheField) {
  const std::pair<const char*, const char*> cases[] = {
      {R"([{"op": "new", "type": "Queue", "name": "q", "args": ["x"]}])", "field main[0].args[0]: must be an integer, got a string"},
      {R"([{"op": "new", "type": "Barrier", "name": "b"}])", "field main[0].args: is required"},
      {R"([{"op": "new", "type": "Semaphore", "name": "s", "args": [1e12]}])", "field main[0].args[0]: must be an integer"},
      {R"([{"op": "new", "type": "Semaphore", "name": "s", "args": [10000000000]}])", "field main[0].args[0]: 10000000000 is out of range"},
      {R"([{"op": "new", "type": "Future", "name": "f"}, {"op": "call", "target": "f", "method": "cancel", "args": [5]}])",
       "field main[1].args[0]: must be a string (the cancel message)"},
      {R"([{"op": "new", "type": "Future", "name": "f"}, {"op": "call", "target": "f", "method": "done", "args": [1]}])",
       "field main[1].args: takes 0 argument(s), got 1"},
      {R"([{"op": "gather", "name": "g", "items": [], "return_exceptions": "yes"}])", "field main[0].return_exceptions: must be true or false"},
      {R"([{"op": "wait", "items": [], "return_when": 5}])", "field main[0].return_when: must be ALL_COMPLETED"},
      {R"([{"op": "await", "target": "t", "as": 5}])", "field main[0].as: must be a non-empty string"},
      {R"([{"op": "log", "msg": "x", "value": {"var": 5}}])", "field main[0].value.var: must be a name"},
      {R"([{"op": "try", "body": [], "except": [{"kind": "KeyError", "as": []}]}])", "field main[0].except[0].as: must be a non-empty string"},
      {R"([{"op": "call_soon", "name": 7, "do": []}])", "field main[0].name: must be a non-empty string"},
  };
  for (const auto& [main, want] : cases) hostile::expect_error(hostile::file_with(main), want);
}

TEST(Limits, TypeErrorsOfTheTopLevelNameTheField) {
  hostile::expect_error(R"({"id": "ORD-950", "group": "ORD", "title": "t", "authority": "tested", "source": "s",
    "main": [], "expected": {"python": 3, "trace": []}})",
                        "field expected.python: must be a string");
  hostile::expect_error("[1, 2", "line 1, column 6: ");
}

TEST(SubstituteArgs, AnArgumentThatContainsItsOwnTokenIsReplacedOnce) {
  EXPECT_EQ(substitute_args(json("a${x}b${x}"), json{{"x", "${x}"}}), json("a${x}b${x}"));
  EXPECT_EQ(substitute_args(json::array({"${n}"}), json{{"n", 3}}), json::array({3}));
}

}  // namespace
}  // namespace conform
