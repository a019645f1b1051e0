#include <conform/model.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace conform {

namespace {

const std::set<std::string> k_authorities{"documented", "tested", "observed"};
const std::set<std::string> k_raisable{"CancelledError", "TimeoutError",      "InvalidStateError", "ValueError",
                                       "KeyError",       "RuntimeError",      "TypeError",         "ZeroDivisionError",
                                       "QueueEmpty",     "QueueFull",         "BrokenBarrierError", "KeyboardInterrupt",
                                       "SystemExit"};
const std::set<std::string> k_types{"Future",    "Event",   "Lock",      "Semaphore",    "BoundedSemaphore",
                                    "Condition", "Barrier", "Queue",     "LifoQueue",    "PriorityQueue"};
const std::set<std::string> k_return_when{"ALL_COMPLETED", "FIRST_COMPLETED", "FIRST_EXCEPTION"};

const std::map<std::string, std::set<std::string>>& methods() {
  static const std::map<std::string, std::set<std::string>> m = [] {
    std::map<std::string, std::set<std::string>> r{
        {"task", {"done", "cancelled", "cancelling", "cancel", "uncancel", "result", "exception"}},
        {"future", {"done", "cancelled", "cancel", "result", "exception", "set_result", "set_exception"}},
        {"handle", {"cancel", "cancelled"}},
        {"timeout", {"expired", "when", "reschedule"}},
        {"Event", {"set", "clear", "is_set", "wait"}},
        {"Lock", {"acquire", "release", "locked"}},
        {"Semaphore", {"acquire", "release", "locked"}},
        {"BoundedSemaphore", {"acquire", "release", "locked"}},
        {"Condition", {"acquire", "release", "locked", "wait", "notify", "notify_all"}},
        {"Barrier", {"wait", "abort", "reset", "n_waiting", "broken", "parties"}},
        {"Queue",
         {"put", "get", "put_nowait", "get_nowait", "qsize", "empty", "full", "task_done", "join", "maxsize"}},
    };
    r["LifoQueue"] = r["Queue"];
    r["PriorityQueue"] = r["Queue"];
    r["gather"] = r["future"];
    r["shield"] = r["future"];
    return r;
  }();
  return m;
}

const std::map<std::string, std::set<std::string>>& awaiting() {
  static const std::map<std::string, std::set<std::string>> m{
      {"Event", {"wait"}},           {"Lock", {"acquire"}},         {"Semaphore", {"acquire"}},
      {"BoundedSemaphore", {"acquire"}}, {"Condition", {"acquire", "wait"}}, {"Barrier", {"wait", "abort", "reset"}},
      {"Queue", {"put", "get", "join"}}, {"LifoQueue", {"put", "get", "join"}}, {"PriorityQueue", {"put", "get", "join"}},
  };
  return m;
}

bool is_param(const json& v) { return v.is_string() && v.get<std::string>().find("${") != std::string::npos; }

// Walks a scenario program: first to learn what kind of object each name denotes, then to validate every
// step and collect the features it needs.
class validator {
public:
  validator(const json& doc, std::string where) : doc_(doc), where_(std::move(where)) {}

  std::set<std::string> run() {
    if (!doc_.contains("main") || !doc_["main"].is_array()) fail("main", "must be a list of steps");
    if (doc_.contains("coros")) {
      if (!doc_["coros"].is_object()) fail("coros", "must be an object of name -> list of steps");
      for (auto& [name, body] : doc_["coros"].items())
        if (!body.is_array()) fail("coros." + name, "must be a list of steps");
    }
    learn(doc_["main"], "main");
    if (doc_.contains("coros"))
      for (auto& [name, body] : doc_["coros"].items()) learn(body, "coros." + name);
    steps(doc_["main"], "main", false);
    if (doc_.contains("coros"))
      for (auto& [name, body] : doc_["coros"].items()) steps(body, "coros." + name, false);
    std::set<std::string> named;  // in the catalogue's spelling (features.cpp)
    for (const auto& f : features_) named.insert(feature_name(f));
    return named;
  }

private:
  [[noreturn]] void fail(const std::string& field, const std::string& msg) const {
    throw scenario_error(where_, field, msg);
  }

  void define(const json& name, const std::string& kind) {
    if (name.is_string() && !is_param(name)) kinds_[name.get<std::string>()] = kind;
  }

  static const json* nested(const json& s, const char* key) {
    auto it = s.find(key);
    return it != s.end() && it->is_array() ? &*it : nullptr;
  }

  void learn(const json& list, const std::string& path) {
    if (!list.is_array()) return;
    for (const auto& s : list) {
      if (!s.is_object()) continue;
      std::string op = s.value("op", "");
      if (op == "new") define(s.value("name", json()), s.value("type", "") == "Future" ? "future" : s.value("type", ""));
      if (op == "create_task") define(s.value("name", json()), "task");
      if (op == "gather") define(s.value("name", json()), "gather");
      if (op == "shield") define(s.value("name", json()), "shield");
      if (op == "call_soon" || op == "call_later") define(s.value("name", json()), "handle");
      if (op == "timeout") define(s.value("name", json()), "timeout");
      if (op == "task_group") define(s.value("name", json()), "task_group");
      if (op == "run_in_executor") define(s.value("name", json()), "future");
      if (op == "as_completed") define(s.value("as", json("next")), "next");
      for (const char* k : {"body", "finally", "each", "do"})
        if (auto* n = nested(s, k)) learn(*n, path);
      if (auto* ex = nested(s, "except"))
        for (const auto& h : *ex)
          if (h.is_object() && h.contains("body")) learn(h["body"], path);
      if (auto* posts = nested(s, "post"))
        for (const auto& p : *posts) learn(p, path);
    }
  }

  std::string kind_of(const json& target) const {
    if (!target.is_string()) return "?";
    auto name = target.get<std::string>();
    if (name == "self") return "task";
    auto it = kinds_.find(name);
    return it == kinds_.end() ? "?" : it->second;
  }

  void need_string(const json& s, const char* key, const std::string& p) const {
    if (!s.contains(key) || !s[key].is_string() || s[key].get<std::string>().empty())
      fail(p + "." + key, "must be a non-empty string");
  }
  void need_number(const json& s, const char* key, const std::string& p, bool nullable) const {
    if (!s.contains(key)) fail(p + "." + key, "is required");
    const auto& v = s[key];
    if (!(v.is_number() || is_param(v) || (nullable && v.is_null())))
      fail(p + "." + key, nullable ? "must be a number of milliseconds or null" : "must be a number of milliseconds");
  }
  void need_coro(const json& spec, const std::string& p) const {
    if (!spec.contains("coro") || !spec["coro"].is_string()) fail(p + ".coro", "must name a coroutine");
    auto name = spec["coro"].get<std::string>();
    if (!doc_.contains("coros") || !doc_["coros"].contains(name))
      fail(p + ".coro", "no coroutine named \"" + name + "\" in \"coros\"");
    if (spec.contains("args") && !spec["args"].is_object()) fail(p + ".args", "must be an object");
  }
  void awaitable_item(const json& it, const std::string& p) {
    if (it.is_string()) {
      auto k = kind_of(it);
      if (k != "?" && k != "task" && k != "future" && k != "gather" && k != "shield")
        fail(p, "\"" + it.get<std::string>() + "\" is a " + k + ", not awaitable");
      features_.insert("arg:" + (k == "?" ? std::string("task") : k));
    } else if (it.is_object()) {
      need_coro(it, p);
      features_.insert("arg:coro");
    } else {
      fail(p, "expected an object name or {\"coro\": name, \"args\": {...}}");
    }
  }
  void exception_kind(const json& k, const std::string& p) {
    if (is_param(k)) return;
    if (!k.is_string() || !known_exception_kind(k.get<std::string>()))
      fail(p, "unknown exception kind " + k.dump() + " (see SCENARIOS.md)");
    features_.insert("raise:" + k.get<std::string>());
  }

  void steps(const json& list, const std::string& path, bool in_callback) {
    if (!list.is_array()) fail(path, "must be a list of steps");
    for (std::size_t i = 0; i < list.size(); ++i) step(list[i], path + "[" + std::to_string(i) + "]", in_callback);
  }

  void step(const json& s, const std::string& p, bool cb) {
    if (!s.is_object() || !s.contains("op") || !s["op"].is_string()) fail(p, "a step is an object with an \"op\"");
    const std::string op = s["op"];
    static const std::set<std::string> sync_ops{"log",       "raise",     "new",          "create_task",
                                                "gather",    "shield",    "call_soon",    "call_later",
                                                "add_done_callback", "run_in_executor", "call"};
    static const std::set<std::string> all_ops{"log",        "sleep",     "yield",      "return",   "raise",
                                               "new",        "create_task", "await",    "call",     "gather",
                                               "shield",     "wait",      "wait_for",   "as_completed", "timeout",
                                               "task_group", "with",      "try",        "call_soon", "call_later",
                                               "add_done_callback", "run_in_executor", "to_thread"};
    if (!all_ops.count(op)) fail(p + ".op", "unknown op \"" + op + "\"");
    if (cb && !sync_ops.count(op)) fail(p + ".op", "op \"" + op + "\" cannot run in a callback (it awaits)");
    features_.insert("op:" + op);
    if (op == "log") {
      if (s.contains("msg") && !s["msg"].is_string()) fail(p + ".msg", "must be a string");
    } else if (op == "sleep") {
      need_number(s, "ms", p, false);
    } else if (op == "raise") {
      if (s.contains("kind")) exception_kind(s["kind"], p + ".kind");
      if (cb) features_.insert("exception_handler");
    } else if (op == "new") {
      need_string(s, "name", p);
      if (!s.contains("type") || !s["type"].is_string() || !k_types.count(s["type"].get<std::string>()))
        fail(p + ".type", "must be one of Future, Event, Lock, Semaphore, BoundedSemaphore, Condition, Barrier, Queue, "
                          "LifoQueue, PriorityQueue");
      if (s.contains("args") && !s["args"].is_array()) fail(p + ".args", "must be a list");
      features_.insert("new:" + s["type"].get<std::string>());
    } else if (op == "create_task") {
      need_string(s, "name", p);
      need_coro(s, p);
      if (s.contains("group")) {
        need_string(s, "group", p);
        features_.insert("create_task:group");
      }
    } else if (op == "await") {
      if (s.contains("coro")) {
        need_coro(s, p);
        features_.insert("await:coro");
      } else {
        need_string(s, "target", p);
        auto k = kind_of(s["target"]);
        features_.insert("await:" + (k == "?" ? std::string("task") : k));
      }
    } else if (op == "call") {
      need_string(s, "target", p);
      need_string(s, "method", p);
      if (s.contains("args") && !s["args"].is_array()) fail(p + ".args", "must be a list");
      auto k = kind_of(s["target"]);
      const std::string m = s["method"];
      if (s["target"] == "self") features_.insert("self");
      if (k != "?" && !has_method(k, m)) fail(p + ".method", "a " + k + " has no method \"" + m + "\"");
      if (cb && k != "?" && method_awaits(k, m)) fail(p + ".method", "\"" + m + "\" awaits: not allowed in a callback");
      features_.insert("call:" + k + "." + m);
      if (m == "set_exception") {
        if (!s.contains("args") || s["args"].empty()) fail(p + ".args", "set_exception takes [kind] or [kind, message]");
        exception_kind(s["args"][0], p + ".args[0]");
      }
    } else if (op == "gather") {
      need_string(s, "name", p);
      if (!s.contains("items") || !s["items"].is_array()) fail(p + ".items", "must be a list");
      for (std::size_t i = 0; i < s["items"].size(); ++i)
        awaitable_item(s["items"][i], p + ".items[" + std::to_string(i) + "]");
      if (s.value("return_exceptions", false)) features_.insert("gather:return_exceptions");
    } else if (op == "shield") {
      need_string(s, "name", p);
      if (!s.contains("target")) fail(p + ".target", "is required");
      awaitable_item(s["target"], p + ".target");
    } else if (op == "wait") {
      if (!s.contains("items") || !s["items"].is_array()) fail(p + ".items", "must be a list of object names");
      for (std::size_t i = 0; i < s["items"].size(); ++i) {
        if (!s["items"][i].is_string()) fail(p + ".items[" + std::to_string(i) + "]", "wait takes object names");
        awaitable_item(s["items"][i], p + ".items[" + std::to_string(i) + "]");
      }
      auto rw = s.value("return_when", std::string("ALL_COMPLETED"));
      if (!k_return_when.count(rw)) fail(p + ".return_when", "must be ALL_COMPLETED, FIRST_COMPLETED or FIRST_EXCEPTION");
      features_.insert("wait:" + rw);
      if (s.contains("timeout_ms")) {
        need_number(s, "timeout_ms", p, true);
        features_.insert("wait:timeout");
      }
    } else if (op == "wait_for") {
      if (s.contains("coro")) {
        need_coro(s, p);
        features_.insert("arg:coro");
      } else {
        if (!s.contains("target")) fail(p + ".target", "is required (or \"coro\")");
        awaitable_item(s["target"], p + ".target");
      }
      need_number(s, "timeout_ms", p, true);
    } else if (op == "as_completed") {
      if (!s.contains("items") || !s["items"].is_array()) fail(p + ".items", "must be a list");
      for (std::size_t i = 0; i < s["items"].size(); ++i)
        awaitable_item(s["items"][i], p + ".items[" + std::to_string(i) + "]");
      if (s.contains("timeout_ms")) {
        need_number(s, "timeout_ms", p, true);
        features_.insert("as_completed:timeout");
      }
      steps(s.value("each", json::array()), p + ".each", cb);
    } else if (op == "timeout") {
      if (s.contains("ms")) {
        need_number(s, "ms", p, true);
      } else if (s.contains("at")) {
        need_number(s, "at", p, false);
        features_.insert("timeout:at");
      } else {
        fail(p, "a timeout needs \"ms\" (a delay, or null for none) or \"at\" (absolute ms)");
      }
      steps(s.value("body", json::array()), p + ".body", cb);
    } else if (op == "task_group") {
      need_string(s, "name", p);
      steps(s.value("body", json::array()), p + ".body", cb);
    } else if (op == "with") {
      need_string(s, "target", p);
      auto k = kind_of(s["target"]);
      if (k != "?" && k != "Lock" && k != "Semaphore" && k != "BoundedSemaphore" && k != "Condition")
        fail(p + ".target", "async with takes a Lock, Semaphore, BoundedSemaphore or Condition");
      features_.insert("with:" + k);
      steps(s.value("body", json::array()), p + ".body", cb);
    } else if (op == "try") {
      steps(s.value("body", json::array()), p + ".body", cb);
      if (s.contains("except")) {
        if (!s["except"].is_array()) fail(p + ".except", "must be a list of handlers");
        for (std::size_t i = 0; i < s["except"].size(); ++i) {
          const auto& h = s["except"][i];
          auto hp = p + ".except[" + std::to_string(i) + "]";
          if (!h.is_object() || !h.contains("kind") || !h["kind"].is_string() ||
              !known_except_kind(h["kind"].get<std::string>()))
            fail(hp + ".kind", "must be an exception kind (see SCENARIOS.md)");
          steps(h.value("body", json::array()), hp + ".body", cb);
        }
      }
      if (s.contains("finally")) steps(s["finally"], p + ".finally", cb);
    } else if (op == "call_soon" || op == "call_later") {
      if (op == "call_later") need_number(s, "ms", p, false);
      steps(s.value("do", json::array()), p + ".do", true);
    } else if (op == "add_done_callback") {
      need_string(s, "target", p);
      steps(s.value("do", json::array()), p + ".do", true);
    } else if (op == "run_in_executor" || op == "to_thread") {
      if (op == "run_in_executor") need_string(s, "name", p);
      if (s.contains("raise")) exception_kind(s["raise"], p + ".raise");
      if (s.contains("post")) {
        if (!s["post"].is_array()) fail(p + ".post", "must be a list of callbacks (lists of steps)");
        for (std::size_t i = 0; i < s["post"].size(); ++i) steps(s["post"][i], p + ".post[" + std::to_string(i) + "]", true);
      }
    }
  }

  const json& doc_;
  std::string where_;
  std::map<std::string, std::string> kinds_;
  std::set<std::string> features_;
};

}  // namespace

json to_json(const event& e) { return json{{"t", e.t}, {"task", e.task}, {"ev", e.ev}}; }

std::vector<event> trace_from_json(const json& j, const std::string& where) {
  if (!j.is_array()) throw scenario_error(where, "expected.trace", "must be a list of events");
  std::vector<event> out;
  for (std::size_t i = 0; i < j.size(); ++i) {
    const auto& e = j[i];
    if (!e.is_object() || !e.contains("t") || !e["t"].is_number_integer() || !e.contains("task") ||
        !e["task"].is_string() || !e.contains("ev") || !e["ev"].is_string())
      throw scenario_error(where, "expected.trace[" + std::to_string(i) + "]",
                           "an event is {\"t\": integer ms, \"task\": string, \"ev\": string}");
    out.push_back({e["t"].get<long long>(), e["task"], e["ev"]});
  }
  return out;
}

bool scenario::version_specific() const { return std::find(tags.begin(), tags.end(), "VER") != tags.end(); }

std::set<std::string> features_of(const json& doc, const std::string& where) { return validator(doc, where).run(); }

scenario load_scenario(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw scenario_error(path, "(file)", "cannot be read");
  scenario s;
  s.file = path;
  try {
    s.doc = json::parse(in);
  } catch (const json::parse_error& e) {
    throw scenario_error(path, "(json)", e.what());
  }
  if (!s.doc.is_object()) throw scenario_error(path, "(top level)", "a scenario is a JSON object");
  auto str = [&](const char* key, bool required) -> std::string {
    if (!s.doc.contains(key)) {
      if (required) throw scenario_error(path, key, "is required");
      return {};
    }
    if (!s.doc[key].is_string()) throw scenario_error(path, key, "must be a string");
    return s.doc[key];
  };
  s.id = str("id", true);
  s.group = str("group", true);
  s.title = str("title", true);
  s.authority = str("authority", true);
  s.source = str("source", true);
  s.note = str("note", false);
  s.compare = str("compare", false);
  if (!k_authorities.count(s.authority)) throw scenario_error(path, "authority", "must be documented, tested or observed");
  if (!s.compare.empty() && s.compare != "unordered") throw scenario_error(path, "compare", "must be \"unordered\" if present");
  namespace fs = std::filesystem;
  if (fs::path(path).stem().string() != s.id)
    throw scenario_error(path, "id", "is \"" + s.id + "\" but the file is named " + fs::path(path).filename().string());
  if (fs::path(path).parent_path().filename().string() != s.group)
    throw scenario_error(path, "group", "is \"" + s.group + "\" but the file is in " +
                                            fs::path(path).parent_path().filename().string() + "/");
  if (s.doc.contains("tags")) {
    if (!s.doc["tags"].is_array()) throw scenario_error(path, "tags", "must be a list of strings");
    for (const auto& t : s.doc["tags"]) {
      if (!t.is_string()) throw scenario_error(path, "tags", "must be a list of strings");
      s.tags.push_back(t);
    }
  }
  if (!s.doc.contains("expected") || !s.doc["expected"].is_object() || !s.doc["expected"].contains("trace"))
    throw scenario_error(path, "expected", "is missing: run the oracle with --regen to produce it");
  s.expected = trace_from_json(s.doc["expected"]["trace"], path);
  s.python = s.doc["expected"].value("python", "");
  s.features = features_of(s.doc, path);
  return s;
}

std::vector<scenario> load_scenarios(const std::string& dir) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(dir)) throw scenario_error(dir, "(directory)", "is not a directory of scenarios");
  std::vector<std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path().string());
  std::vector<scenario> out;
  for (const auto& f : files) out.push_back(load_scenario(f));
  std::sort(out.begin(), out.end(), [](const scenario& a, const scenario& b) {
    return std::tie(a.group, a.id) < std::tie(b.group, b.id);
  });
  for (std::size_t i = 1; i < out.size(); ++i)
    if (out[i].id == out[i - 1].id) throw scenario_error(out[i].file, "id", "duplicates " + out[i - 1].file);
  return out;
}

bool glob_match(const std::string& pattern, const std::string& text) {
  // Iterative wildcard match with backtracking on the last '*'.
  std::size_t p = 0, t = 0, star = std::string::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

const std::map<std::string, std::set<std::string>>& method_table() { return methods(); }

bool has_method(const std::string& kind, const std::string& method) {
  auto it = methods().find(kind);
  return it != methods().end() && it->second.count(method);
}

bool method_awaits(const std::string& kind, const std::string& method) {
  auto it = awaiting().find(kind);
  return it != awaiting().end() && it->second.count(method);
}

bool known_exception_kind(const std::string& kind) { return k_raisable.count(kind) != 0; }

bool known_except_kind(const std::string& kind) {
  return known_exception_kind(kind) || kind == "Exception" || kind == "BaseException" || kind == "ExceptionGroup" ||
         kind == "BaseExceptionGroup";
}

bool except_matches(const exc_info& e, const std::string& clause) {
  if (clause == "BaseException") return true;
  if (clause == "BaseExceptionGroup") return e.is_group();
  if (clause == "Exception")
    return e.kind != "CancelledError" && e.kind != "KeyboardInterrupt" && e.kind != "SystemExit" &&
           e.kind != "BaseExceptionGroup";
  return e.kind == clause;
}

std::string render_kind(const exc_info& e) {
  if (!e.is_group()) return e.kind;
  std::vector<std::string> members;
  for (const auto& m : e.members) members.push_back(render_kind(m));
  std::sort(members.begin(), members.end());
  std::string out = e.kind + "[";
  for (std::size_t i = 0; i < members.size(); ++i) out += (i ? "," : "") + members[i];
  return out + "]";
}

std::string render_exc(const exc_info& e) {
  if (e.is_group()) return render_kind(e);
  return e.kind + "(" + json(e.message).dump() + ")";
}

comparison compare_traces(const scenario& s, const std::vector<event>& expected, const std::vector<event>& actual,
                          long long tolerance_ms) {
  auto exp = expected;
  auto act = actual;
  if (s.compare == "unordered") {
    auto key = [](const event& a, const event& b) { return std::tie(a.task, a.ev, a.t) < std::tie(b.task, b.ev, b.t); };
    std::sort(exp.begin(), exp.end(), key);
    std::sort(act.begin(), act.end(), key);
  }
  for (std::size_t i = 0; i < std::max(exp.size(), act.size()); ++i) {
    if (i >= exp.size()) return {false, "unexpected extra event: " + format_event(act[i])};
    if (i >= act.size()) return {false, "missing event: " + format_event(exp[i])};
    const auto& a = exp[i];
    const auto& b = act[i];
    if (a.task != b.task || a.ev != b.ev || std::llabs(a.t - b.t) > tolerance_ms)
      return {false, "event " + std::to_string(i) + ": expected " + format_event(a) + ", got " + format_event(b)};
  }
  return {true, {}};
}

std::string format_event(const event& e) {
  std::ostringstream o;
  o << e.t << "ms " << e.task << ": " << e.ev;
  return o.str();
}

std::string side_by_side(const std::vector<event>& expected, const std::vector<event>& actual) {
  std::size_t width = 8;
  for (const auto& e : expected) width = std::max(width, format_event(e).size());
  width = std::min<std::size_t>(width, 70);
  std::ostringstream o;
  std::string head = "expected (CPython oracle)";
  o << "    " << head << std::string(width > head.size() ? width - head.size() : 1, ' ') << " | actual\n";
  for (std::size_t i = 0; i < std::max(expected.size(), actual.size()); ++i) {
    std::string l = i < expected.size() ? format_event(expected[i]) : "";
    std::string r = i < actual.size() ? format_event(actual[i]) : "";
    bool same = i < expected.size() && i < actual.size() && expected[i].task == actual[i].task &&
                expected[i].ev == actual[i].ev;
    o << (same ? "    " : " != ") << l << std::string(width > l.size() ? width - l.size() : 1, ' ') << " | " << r
      << "\n";
  }
  return o.str();
}

}  // namespace conform
