#pragma once
// The scenario interpreter, written once for every runtime. It is a template over the runtime's traits
// class R (ADAPTERS.md lists what R provides): the interpreter's own coroutines are R::co, so they run
// *on* the runtime under test, and every step that touches concurrency (spawn, sleep, await, cancel,
// gather, ...) is delegated to R. Events are formatted here, with the same rules as the Python oracle, so
// two runtimes can only differ in behaviour, never in wording.
#include <conform/model.hpp>

#include <cmath>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace conform {

// How the main coroutine ended.
struct run_outcome {
  enum class kind { value, exception, deadlock };
  kind how = kind::value;
  json value;
  std::exception_ptr error;
};

inline bool is_return(const json& r) { return r.is_object() && r.contains("$return"); }
inline json no_return() { return json(json::value_t::discarded); }

// Errors of the scenario, of the adapter itself or of the run's budget: an `except` clause never catches
// them. A JSON library error would be a defect of the interpreter: it must stop the run, not become a
// scenario's RuntimeError.
inline bool is_internal(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const scenario_error&) {
    return true;
  } catch (const unsupported_error&) {
    return true;
  } catch (const budget_error&) {
    return true;
  } catch (const json::exception&) {
    return true;
  } catch (...) {
    return false;
  }
}

// Where a step is, for error messages: a chain of segments ("main", "[2]", ".body", ...) that the
// coroutine frames of nested steps share, so a program nested n deep holds n segments, not n paths of
// length n (which made deep `try` nesting quadratic). Turned into text only when an error names it.
struct step_path_node;
using step_path = std::shared_ptr<const step_path_node>;
struct step_path_node {
  step_path parent;
  std::string segment;
};
inline step_path path_at(step_path parent, std::string segment) {
  return std::make_shared<const step_path_node>(step_path_node{std::move(parent), std::move(segment)});
}
inline std::string text(const step_path& w) {
  std::vector<const std::string*> parts;
  for (const step_path_node* n = w.get(); n; n = n->parent.get()) parts.push_back(&n->segment);
  std::string out;
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) out += **it;
  return out;
}

template <class R>
class interpreter {
public:
  using co = typename R::co;
  using object = typename R::object;

  // An item of gather / shield / wait_for / as_completed: an existing object or a coroutine to start.
  struct arg {
    std::string label;  // the object's name, or coro:<name>
    std::string kind;   // task, future, gather, shield, or coro
    object obj{};
    std::optional<co> coro;
  };

  interpreter(const json& doc, std::string where, R& rt) : doc_(doc), where_(std::move(where)), rt_(rt) {}

  std::vector<event> run() {
    rt_.set_event_sink([this](const std::string& label, const std::string& text) { emit(label, text); });
    run_outcome out = rt_.run([this]() { return body(&doc_["main"], "main", path_at(nullptr, "main")); });
    if (fatal_) std::rethrow_exception(fatal_);
    switch (out.how) {
      case run_outcome::kind::value:
        emit("-", "final main = " + dump(out.value));
        break;
      case run_outcome::kind::exception:
        if (is_internal(out.error)) std::rethrow_exception(out.error);
        emit("-", "final main raised " + render_kind(rt_.classify(out.error)));
        break;
      case run_outcome::kind::deadlock:
        emit("-", "final main deadlock");
        break;
    }
    for (auto& [name, named] : objects_)
      if (named.kind == "task") emit("-", "final " + name + " " + rt_.final_state(named.obj));
    recording_ = false;
    rt_.set_event_sink([](const std::string&, const std::string&) {});  // the runtime may outlive us
    return std::move(trace_);
  }

  void emit(const std::string& label, const std::string& text) {
    if (!recording_) return;
    trace_bytes_ += label.size() + text.size() + sizeof(event);
    if (trace_bytes_ > limits::trace_budget_bytes) {
      // Called from the runtime's own callbacks too: the next step stops the run.
      recording_ = false;
      if (!fatal_)
        fatal_ = std::make_exception_ptr(budget_error(where_ + ": run-time budget: the trace grew beyond " +
                                                      std::to_string(limits::trace_budget_bytes) +
                                                      " bytes (limits::trace_budget_bytes); the run was stopped"));
      return;
    }
    trace_.push_back({std::llround(rt_.now_ms()), label, text});
  }

private:
  struct env {
    std::string label;
    std::vector<std::exception_ptr> handling;  // innermost last, for a bare `raise`
  };
  using env_ptr = std::shared_ptr<env>;
  struct slot {
    std::string kind;
    object obj;
  };

  [[noreturn]] void fail(const std::string& field, const std::string& msg) { throw scenario_error(where_, field, msg); }

  // ---- names ---------------------------------------------------------------------------------------
  slot& lookup(const json& name, const std::string& p) {
    if (!name.is_string()) fail(p, "must be an object name");
    auto it = objects_.find(name.get<std::string>());
    if (it == objects_.end()) fail(p, "no object named \"" + name.get<std::string>() + "\"");
    return it->second;
  }
  // "self" is the current task; any other name is looked up.
  slot resolve(const json& name, const std::string& p) {
    if (name == "self") return {"task", rt_.current_task()};
    return lookup(name, p);
  }
  void bind(const json& name, const std::string& kind, object o) {
    objects_[name.get<std::string>()] = slot{kind, std::move(o)};
  }

  // ---- coroutine bodies ------------------------------------------------------------------------------
  const json* instantiate(const json& spec) {
    bodies_.push_back(substitute_args(doc_["coros"][spec["coro"].template get<std::string>()], spec.value("args", json::object())));
    return &bodies_.back();
  }
  co body(const json* steps, std::string label, step_path path) {
    auto e = std::make_shared<env>();
    e->label = std::move(label);
    std::exception_ptr err;
    json r;
    try {
      r = co_await run_steps(steps, e, path);
    } catch (...) {
      err = std::current_exception();
    }
    if (err) {
      // A malformed step inside a task nobody awaits must still fail the run.
      if (is_internal(err) && !fatal_) fatal_ = err;
      std::rethrow_exception(err);
    }
    co_return is_return(r) ? r["$return"] : json();
  }
  arg make_arg(const json& item, const std::string& label, const std::string& p) {
    if (item.is_string()) {
      auto& s = lookup(item, p);
      return arg{item.get<std::string>(), s.kind, s.obj, std::nullopt};
    }
    const std::string name = item["coro"];
    return arg{"coro:" + name, "coro", object{}, body(instantiate(item), label, path_at(nullptr, "coros." + name))};
  }

  // ---- values ----------------------------------------------------------------------------------------
  json evaluate(const json& expr, const std::string& p) {
    if (expr.is_object() && expr.size() == 1) {
      if (expr.contains("var")) {
        auto it = values_.find(expr["var"].template get<std::string>());
        if (it == values_.end()) fail(p, "no stored value named " + expr["var"].dump());
        return it->second;
      }
      // True on an executor's worker thread (a job's `return`), false on the loop's.
      if (expr.contains("other_thread")) return std::this_thread::get_id() != loop_thread_;
    }
    return expr;
  }
  std::string render(const json& expr, const std::string& p) {
    if (expr.is_object() && expr.size() == 1) {
      for (const char* key : {"exc", "exc_kind"}) {
        if (!expr.contains(key)) continue;
        auto it = caught_.find(expr[key].template get<std::string>());
        if (it == caught_.end()) fail(p, std::string("no caught exception named ") + expr[key].dump());
        return std::string(key) == "exc" ? render_exc(it->second) : render_kind(it->second);
      }
    }
    return dump(evaluate(expr, p));
  }
  // A raise's message: the scenario's text, or a non-string value's JSON.
  static std::optional<std::string> message_of(const json& s) {
    if (!s.contains("msg")) return std::nullopt;
    return s["msg"].is_string() ? s["msg"].template get<std::string>() : s["msg"].dump();
  }
  static std::optional<double> opt_ms(const json& s, const char* key) {
    if (!s.contains(key) || s[key].is_null()) return std::nullopt;
    return s[key].template get<double>();
  }
  static std::string call_label(const json& s) {
    std::string args;
    for (const auto& a : s.value("args", json::array())) {
      // Appended piecewise: `"," + a.dump()` trips g++ 12's false -Wrestrict (PR 105329) in users' builds.
      if (!args.empty()) args += ',';
      args += a.dump();
    }
    return s["target"].template get<std::string>() + "." + s["method"].template get<std::string>() + "(" + args + ")";
  }

  // ---- steps -----------------------------------------------------------------------------------------
  bool is_sync(const json& s) {
    static const std::set<std::string> sync_ops{"log",        "raise",     "new",       "create_task", "gather",
                                                "shield",     "call_soon", "call_later", "add_done_callback",
                                                "run_in_executor"};
    const std::string op = s["op"];
    if (sync_ops.count(op)) return true;
    if (op != "call") return false;
    if (s["target"] == "self") return true;
    auto it = objects_.find(s["target"].template get<std::string>());
    return it == objects_.end() || !method_awaits(it->second.kind, s["method"]);
  }

  // Every step executed passes here (limits::step_budget). Once the run has a fatal error, every step
  // raises it, so a run that went wrong ends instead of running on.
  void spend(const step_path& p) {
    if (fatal_) std::rethrow_exception(fatal_);
    if (++executed_ > limits::step_budget) {
      fatal_ = std::make_exception_ptr(budget_error(
          where_ + ": " + text(p) + ": run-time budget: the run executed more than " + std::to_string(limits::step_budget) +
          " steps (limits::step_budget), more than the program can ask for: the runtime ran some of them again"));
      std::rethrow_exception(fatal_);
    }
  }

  co run_steps(const json* steps, env_ptr e, step_path path) {
    for (std::size_t i = 0; i < steps->size(); ++i) {
      const json& s = (*steps)[i];
      step_path p = path_at(path, "[" + std::to_string(i) + "]");
      spend(p);
      if (is_sync(s)) {
        sync_step(s, *e, text(p));
        continue;
      }
      json r = co_await async_step(&s, e, p);
      if (is_return(r)) co_return r;
    }
    co_return no_return();
  }

  void callback(const json* steps, const std::string& path) {
    env e{"cb", {}};
    try {
      for (std::size_t i = 0; i < steps->size(); ++i) {
        step_path p = path_at(nullptr, path + "[" + std::to_string(i) + "]");
        spend(p);
        sync_step((*steps)[i], e, text(p));
      }
    } catch (...) {
      auto err = std::current_exception();
      if (is_internal(err) && !fatal_) fatal_ = err;
      throw;  // the runtime reports it to its exception handler, as asyncio does
    }
  }

  void sync_step(const json& s, env& e, const std::string& p) {
    const std::string op = s["op"];
    if (op == "log") {
      std::string text = "log " + s.value("msg", std::string());
      if (s.contains("value")) text += " " + render(s["value"], p + ".value");
      emit(e.label, text);
    } else if (op == "raise") {
      if (!s.contains("kind")) {
        if (e.handling.empty()) fail(p, "a bare raise (no \"kind\") is only allowed inside an except clause");
        std::rethrow_exception(e.handling.back());
      }
      std::rethrow_exception(rt_.make_exception(s["kind"], message_of(s)));
    } else if (op == "new") {
      const std::string type = s["type"];
      bind(s["name"], type == "Future" ? "future" : type, rt_.new_object(type, s.value("args", json::array())));
    } else if (op == "create_task") {
      const std::string name = s["name"];
      std::optional<object> group;
      if (s.contains("group")) group = lookup(s["group"], p + ".group").obj;
      co c = body(instantiate(s), name, path_at(nullptr, "coros." + s["coro"].template get<std::string>()));
      bind(s["name"], "task", rt_.spawn(std::move(c), name, group ? &*group : nullptr));
    } else if (op == "gather") {
      const std::string name = s["name"];
      std::vector<arg> items;
      for (std::size_t i = 0; i < s["items"].size(); ++i)
        items.push_back(make_arg(s["items"][i], name + "." + std::to_string(i), p + ".items[" + std::to_string(i) + "]"));
      bind(s["name"], "gather", rt_.gather(std::move(items), s.value("return_exceptions", false)));
    } else if (op == "shield") {
      bind(s["name"], "shield", rt_.shield(make_arg(s["target"], s["name"].template get<std::string>() + ".inner", p + ".target")));
    } else if (op == "call_soon" || op == "call_later") {
      const json* steps = &s["do"];
      std::string dp = p + ".do";
      auto fn = [this, steps, dp] { callback(steps, dp); };
      object h = op == "call_soon" ? rt_.call_soon(std::move(fn)) : rt_.call_later(s["ms"].template get<double>(), std::move(fn));
      if (s.contains("name")) bind(s["name"], "handle", std::move(h));
    } else if (op == "add_done_callback") {
      auto& target = lookup(s["target"], p + ".target");
      const json* steps = &s["do"];
      std::string dp = p + ".do";
      rt_.add_done_callback(target.kind, target.obj, [this, steps, dp] { callback(steps, dp); });
    } else if (op == "run_in_executor") {
      bind(s["name"], "future", rt_.run_in_executor(job(s, p)));
    } else if (op == "call") {
      slot target = resolve(s["target"], p + ".target");
      const std::string label = call_label(s);
      json v;
      try {
        v = rt_.call(target.kind, target.obj, s["method"], s.value("args", json::array()));
      } catch (...) {
        auto err = std::current_exception();
        if (!is_internal(err)) emit(e.label, label + " raised " + render_kind(rt_.classify(err)));
        throw;
      }
      emit(e.label, label + " = " + dump(v));
      if (s.contains("as")) values_[s["as"]] = v;
    } else {
      throw unsupported_error("op:" + op);
    }
  }

  // The function of run_in_executor / to_thread, run on a worker thread. What it needs from the scenario
  // (the exception, a stored value) is prepared here on the loop's thread, as the oracle creates the
  // exception before submitting; on the worker it only posts its callbacks with the runtime's
  // call_soon_threadsafe, in order, then raises or returns (answering `other_thread` there).
  std::function<json()> job(const json& s, const std::string& p) {
    std::exception_ptr raise;
    if (s.contains("raise")) raise = rt_.make_exception(s["raise"], message_of(s));
    json value = s.value("return", json());
    const bool asks_thread = value.is_object() && value.size() == 1 && value.contains("other_thread");
    if (!asks_thread) value = evaluate(value, p + ".return");
    std::vector<std::function<void()>> posts;
    for (std::size_t i = 0; s.contains("post") && i < s["post"].size(); ++i) {
      const json* steps = &s["post"][i];
      std::string cp = p + ".post[" + std::to_string(i) + "]";
      posts.push_back([this, steps, cp] { callback(steps, cp); });
    }
    return [this, posts = std::move(posts), raise, value, asks_thread, p]() -> json {
      for (const auto& cb : posts) rt_.call_soon_threadsafe(cb);
      if (raise) std::rethrow_exception(raise);
      return asks_thread ? evaluate(value, p + ".return") : value;
    };
  }

  // Awaits `aw` and records its outcome as "<label> = value" or "<label> raised Kind".
  co outcome(std::string label, env_ptr e, const json* s, co aw) {
    std::exception_ptr err;
    json v;
    try {
      v = co_await std::move(aw);
    } catch (...) {
      err = std::current_exception();
    }
    if (err) {
      if (!is_internal(err)) emit(e->label, label + " raised " + render_kind(rt_.classify(err)));
      std::rethrow_exception(err);
    }
    emit(e->label, label + " = " + dump(v));
    if (s->contains("as")) values_[(*s)["as"]] = v;
    co_return no_return();
  }

  co wait_named(std::vector<std::string> names, co inner) {
    json idx = co_await std::move(inner);
    json out = json::array();
    for (const auto& part : idx) {
      std::vector<std::string> v;
      for (const auto& i : part) v.push_back(names.at(i.template get<std::size_t>()));
      std::sort(v.begin(), v.end());
      v.erase(std::unique(v.begin(), v.end()), v.end());
      out.push_back(v);
    }
    co_return out;
  }

  std::function<co()> body_fn(const json& s, const char* key, env_ptr e, step_path p) {
    const json* steps = s.contains(key) ? &s[key] : &empty_;
    return [this, steps, e, p] { return run_steps(steps, e, p); };
  }

  co async_step(const json* sp, env_ptr e, step_path w) {
    const json& s = *sp;
    const std::string op = s["op"];
    if (op == "sleep" || op == "yield") {
      co_await rt_.sleep(op == "sleep" ? s["ms"].template get<double>() : 0.0);
    } else if (op == "return") {
      co_return json{{"$return", evaluate(s.value("value", json()), text(w) + ".value")}};
    } else if (op == "await") {
      if (s.contains("coro")) {
        const std::string name = s["coro"];
        co_await outcome("await coro:" + name, e, sp, body(instantiate(s), e->label, path_at(nullptr, "coros." + name)));
      } else {
        auto& target = lookup(s["target"], text(w) + ".target");
        std::string kind = target.kind;
        object obj = target.obj;
        if (kind == "next") objects_.erase(s["target"].template get<std::string>());  // awaited once
        co_await outcome("await " + s["target"].template get<std::string>(), e, sp, rt_.await_obj(kind, obj));
      }
    } else if (op == "call") {
      slot target = resolve(s["target"], text(w) + ".target");
      co_await outcome(call_label(s), e, sp, rt_.call_async(target.kind, target.obj, s["method"], s.value("args", json::array())));
    } else if (op == "wait") {
      std::vector<arg> items;
      std::vector<std::string> names;
      for (std::size_t i = 0; i < s["items"].size(); ++i) {
        items.push_back(make_arg(s["items"][i], "", text(w) + ".items[" + std::to_string(i) + "]"));
        names.push_back(s["items"][i]);
      }
      co_await outcome("wait", e, sp,
                       wait_named(names, rt_.wait(std::move(items), s.value("return_when", std::string("ALL_COMPLETED")),
                                                  opt_ms(s, "timeout_ms"))));
    } else if (op == "wait_for") {
      arg a = s.contains("coro") ? make_arg(json{{"coro", s["coro"]}, {"args", s.value("args", json::object())}},
                                            "wait_for.inner", text(w))
                                 : make_arg(s["target"], "wait_for.inner", text(w) + ".target");
      std::string label = "wait_for " + a.label;
      co_await outcome(label, e, sp, rt_.wait_for(std::move(a), opt_ms(s, "timeout_ms")));
    } else if (op == "as_completed") {
      // Callables are named locals, not temporaries of the co_await expression: g++ 12 destroys such
      // temporaries twice across the suspension.
      std::vector<arg> items;
      for (std::size_t i = 0; i < s["items"].size(); ++i)
        items.push_back(make_arg(s["items"][i], "as_completed." + std::to_string(i), text(w) + ".items[" + std::to_string(i) + "]"));
      std::string var = s.value("as", std::string("next"));
      std::function<co()> each = body_fn(s, "each", e, path_at(w, ".each"));
      std::function<co(object)> step_each = [this, var, each](object next) {
        objects_[var] = slot{"next", std::move(next)};
        return each();
      };
      std::optional<double> timeout = opt_ms(s, "timeout_ms");
      json r = co_await rt_.as_completed(std::move(items), timeout, step_each);
      if (is_return(r)) co_return r;
    } else if (op == "timeout") {
      std::optional<double> delay = opt_ms(s, "ms");
      std::optional<double> at = opt_ms(s, "at");
      json name = s.value("name", json());
      std::function<void(object)> bind_cm = [this, name](object cm) {
        if (name.is_string()) bind(name, "timeout", std::move(cm));
      };
      std::function<co()> inner = body_fn(s, "body", e, path_at(w, ".body"));
      json r = co_await rt_.timeout(delay, at, bind_cm, inner);
      if (is_return(r)) co_return r;
    } else if (op == "task_group") {
      json name = s["name"];
      std::function<void(object)> bind_tg = [this, name](object tg) { bind(name, "task_group", std::move(tg)); };
      std::function<co()> inner = body_fn(s, "body", e, path_at(w, ".body"));
      json r = co_await rt_.task_group(bind_tg, inner);
      if (is_return(r)) co_return r;
    } else if (op == "with") {
      auto& target = lookup(s["target"], text(w) + ".target");
      std::string kind = target.kind;
      object obj = target.obj;
      std::function<co()> inner = body_fn(s, "body", e, path_at(w, ".body"));
      json r = co_await rt_.with(kind, obj, inner);
      if (is_return(r)) co_return r;
    } else if (op == "to_thread") {
      co_await outcome("await to_thread", e, sp, rt_.to_thread(job(s, text(w))));
    } else if (op == "try") {
      json r = co_await try_step(sp, e, w);
      if (is_return(r)) co_return r;
    } else {
      throw unsupported_error("op:" + op);
    }
    co_return no_return();
  }

  co try_step(const json* sp, env_ptr e, step_path w) {
    const json& s = *sp;
    std::exception_ptr pending;
    json result = no_return();
    try {
      result = co_await run_steps(s.contains("body") ? &s["body"] : &empty_, e, path_at(w, ".body"));
    } catch (...) {
      pending = std::current_exception();
    }
    if (pending && !is_internal(pending) && s.contains("except")) {
      exc_info info = rt_.classify(pending);
      const auto& handlers = s["except"];
      for (std::size_t i = 0; i < handlers.size(); ++i) {
        const auto& h = handlers[i];
        if (!except_matches(info, h["kind"])) continue;
        if (h.contains("as")) caught_[h["as"]] = info;
        std::exception_ptr handled = std::exchange(pending, nullptr);
        e->handling.push_back(handled);
        try {
          result = co_await run_steps(h.contains("body") ? &h["body"] : &empty_, e,
                                      path_at(w, ".except[" + std::to_string(i) + "].body"));
        } catch (...) {
          pending = std::current_exception();
        }
        e->handling.pop_back();
        break;
      }
    }
    if (s.contains("finally")) {
      json r = co_await run_steps(&s["finally"], e, path_at(w, ".finally"));
      if (is_return(r)) co_return r;  // a return in finally discards a pending exception, as in Python
    }
    if (pending) std::rethrow_exception(pending);
    co_return result;
  }

  const json& doc_;
  std::string where_;
  R& rt_;
  const json empty_ = json::array();
  std::map<std::string, slot> objects_;
  std::map<std::string, json> values_;
  std::map<std::string, exc_info> caught_;
  std::deque<json> bodies_;
  std::vector<event> trace_;
  std::exception_ptr fatal_;
  std::uint64_t executed_ = 0;
  std::size_t trace_bytes_ = 0;
  bool recording_ = true;
  const std::thread::id loop_thread_ = std::this_thread::get_id();  // the oracle's main_thread
};

}  // namespace conform
