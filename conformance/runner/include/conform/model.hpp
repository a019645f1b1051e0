#pragma once
// The runtime-agnostic half of the conformance kit: scenarios, traces, exception kinds, comparison.
// SCENARIOS.md is the normative description of the file format; this header is its C++ reading.
#include <conform/limits.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace conform {

using json = nlohmann::json;

// One observable event. `t` is in scenario milliseconds since the run started.
struct event {
  long long t = 0;
  std::string task;
  std::string ev;
  friend bool operator==(const event&, const event&) = default;
};
json to_json(const event& e);
std::vector<event> trace_from_json(const json& j, const std::string& where);

// A scenario file could not be used: names the file and the field (exit code 2). An empty field is an
// error of the whole file (its size, its JSON syntax).
class scenario_error : public std::runtime_error {
public:
  scenario_error(const std::string& where, const std::string& field, const std::string& message)
      : std::runtime_error(where + ": " + (field.empty() ? std::string() : "field " + field + ": ") + message) {}
};

// A run exceeded the run-time budget of limits.hpp: the scenario fails on that runtime (exit 1), with this
// message. The interpreter throws it; an `except` clause never catches it.
class budget_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// Feature names are lowercase snake_case words joined by ':' and '.': "call:bounded_semaphore.acquire",
// "wait:first_completed", "raise:zero_division_error". feature_word("BoundedSemaphore") ==
// "bounded_semaphore", feature_word("FIRST_COMPLETED") == "first_completed"; feature_name applies it to
// every word of a name ("new:LifoQueue" -> "new:lifo_queue"). unsupported_error spells its feature so.
std::string feature_word(const std::string& word);
std::string feature_name(const std::string& name);

// The adapter cannot perform a feature the scenario needs: the scenario is "unsupported", not failed.
class unsupported_error : public std::runtime_error {
public:
  explicit unsupported_error(const std::string& feature)
      : std::runtime_error(feature_name(feature)), feature_(feature_name(feature)) {}
  const std::string& feature() const noexcept { return feature_; }

private:
  std::string feature_;
};

// An exception a scenario raised that the runtime has no type of its own for (ValueError, KeyError, ...).
// It derives from std::exception, so runtimes treat it as an ordinary error ("Exception").
class raised_exception : public std::exception {
public:
  raised_exception(std::string kind, std::string msg) : kind_(std::move(kind)), msg_(std::move(msg)) {}
  const char* what() const noexcept override { return msg_.c_str(); }
  const std::string& kind() const noexcept { return kind_; }
  const std::string& message() const noexcept { return msg_; }

private:
  std::string kind_;
  std::string msg_;
};

struct scenario {
  std::string file;
  std::string id, group, title, authority, source, note, compare;
  std::vector<std::string> tags;
  json doc;  // the whole file
  std::vector<event> expected;
  std::string python;  // the CPython version the expected trace came from
  std::set<std::string> features;

  bool version_specific() const;
  // Observed-only and version-specific scenarios never fail a run: their failures are notes.
  bool informative() const { return authority == "observed" || version_specific(); }
};

// Loads and validates one file (exit-2 errors name the file and the field), within limits.hpp.
scenario load_scenario(const std::string& path);
// The same from the file's text (`path` names it in errors and must end in GROUP/ID.json): the entry
// point of the loader's fuzz target.
scenario parse_scenario(std::string_view text, const std::string& path);
// The same from a parsed document (the loader's checks after parsing).
scenario scenario_from_json(json doc, const std::string& path);
// Every *.json under dir, sorted by group then id.
std::vector<scenario> load_scenarios(const std::string& dir);
// Validates the program and returns the features it needs ("op:gather", "new:lock", "call:task.uncancel",
// "raise:keyboard_interrupt", ...; feature_catalogue() lists them all). Throws scenario_error.
std::set<std::string> features_of(const json& doc, const std::string& where);
// A coroutine body with every `${name}` of its strings replaced by args (SCENARIOS.md "Steps"); adds the
// number of JSON values it produces to *produced when given.
json substitute_args(const json& body, const json& args, std::uint64_t* produced = nullptr);

// ---- features ----------------------------------------------------------------------------------------
struct feature_info {
  std::string name;
  std::string meaning;
};
// Every feature a scenario can need, sorted by name, each with one line of meaning.
const std::vector<feature_info>& feature_catalogue();
// SCENARIOS.md's method table: kind -> methods.
const std::map<std::string, std::set<std::string>>& method_table();
bool glob_match(const std::string& pattern, const std::string& text);
// The method table of SCENARIOS.md: whether `kind` has `method`, and whether calling it must be awaited.
bool has_method(const std::string& kind, const std::string& method);
bool method_awaits(const std::string& kind, const std::string& method);

// ---- exceptions --------------------------------------------------------------------------------------
// An exception as the scenario language sees it: a kind from the table in SCENARIOS.md and a message.
struct exc_info {
  std::string kind;
  std::string message;
  std::vector<exc_info> members;  // for ExceptionGroup / BaseExceptionGroup
  bool is_group() const { return kind == "ExceptionGroup" || kind == "BaseExceptionGroup"; }
};
bool known_exception_kind(const std::string& kind);  // may be raised
bool known_except_kind(const std::string& kind);     // may appear in an except clause
bool except_matches(const exc_info& e, const std::string& clause);
std::string render_kind(const exc_info& e);  // ValueError, ExceptionGroup[KeyError,ValueError]
std::string render_exc(const exc_info& e);   // ValueError("v")

// ---- comparison --------------------------------------------------------------------------------------
struct comparison {
  bool same = false;
  std::string first_difference;
};
comparison compare_traces(const scenario& s, const std::vector<event>& expected, const std::vector<event>& actual,
                          long long tolerance_ms);
// Expected | actual, one event per line, differing lines marked.
std::string side_by_side(const std::vector<event>& expected, const std::vector<event>& actual);
std::string format_event(const event& e);

// Canonical value text, identical to the oracle's json.dumps(separators=(",", ":"), sort_keys=True).
inline std::string dump(const json& v) { return v.dump(); }

}  // namespace conform
