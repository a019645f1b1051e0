#include <conform/model.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <coroscope/support/json.hpp>

namespace conform {

namespace {

using coroscope::support::json_type_name;

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

std::string shown_number(const json& v) {
  std::ostringstream o;
  o << v.get<double>();
  return o.str();
}

// Steps written in a document, counted without recursion (the document may not come from our parser).
std::size_t count_steps(const json& doc) {
  std::size_t n = 0;
  std::vector<const json*> todo{&doc};
  while (!todo.empty()) {
    const json* v = todo.back();
    todo.pop_back();
    if (v->is_object()) {
      if (v->contains("op")) ++n;
      for (const auto& [k, x] : v->items())
        if (k != "expected" && x.is_structured()) todo.push_back(&x);
    } else if (v->is_array()) {
      for (const auto& x : *v)
        if (x.is_structured()) todo.push_back(&x);
    }
  }
  return n;
}

// Walks a scenario program: first to learn what kind of object each name denotes, then to validate every
// step and collect the features it needs. Main is validated with every coroutine it starts expanded, as a
// run would instantiate them (arguments substituted), so that a bad argument is a load-time error; the
// expansion is a worklist, never a recursion, and it is where the call-depth, recursion and executed-steps
// limits are enforced. Nested bodies are only looked at through references, never copied.
class validator {
public:
  validator(const json& doc, std::string where) : doc_(doc), where_(std::move(where)) {}

  std::set<std::string> run() {
    if (!doc_.is_object()) fail("", "a scenario is a JSON object");
    if (!doc_.contains("main") || !doc_["main"].is_array()) fail("main", "must be a list of steps");
    if (doc_.contains("coros")) {
      if (!doc_["coros"].is_object()) fail("coros", "must be an object of name -> list of steps");
      for (auto& [name, body] : doc_["coros"].items())
        if (!body.is_array()) fail("coros." + name, "must be a list of steps");
    }
    if (auto n = count_steps(doc_); n > limits::max_steps)
      fail("", std::to_string(n) + " steps: more than the limit of " + std::to_string(limits::max_steps) +
                   " steps in one scenario (limits::max_steps)");
    learn(doc_["main"], 0);
    if (doc_.contains("coros"))
      for (auto& [name, body] : doc_["coros"].items()) learn(body, 0);

    nodes_.push_back({"", -1, 0, 1, json::object(), "main"});
    steps(doc_["main"], "main", false);
    std::set<std::string> started;
    while (!pending_.empty()) {
      current_ = pending_.back();
      pending_.pop_back();
      const node n = nodes_[static_cast<std::size_t>(current_)];
      started.insert(n.coro);
      mult_ = n.mult;
      const json& written = doc_["coros"][n.coro];
      if (n.args.empty()) {
        context_.clear();
        steps(written, "coros." + n.coro, false);
      } else {
        std::string args = n.args.dump();
        if (args.size() > 120) args = args.substr(0, 117) + "...";
        context_ = " (in coroutine " + n.coro + " as started at " + n.at + " with args " + args + ")";
        json instance;
        try {
          instance = substitute_args(written, n.args, &substituted_);
        } catch (const std::length_error& e) {
          fail(n.at + ".args", e.what());
        }
        if (substituted_ > k_max_substituted)
          fail(n.at + ".args", "arguments expand the program to more than " + std::to_string(k_max_substituted) +
                                   " values (limits::max_executed_steps)");
        steps(instance, "coros." + n.coro, false);
      }
    }
    // Coroutines no run starts are checked as written.
    context_.clear();
    expanding_ = false;
    if (doc_.contains("coros"))
      for (auto& [name, body] : doc_["coros"].items())
        if (!started.count(name)) steps(body, "coros." + name, false);
    std::set<std::string> named;  // in the catalogue's spelling (features.cpp)
    for (const auto& f : features_) named.insert(feature_name(f));
    return named;
  }

private:
  // One coroutine instance of the expanded program.
  struct node {
    std::string coro;
    int parent;
    int depth;
    std::uint64_t mult;  // how many times it can run (as_completed's each runs once per item)
    json args;
    std::string at;  // the field that starts it
  };
  static constexpr std::uint64_t k_max_substituted = 40 * limits::max_executed_steps;

  [[noreturn]] void fail(const std::string& field, const std::string& msg) const {
    throw scenario_error(where_, field, msg + context_);
  }

  void define(const json& name, const std::string& kind) {
    if (name.is_string() && !is_param(name)) kinds_[name.get<std::string>()] = kind;
  }

  static const json* nested(const json& s, const char* key) {
    auto it = s.find(key);
    return it != s.end() && it->is_array() ? &*it : nullptr;
  }
  static std::string str(const json& s, const char* key) {
    auto it = s.find(key);
    return it != s.end() && it->is_string() ? it->get<std::string>() : std::string();
  }
  static const json& field(const json& s, const char* key) {
    static const json null;
    auto it = s.find(key);
    return it == s.end() ? null : *it;
  }

  void learn(const json& list, int level) {
    if (!list.is_array() || level > limits::max_json_depth) return;
    for (const auto& s : list) {
      if (!s.is_object()) continue;
      const std::string op = str(s, "op");
      const json& name = field(s, "name");
      if (op == "new") define(name, str(s, "type") == "Future" ? "future" : str(s, "type"));
      if (op == "create_task") define(name, "task");
      if (op == "gather") define(name, "gather");
      if (op == "shield") define(name, "shield");
      if (op == "call_soon" || op == "call_later") define(name, "handle");
      if (op == "timeout") define(name, "timeout");
      if (op == "task_group") define(name, "task_group");
      if (op == "run_in_executor") define(name, "future");
      if (op == "as_completed") define(s.contains("as") ? s["as"] : json("next"), "next");
      for (const char* k : {"body", "finally", "each", "do"})
        if (auto* n = nested(s, k)) learn(*n, level + 1);
      if (auto* ex = nested(s, "except"))
        for (const auto& h : *ex)
          if (h.is_object() && h.contains("body")) learn(h["body"], level + 1);
      if (auto* posts = nested(s, "post"))
        for (const auto& p : *posts) learn(p, level + 1);
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
  void optional_string(const json& s, const char* key, const std::string& p) const {
    if (s.contains(key)) need_string(s, key, p);
  }
  // A time value: finite and within the clocks' range (limits::max_time_ms).
  void time_value(const json& v, const std::string& f, bool nullable) const {
    if (is_param(v) || (nullable && v.is_null())) return;
    if (!v.is_number())
      fail(f, std::string(nullable ? "must be a number of milliseconds or null" : "must be a number of milliseconds") +
                  ", got " + json_type_name(v));
    const double ms = v.get<double>();
    if (!std::isfinite(ms) || std::fabs(ms) > limits::max_time_ms)
      fail(f, shown_number(v) + " ms is out of range: a time value is within +-" +
                  std::to_string(static_cast<long long>(limits::max_time_ms)) + " ms (limits::max_time_ms, 10 hours)");
  }
  void need_number(const json& s, const char* key, const std::string& p, bool nullable) const {
    if (!s.contains(key)) fail(p + "." + key, "is required");
    time_value(s[key], p + "." + key, nullable);
  }
  void int_arg(const json& v, const std::string& f) const {
    if (is_param(v)) return;
    if (!v.is_number_integer()) fail(f, "must be an integer, got " + json_type_name(v));
    const bool in_range = v.is_number_unsigned()
                              ? v.get<std::uint64_t>() <= static_cast<std::uint64_t>(limits::max_int_arg)
                              : v.get<long long>() >= -limits::max_int_arg && v.get<long long>() <= limits::max_int_arg;
    if (!in_range)
      fail(f, v.dump() + " is out of range: an integer argument is within +-" + std::to_string(limits::max_int_arg) +
                  " (limits::max_int_arg)");
  }
  const json& args_of(const json& s, const std::string& p, std::size_t min, std::size_t max) const {
    static const json none = json::array();
    if (!s.contains("args")) {
      if (min > 0) fail(p + ".args", "is required: a list of " + std::to_string(min) + " argument(s)");
      return none;
    }
    const json& a = s["args"];
    if (!a.is_array()) fail(p + ".args", "must be a list, got " + json_type_name(a));
    if (a.size() < min || a.size() > max)
      fail(p + ".args", "takes " + (min == max ? std::to_string(min) : std::to_string(min) + " to " + std::to_string(max)) +
                            " argument(s), got " + std::to_string(a.size()));
    return a;
  }
  // A value expression (log's value, return's value, a job's return).
  void expression(const json& v, const std::string& f) const {
    if (!v.is_object() || v.size() != 1) return;
    for (const char* key : {"var", "exc", "exc_kind"})
      if (v.contains(key) && !v[key].is_string()) fail(f + "." + key, "must be a name (a string)");
  }

  // A coroutine reference: checks it and, while expanding, schedules the instance it starts.
  void need_coro(const json& spec, const std::string& p) {
    if (!spec.contains("coro") || !spec["coro"].is_string()) fail(p + ".coro", "must name a coroutine");
    auto name = spec["coro"].get<std::string>();
    if (!doc_.contains("coros") || !doc_["coros"].is_object() || !doc_["coros"].contains(name))
      fail(p + ".coro", "no coroutine named \"" + name + "\" in \"coros\"");
    if (spec.contains("args") && !spec["args"].is_object()) fail(p + ".args", "must be an object");
    if (!expanding_) return;
    const int depth = nodes_[static_cast<std::size_t>(current_)].depth + 1;
    // Node 0 is main, which no step can start.
    for (int n = current_; n > 0; n = nodes_[static_cast<std::size_t>(n)].parent) {
      if (nodes_[static_cast<std::size_t>(n)].coro != name) continue;
      std::string chain = name;
      for (int m = current_; m > 0; m = nodes_[static_cast<std::size_t>(m)].parent)
        chain = nodes_[static_cast<std::size_t>(m)].coro + " -> " + chain;
      fail(p + ".coro", "coroutine \"" + name + "\" starts itself (main -> " + chain +
                            "): a scenario has no condition that could end the recursion");
    }
    if (depth > limits::max_call_depth)
      fail(p + ".coro", "coroutines started by coroutines nest deeper than the limit of " +
                            std::to_string(limits::max_call_depth) + " (limits::max_call_depth)");
    charge(1, p);
    nodes_.push_back({name, current_, depth, mult_, spec.value("args", json::object()), p});
    pending_.push_back(static_cast<int>(nodes_.size() - 1));
  }
  // Counts what a run executes (limits::max_executed_steps).
  void charge(std::uint64_t n, const std::string& p) {
    if (!expanding_) return;
    executed_ += n * mult_;
    if (executed_ > limits::max_executed_steps)
      fail(p, "the program runs more than " + std::to_string(limits::max_executed_steps) +
                  " steps with its coroutines expanded (limits::max_executed_steps)");
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
  const json& list_field(const json& s, const char* key, const std::string& p, const char* what) const {
    if (!s.contains(key) || !s[key].is_array()) fail(p + "." + key, what);
    return s[key];
  }
  void body(const json& s, const char* key, bool cb) {
    static const json none = json::array();
    steps(s.contains(key) ? s[key] : none, std::string(".") + key, cb);
  }

  // Validates the list at path_ + suffix. path_ grows and shrinks with the walk (step's `p` is path_
  // itself), so a program nested n deep costs one path, not n paths of length up to n.
  void steps(const json& list, std::string_view suffix, bool in_callback) {
    const std::size_t mark = path_.size();
    path_ += suffix;
    if (!list.is_array()) fail(path_, "must be a list of steps");
    // Only documents built in code can get here deeper than the parser's limit.
    if (++level_ > limits::max_json_depth) fail(path_, "steps nest deeper than the limit (limits::max_json_depth)");
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::size_t item = path_.size();
      path_ += "[" + std::to_string(i) + "]";
      step(list[i], path_, in_callback);
      path_.resize(item);
    }
    --level_;
    path_.resize(mark);
  }

  void method_args(const json& s, const std::string& m, const std::string& p) {
    if (m == "cancel") {
      const json& a = args_of(s, p, 0, 1);
      if (!a.empty() && !a[0].is_string()) fail(p + ".args[0]", "must be a string (the cancel message)");
    } else if (m == "set_result" || m == "put" || m == "put_nowait") {
      args_of(s, p, 1, 1);
    } else if (m == "set_exception") {
      const json& a = args_of(s, p, 1, 2);
      exception_kind(a[0], p + ".args[0]");
      if (a.size() > 1 && !a[1].is_string() && !is_param(a[1])) fail(p + ".args[1]", "must be a string (the message)");
    } else if (m == "reschedule") {
      time_value(args_of(s, p, 1, 1)[0], p + ".args[0]", true);
    } else if (m == "notify") {
      const json& a = args_of(s, p, 0, 1);
      if (!a.empty()) int_arg(a[0], p + ".args[0]");
    } else {
      args_of(s, p, 0, 0);
    }
  }

  void step(const json& s, const std::string& p, bool cb) {
    if (!s.is_object() || !s.contains("op") || !s["op"].is_string()) fail(p, "a step is an object with an \"op\"");
    charge(1, p);
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
    if (op != "as_completed") optional_string(s, "as", p);
    if (op == "log") {
      if (s.contains("msg") && !s["msg"].is_string()) fail(p + ".msg", "must be a string");
      if (s.contains("value")) expression(s["value"], p + ".value");
    } else if (op == "sleep") {
      need_number(s, "ms", p, false);
    } else if (op == "return") {
      if (s.contains("value")) expression(s["value"], p + ".value");
    } else if (op == "raise") {
      if (s.contains("kind")) exception_kind(s["kind"], p + ".kind");
      if (cb) features_.insert("exception_handler");
    } else if (op == "new") {
      need_string(s, "name", p);
      if (!s.contains("type") || !s["type"].is_string() || !k_types.count(s["type"].get<std::string>()))
        fail(p + ".type", "must be one of Future, Event, Lock, Semaphore, BoundedSemaphore, Condition, Barrier, Queue, "
                          "LifoQueue, PriorityQueue");
      const std::string type = s["type"];
      const bool sized = type == "Semaphore" || type == "BoundedSemaphore" || type == "Queue" || type == "LifoQueue" ||
                         type == "PriorityQueue";
      const json& a = args_of(s, p, type == "Barrier" ? 1 : 0, type == "Barrier" || sized ? 1 : 0);
      if (!a.empty()) int_arg(a[0], p + ".args[0]");
      features_.insert("new:" + type);
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
      auto k = kind_of(s["target"]);
      const std::string m = s["method"];
      if (s["target"] == "self") features_.insert("self");
      if (k != "?" && !has_method(k, m)) fail(p + ".method", "a " + k + " has no method \"" + m + "\"");
      if (cb && k != "?" && method_awaits(k, m)) fail(p + ".method", "\"" + m + "\" awaits: not allowed in a callback");
      features_.insert("call:" + k + "." + m);
      method_args(s, m, p);
    } else if (op == "gather") {
      need_string(s, "name", p);
      const json& items = list_field(s, "items", p, "must be a list");
      for (std::size_t i = 0; i < items.size(); ++i) awaitable_item(items[i], p + ".items[" + std::to_string(i) + "]");
      if (s.contains("return_exceptions")) {
        if (!s["return_exceptions"].is_boolean()) fail(p + ".return_exceptions", "must be true or false");
        if (s["return_exceptions"].get<bool>()) features_.insert("gather:return_exceptions");
      }
    } else if (op == "shield") {
      need_string(s, "name", p);
      if (!s.contains("target")) fail(p + ".target", "is required");
      awaitable_item(s["target"], p + ".target");
    } else if (op == "wait") {
      const json& items = list_field(s, "items", p, "must be a list of object names");
      for (std::size_t i = 0; i < items.size(); ++i) {
        if (!items[i].is_string()) fail(p + ".items[" + std::to_string(i) + "]", "wait takes object names");
        awaitable_item(items[i], p + ".items[" + std::to_string(i) + "]");
      }
      const json& rwv = s.contains("return_when") ? s["return_when"] : json("ALL_COMPLETED");
      if (!rwv.is_string() || !k_return_when.count(rwv.get<std::string>()))
        fail(p + ".return_when", "must be ALL_COMPLETED, FIRST_COMPLETED or FIRST_EXCEPTION");
      features_.insert("wait:" + rwv.get<std::string>());
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
      const json& items = list_field(s, "items", p, "must be a list");
      for (std::size_t i = 0; i < items.size(); ++i) awaitable_item(items[i], p + ".items[" + std::to_string(i) + "]");
      if (s.contains("timeout_ms")) {
        need_number(s, "timeout_ms", p, true);
        features_.insert("as_completed:timeout");
      }
      optional_string(s, "as", p);
      // `each` runs once per item.
      const std::uint64_t outer = mult_;
      mult_ = std::min<std::uint64_t>(mult_ * std::max<std::size_t>(items.size(), 1), limits::max_executed_steps + 1);
      body(s, "each", cb);
      mult_ = outer;
    } else if (op == "timeout") {
      if (s.contains("ms")) {
        need_number(s, "ms", p, true);
      } else if (s.contains("at")) {
        need_number(s, "at", p, false);
        features_.insert("timeout:at");
      } else {
        fail(p, "a timeout needs \"ms\" (a delay, or null for none) or \"at\" (absolute ms)");
      }
      if (s.contains("name") && !s["name"].is_null()) need_string(s, "name", p);
      body(s, "body", cb);
    } else if (op == "task_group") {
      need_string(s, "name", p);
      body(s, "body", cb);
    } else if (op == "with") {
      need_string(s, "target", p);
      auto k = kind_of(s["target"]);
      if (k != "?" && k != "Lock" && k != "Semaphore" && k != "BoundedSemaphore" && k != "Condition")
        fail(p + ".target", "async with takes a Lock, Semaphore, BoundedSemaphore or Condition");
      features_.insert("with:" + k);
      body(s, "body", cb);
    } else if (op == "try") {
      body(s, "body", cb);
      if (s.contains("except")) {
        const json& handlers = list_field(s, "except", p, "must be a list of handlers");
        for (std::size_t i = 0; i < handlers.size(); ++i) {
          const auto& h = handlers[i];
          auto hp = p + ".except[" + std::to_string(i) + "]";
          if (!h.is_object() || !h.contains("kind") || !h["kind"].is_string() ||
              !known_except_kind(h["kind"].get<std::string>()))
            fail(hp + ".kind", "must be an exception kind (see SCENARIOS.md)");
          optional_string(h, "as", hp);
          static const json none = json::array();
          steps(h.contains("body") ? h["body"] : none, ".except[" + std::to_string(i) + "].body", cb);
        }
      }
      if (s.contains("finally")) steps(s["finally"], ".finally", cb);
    } else if (op == "call_soon" || op == "call_later") {
      if (op == "call_later") need_number(s, "ms", p, false);
      optional_string(s, "name", p);
      body(s, "do", true);
    } else if (op == "add_done_callback") {
      need_string(s, "target", p);
      body(s, "do", true);
    } else if (op == "run_in_executor" || op == "to_thread") {
      if (op == "run_in_executor") need_string(s, "name", p);
      if (s.contains("raise")) exception_kind(s["raise"], p + ".raise");
      if (s.contains("return")) expression(s["return"], p + ".return");
      if (s.contains("post")) {
        const json& posts = list_field(s, "post", p, "must be a list of callbacks (lists of steps)");
        for (std::size_t i = 0; i < posts.size(); ++i) steps(posts[i], ".post[" + std::to_string(i) + "]", true);
      }
    }
  }

  const json& doc_;
  std::string where_;
  std::map<std::string, std::string> kinds_;
  std::set<std::string> features_;
  std::vector<node> nodes_;
  std::vector<int> pending_;
  int current_ = 0;
  std::uint64_t mult_ = 1;
  std::uint64_t executed_ = 0;
  std::uint64_t substituted_ = 0;
  bool expanding_ = true;
  int level_ = 0;
  std::string path_;
  std::string context_;
};

}  // namespace

std::uint64_t values_in(const json& v) {
  std::uint64_t n = 1 + (v.is_string() ? v.get_ref<const std::string&>().size() / 64 : 0);
  if (v.is_structured())
    for (const auto& x : v) n += values_in(x);
  return n;
}

json substitute_args(const json& node, const json& args, std::uint64_t* produced) {
  if (produced) ++*produced;
  if (node.is_string()) {
    std::string s = node;
    for (auto& [k, v] : args.items()) {
      std::string token = "${" + k + "}";
      if (s == token) {
        if (produced) *produced += values_in(v);
        return v;
      }
      const std::string text = v.is_string() ? v.get<std::string>() : v.dump();
      // Searching on after the replacement: an argument may contain its own token.
      for (std::size_t at = s.find(token); at != std::string::npos; at = s.find(token, at + text.size())) {
        if (s.size() - token.size() + text.size() > limits::max_file_bytes)
          throw std::length_error("arguments expand a string beyond " + std::to_string(limits::max_file_bytes) +
                                  " bytes (limits::max_file_bytes)");
        s.replace(at, token.size(), text);
      }
    }
    if (produced) *produced += s.size() / 64;
    return s;
  }
  if (node.is_array()) {
    json out = json::array();
    for (const auto& n : node) out.push_back(substitute_args(n, args, produced));
    return out;
  }
  if (node.is_object()) {
    json out = json::object();
    for (auto& [k, v] : node.items()) out[k] = substitute_args(v, args, produced);
    return out;
  }
  return node;
}

json to_json(const event& e) { return json{{"t", e.t}, {"task", e.task}, {"ev", e.ev}}; }

std::vector<event> trace_from_json(const json& j, const std::string& where) {
  if (!j.is_array()) throw scenario_error(where, "expected.trace", "must be a list of events");
  std::vector<event> out;
  for (std::size_t i = 0; i < j.size(); ++i) {
    const auto& e = j[i];
    if (!e.is_object() || !e.contains("t") || !e["t"].is_number_integer() ||
        std::fabs(e["t"].get<double>()) > limits::max_time_ms * static_cast<double>(limits::max_executed_steps) ||
        !e.contains("task") ||
        !e["task"].is_string() || !e.contains("ev") || !e["ev"].is_string())
      throw scenario_error(where, "expected.trace[" + std::to_string(i) + "]",
                           "an event is {\"t\": integer ms, \"task\": string, \"ev\": string}");
    out.push_back({e["t"].get<long long>(), e["task"], e["ev"]});
  }
  return out;
}

bool scenario::version_specific() const { return std::find(tags.begin(), tags.end(), "VER") != tags.end(); }

std::set<std::string> features_of(const json& doc, const std::string& where) { return validator(doc, where).run(); }

namespace {

coroscope::support::json_limits scenario_json_limits() {
  return {limits::max_file_bytes, limits::max_json_depth};
}

// support's input_error as a scenario_error: the same file, no field, its message without the file's name.
[[noreturn]] void rethrow_as_scenario_error(const coroscope::support::input_error& e, const std::string& path) {
  std::string what = e.what();
  const std::string prefix = e.file + ": ";
  throw scenario_error(path, e.field, what.rfind(prefix, 0) == 0 ? what.substr(prefix.size()) : what);
}

}  // namespace

scenario load_scenario(const std::string& path) {
  json doc;
  try {
    doc = coroscope::support::read_json_file(path, scenario_json_limits());
  } catch (const coroscope::support::input_error& e) {
    rethrow_as_scenario_error(e, path);
  }
  return scenario_from_json(std::move(doc), path);
}

scenario parse_scenario(std::string_view text, const std::string& path) {
  json doc;
  try {
    doc = coroscope::support::parse_json(text, path, scenario_json_limits());
  } catch (const coroscope::support::input_error& e) {
    rethrow_as_scenario_error(e, path);
  }
  return scenario_from_json(std::move(doc), path);
}

scenario scenario_from_json(json doc, const std::string& path) {
  scenario s;
  s.file = path;
  s.doc = std::move(doc);
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
  if (s.doc["expected"].contains("python") && !s.doc["expected"]["python"].is_string())
    throw scenario_error(path, "expected.python", "must be a string");
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
