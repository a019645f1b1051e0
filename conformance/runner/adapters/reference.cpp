// The `reference` adapter: the scenario interpreter running on coroscope's own runtime, virtual clock.
// Every feature of the scenario language maps onto a coroscope type of the same name (Event -> event,
// PriorityQueue -> priority_queue<json>, run_in_executor -> run_in_executor on the loop's default
// thread pool, ...): nothing is emulated. Executor jobs run on real threads, and the virtual clock waits
// for them only when no timer is pending (event_loop::wait_for_events): README.md says why the THR
// scenarios are deterministic all the same.
#include <conform/adapter.hpp>
#include <conform/interpreter.hpp>

#include <coroscope/coroscope.hpp>
#include <coroscope/executor.hpp>  // not in the umbrella header

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <tuple>
#include <type_traits>
#include <variant>

namespace conform {
namespace {

namespace cs = coroscope;
using ms_d = std::chrono::duration<double, std::milli>;
// Python compares queue items with `<`; nlohmann's json orders numbers, strings and arrays the same way.
using priority_queue = cs::priority_queue<json>;

// f(the shared_ptr<T>) for whichever of Ts `o` (an adapter object) holds, nothing for another object: one
// code path for the types that share an interface.
template <class... Ts, class Object, class F>
auto held(Object& o, F f) {
  using first = std::tuple_element_t<0, std::tuple<Ts...>>;
  std::optional<std::invoke_result_t<F&, std::shared_ptr<first>&>> r;
  auto try_one = [&]<class T>(std::type_identity<T>) {
    if (auto* p = std::get_if<std::shared_ptr<T>>(&o.v); p && !r) r.emplace(f(*p));
  };
  (try_one(std::type_identity<Ts>{}), ...);
  return r;
}
// Lock, Semaphore (BoundedSemaphore too) and Condition: acquire, release, locked, `async with`.
template <class Object, class F>
auto lock_like(Object& o, F f) {
  return held<cs::lock, cs::semaphore, cs::condition>(o, std::move(f));
}
template <class Object, class F>
auto any_queue(Object& o, F f) {
  return held<cs::queue<json>, cs::lifo_queue<json>, priority_queue>(o, std::move(f));
}

class coroscope_traits {
public:
  using co = cs::task<json>;
  using gather_future = cs::future<std::vector<json>>;
  using gather_rx_future = cs::future<std::vector<cs::outcome<json>>>;
  struct object {
    std::variant<std::monostate, cs::task_handle<json>, cs::task_ref, cs::future<json>, gather_future, gather_rx_future,
                 cs::handle, std::shared_ptr<cs::timeout_scope>, std::shared_ptr<cs::task_group>,
                 std::shared_ptr<cs::task<json>>, std::shared_ptr<cs::event>, std::shared_ptr<cs::lock>,
                 std::shared_ptr<cs::semaphore>, std::shared_ptr<cs::condition>, std::shared_ptr<cs::barrier>,
                 std::shared_ptr<cs::queue<json>>, std::shared_ptr<cs::lifo_queue<json>>, std::shared_ptr<priority_queue>>
        v;
  };

  using sink_fn = std::function<void(const std::string&, const std::string&)>;
  void set_event_sink(sink_fn f) { sink_ = std::move(f); }

  double now_ms() {
    if (loop_ != nullptr) last_ms_ = ms_d(loop_->now() - start_).count();
    return last_ms_;
  }

  run_outcome run(std::function<co()> make_main) {
    run_outcome out;
    try {
      out.value = cs::run(main(std::move(make_main)), {.clock = cs::clock_kind::virtual_time});
    } catch (...) {
      out.error = std::current_exception();
      out.how = is_deadlock(out.error) ? run_outcome::kind::deadlock : run_outcome::kind::exception;
    }
    loop_ = nullptr;
    return out;
  }

  // ---- exceptions ----
  std::exception_ptr make_exception(const std::string& kind, const std::optional<std::string>& msg) {
    const std::string m = msg.value_or("");
    if (kind == "CancelledError") return std::make_exception_ptr(cs::cancelled_error(m));
    if (kind == "TimeoutError") return std::make_exception_ptr(cs::timeout_error(m));
    if (kind == "InvalidStateError") return std::make_exception_ptr(cs::invalid_state_error(m));
    if (kind == "KeyboardInterrupt") return std::make_exception_ptr(cs::keyboard_interrupt());
    if (kind == "SystemExit") return std::make_exception_ptr(cs::system_exit());
    if (kind == "BrokenBarrierError") return std::make_exception_ptr(cs::broken_barrier_error(m));
    return std::make_exception_ptr(raised_exception(kind, m));
  }

  exc_info classify(const std::exception_ptr& e) {
    try {
      std::rethrow_exception(e);
    } catch (const raised_exception& x) {
      return {x.kind(), x.message(), {}};
    } catch (const cs::cancelled_error& x) {
      return {"CancelledError", x.message(), {}};
    } catch (const cs::keyboard_interrupt&) {
      return {"KeyboardInterrupt", "", {}};
    } catch (const cs::system_exit&) {
      return {"SystemExit", "", {}};
    } catch (const cs::exception_group& g) {
      return group("ExceptionGroup", g.exceptions());
    } catch (const cs::base_exception_group& g) {
      return group("BaseExceptionGroup", g.exceptions());
    } catch (const cs::timeout_error&) {
      return {"TimeoutError", "", {}};
    } catch (const cs::invalid_state_error& x) {
      return {"InvalidStateError", x.what(), {}};
    } catch (const cs::broken_barrier_error& x) {
      return {"BrokenBarrierError", x.what(), {}};
    } catch (const cs::queue_empty&) {
      return {"QueueEmpty", "", {}};
    } catch (const cs::queue_full&) {
      return {"QueueFull", "", {}};
    } catch (const std::invalid_argument& x) {
      return {"ValueError", x.what(), {}};
    } catch (const std::out_of_range& x) {
      return {"KeyError", x.what(), {}};
    } catch (const std::runtime_error& x) {
      return {"RuntimeError", x.what(), {}};
    } catch (const std::exception& x) {
      return {"RuntimeError", x.what(), {}};
    } catch (...) {
      return {"BaseException", "", {}};
    }
  }

  // ---- tasks and futures ----
  co sleep(double ms) {
    co_await cs::sleep(ms_d(ms));
    co_return json();
  }

  object spawn(co c, const std::string& name, object* group) {
    if (group) return {std::get<std::shared_ptr<cs::task_group>>(group->v)->create_task(std::move(c), name)};
    return {cs::create_task(std::move(c), name)};
  }

  object current_task() { return {cs::current_task()}; }

  object new_object(const std::string& type, const json& args) {
    if (type == "Future") return {cs::create_future<json>()};
    if (type == "Event") return {std::make_shared<cs::event>()};
    if (type == "Lock") return {std::make_shared<cs::lock>()};
    if (type == "Semaphore") return {std::make_shared<cs::semaphore>(arg(args, 0, 1).get<std::int64_t>())};
    if (type == "BoundedSemaphore")
      return {std::shared_ptr<cs::semaphore>(std::make_shared<cs::bounded_semaphore>(arg(args, 0, 1).get<std::int64_t>()))};
    if (type == "Condition") return {std::make_shared<cs::condition>()};
    if (type == "Barrier") return {std::make_shared<cs::barrier>(args.at(0).get<int>())};
    if (type == "Queue") return {std::make_shared<cs::queue<json>>(arg(args, 0, 0).get<int>())};
    if (type == "LifoQueue") return {std::make_shared<cs::lifo_queue<json>>(arg(args, 0, 0).get<int>())};
    if (type == "PriorityQueue") return {std::make_shared<priority_queue>(arg(args, 0, 0).get<int>())};
    throw unsupported_error("new:" + type);
  }

  co await_obj(std::string kind, object o) {
    if (auto* t = std::get_if<cs::task_handle<json>>(&o.v)) co_return co_await *t;
    if (auto* f = std::get_if<cs::future<json>>(&o.v)) co_return co_await *f;
    if (auto* g = std::get_if<gather_future>(&o.v)) co_return json(co_await *g);
    if (auto* g = std::get_if<gather_rx_future>(&o.v)) co_return slots(co_await *g);
    if (auto* n = std::get_if<std::shared_ptr<cs::task<json>>>(&o.v)) co_return co_await std::move(**n);
    throw unsupported_error("await:" + kind);
  }

  json call(const std::string& kind, object& o, const std::string& method, const json& args) {
    if (auto* h = std::get_if<cs::handle>(&o.v)) {
      if (method == "cancel") {
        h->cancel();
        return nullptr;
      }
      if (method == "cancelled") return h->cancelled();
    }
    if (auto* cm = std::get_if<std::shared_ptr<cs::timeout_scope>>(&o.v)) {
      if (method == "expired") return (*cm)->expired();
      if (method == "when") {
        auto w = (*cm)->when();
        return w ? json(std::llround(ms_d(*w - start_).count())) : json();
      }
      if (method == "reschedule") {
        (*cm)->reschedule(args.at(0).is_null() ? std::optional<cs::time_point>() : at(args.at(0).get<double>()));
        return nullptr;
      }
    }
    if (auto fr = future_of(o)) {
      if (method == "done") return fr->done();
      if (method == "cancelled") return fr->cancelled();
      if (method == "cancel") return args.empty() ? fr->cancel() : fr->cancel(args[0].get<std::string>());
      if (method == "exception") {
        auto e = fr->exception();
        return e ? json{{"raised", render_kind(classify(e))}} : json();
      }
      if (method == "result") return result_of(o);
    }
    if (auto* t = task_of(o)) {
      if (method == "cancelling") return t->cancelling();
      if (method == "uncancel") return t->uncancel();
    }
    if (auto* ev = std::get_if<std::shared_ptr<cs::event>>(&o.v)) {
      if (method == "set") {
        (*ev)->set();
        return nullptr;
      }
      if (method == "clear") {
        (*ev)->clear();
        return nullptr;
      }
      if (method == "is_set") return (*ev)->is_set();
    }
    if (auto r = lock_like(o, [&](auto& l) { return lock_call(kind, *l, method, args); })) return *r;
    if (auto* b = std::get_if<std::shared_ptr<cs::barrier>>(&o.v)) {
      if (method == "n_waiting") return (*b)->n_waiting();
      if (method == "broken") return (*b)->broken();
      if (method == "parties") return (*b)->parties();
    }
    if (auto r = any_queue(o, [&](auto& q) { return queue_call(kind, *q, method, args); })) return *r;
    if (auto* f = std::get_if<cs::future<json>>(&o.v)) {
      if (method == "set_result") {
        f->set_result(args.at(0));
        return nullptr;
      }
      if (method == "set_exception") {
        f->set_exception(make_exception(args.at(0), args.size() > 1 ? std::optional<std::string>(args[1]) : std::nullopt));
        return nullptr;
      }
    }
    throw unsupported_error("call:" + kind + "." + method);
  }

  // The awaiting methods. `o` is held by the frame: the object lives as long as the call.
  co call_async(std::string kind, object o, std::string method, json args) {
    if (auto* ev = std::get_if<std::shared_ptr<cs::event>>(&o.v)) {
      if (method == "wait") co_return co_await (*ev)->wait();
    } else if (auto acquiring = lock_like(o, [&](auto& l) { return lock_async(kind, l, method); })) {
      co_return co_await std::move(*acquiring);
    } else if (auto* b = std::get_if<std::shared_ptr<cs::barrier>>(&o.v)) {
      if (method == "wait") co_return co_await (*b)->wait();
      if (method == "abort") {
        co_await (*b)->abort();
        co_return json();
      }
      if (method == "reset") {
        co_await (*b)->reset();
        co_return json();
      }
    } else if (auto queued = any_queue(o, [&](auto& q) { return queue_async(kind, q, method, args); })) {
      co_return co_await std::move(*queued);
    }
    throw unsupported_error("call:" + kind + "." + method);
  }

  // ---- executors ----
  object run_in_executor(std::function<json()> job) { return {cs::run_in_executor(nullptr, std::move(job))}; }
  co to_thread(std::function<json()> job) { co_return co_await cs::to_thread(std::move(job)); }
  // Called from the job's worker thread: loop_ is set before any job is submitted.
  void call_soon_threadsafe(std::function<void()> fn) { loop_->call_soon_threadsafe(std::move(fn)); }

  template <class F>
  object call_soon(F fn) {
    return {cs::get_running_loop().call_soon(std::move(fn))};
  }
  template <class F>
  object call_later(double ms, F fn) {
    return {cs::handle(cs::get_running_loop().call_later(ms_d(ms), std::move(fn)))};
  }
  template <class F>
  void add_done_callback(const std::string& kind, object& o, F fn) {
    auto fr = future_of(o);
    if (!fr) throw unsupported_error("op:add_done_callback on a " + kind);
    fr->add_done_callback([fn = std::move(fn)] { fn(); });
  }

  // ---- combinators ----
  template <class Arg>
  object gather(std::vector<Arg> items, bool return_exceptions) {
    std::vector<cs::future<json>> fs;
    for (auto& a : items) fs.push_back(as_future(a));
    if (return_exceptions) return {cs::gather(cs::return_exceptions, std::move(fs))};
    return {cs::gather(std::move(fs))};
  }

  template <class Arg>
  object shield(Arg a) {
    if (a.coro) return {cs::shield(std::move(*a.coro))};
    return {cs::shield(as_future(a))};
  }

  template <class Arg>
  co wait(std::vector<Arg> items, std::string return_when, std::optional<double> timeout) {
    std::vector<cs::future<json>> fs;
    for (auto& a : items) fs.push_back(as_future(a));
    auto rw = return_when == "FIRST_COMPLETED"   ? cs::first_completed
              : return_when == "FIRST_EXCEPTION" ? cs::first_exception
                                                 : cs::all_completed;
    auto r = co_await cs::wait(fs, rw, duration(timeout));
    json done = json::array(), pending = json::array();
    for (std::size_t i = 0; i < fs.size(); ++i) {
      bool d = std::find(r.done.begin(), r.done.end(), fs[i]) != r.done.end();
      (d ? done : pending).push_back(i);
    }
    co_return json::array({done, pending});
  }

  template <class Arg>
  co wait_for(Arg a, std::optional<double> timeout) {
    if (a.coro) co_return co_await cs::wait_for(std::move(*a.coro), duration(timeout));
    co_return co_await cs::wait_for(as_future(a), duration(timeout));
  }

  template <class Arg, class Each>
  co as_completed(std::vector<Arg> items, std::optional<double> timeout, Each each) {
    std::vector<cs::future<json>> fs;
    for (auto& a : items) fs.push_back(as_future(a));
    auto range = cs::as_completed(std::move(fs), duration(timeout));
    for (auto it = range.begin(); it != range.end(); ++it) {
      // Named, not a temporary of the co_await expression: g++ 12 destroys those twice.
      object next{std::make_shared<cs::task<json>>(*it)};
      co step = each(std::move(next));
      json r = co_await std::move(step);
      if (is_return(r)) co_return r;
    }
    co_return no_return();
  }

  template <class Bind, class Body>
  co timeout(std::optional<double> delay, std::optional<double> at_ms, Bind bind, Body body) {
    std::optional<cs::time_point> when;
    if (at_ms)
      when = at(*at_ms);
    else if (delay)
      when = cs::get_running_loop().now() + cs::to_duration(ms_d(*delay));
    auto cm = std::make_shared<cs::timeout_scope>(when);
    bind(object{cm});
    co_return co_await cs::async_with(*cm, [&body](cs::timeout_scope&) -> cs::task<json> { co_return co_await body(); });
  }

  template <class Bind, class Body>
  co task_group(Bind bind, Body body) {
    auto tg = std::make_shared<cs::task_group>();
    bind(object{tg});
    co_return co_await cs::async_with(*tg, [&body](cs::task_group&) -> cs::task<json> { co_return co_await body(); });
  }

  // `async with` on Lock, Semaphore, BoundedSemaphore and Condition: coroscope's own async_with, which
  // calls their aenter()/aexit().
  template <class Body>
  co with(std::string kind, object o, Body body) {
    if (auto aw = lock_like(o, [&body](auto& l) { return hold(*l, body); })) co_return co_await std::move(*aw);
    throw unsupported_error("with:" + kind);
  }

  std::string final_state(object& o) {
    auto* t = std::get_if<cs::task_handle<json>>(&o.v);
    if (!t) return "pending";
    if (!t->done()) return "pending";
    if (t->cancelled()) return "cancelled";
    if (auto e = t->exception()) return "raised " + render_kind(classify(e));
    return "= " + dump(t->result());
  }

private:
  co main(std::function<co()> make_main) {
    loop_ = &cs::get_running_loop();
    start_ = loop_->now();
    loop_->set_exception_handler([this](cs::event_loop&, const cs::exception_context& ctx) {
      sink_("loop", "exception_handler " + (ctx.exception ? render_kind(classify(ctx.exception)) : std::string("-")));
    });
    std::exception_ptr err;
    json v;
    try {
      v = co_await make_main();
    } catch (...) {
      err = std::current_exception();
    }
    now_ms();  // the final events carry the time main ended, as the oracle's do
    if (err) std::rethrow_exception(err);
    co_return v;
  }

  template <class CM, class Body>
  static co hold(CM& cm, Body& body) {
    co_return co_await cs::async_with(cm, [&body]() -> cs::task<json> { co_return co_await body(); });
  }

  static json arg(const json& args, std::size_t i, json fallback) { return i < args.size() ? args[i] : fallback; }
  template <class L>
  static json lock_call(const std::string& kind, L& l, const std::string& method, const json& args) {
    if (method == "locked") return l.locked();
    if (method == "release") {
      l.release();
      return nullptr;
    }
    if constexpr (std::is_same_v<L, cs::condition>) {
      if (method == "notify") {
        // Python's notify(n) wakes nobody for n <= 0.
        l.notify(static_cast<std::size_t>(std::max<std::int64_t>(0, arg(args, 0, 1).get<std::int64_t>())));
        return nullptr;
      }
      if (method == "notify_all") {
        l.notify_all();
        return nullptr;
      }
    }
    throw unsupported_error("call:" + kind + "." + method);
  }

  template <class L>
  static co lock_async(std::string kind, std::shared_ptr<L> l, std::string method) {
    if (method == "acquire") co_return co_await l->acquire();
    if constexpr (std::is_same_v<L, cs::condition>)
      if (method == "wait") co_return co_await l->wait();
    throw unsupported_error("call:" + kind + "." + method);
  }

  template <class Q>
  static json queue_call(const std::string& kind, Q& q, const std::string& method, const json& args) {
    if (method == "put_nowait") {
      q.put_nowait(args.at(0));
      return json();
    }
    if (method == "get_nowait") return q.get_nowait();
    if (method == "qsize") return q.qsize();
    if (method == "empty") return q.empty();
    if (method == "full") return q.full();
    if (method == "maxsize") return q.maxsize();
    if (method == "task_done") {
      q.task_done();
      return json();
    }
    throw unsupported_error("call:" + kind + "." + method);
  }

  template <class Q>
  static co queue_async(std::string kind, std::shared_ptr<Q> q, std::string method, json args) {
    if (method == "get") co_return co_await q->get();
    if (method == "put") {
      co_await q->put(args.at(0));
      co_return json();
    }
    if (method == "join") {
      co_await q->join();
      co_return json();
    }
    throw unsupported_error("call:" + kind + "." + method);
  }

  static bool is_deadlock(const std::exception_ptr& e) {
    try {
      std::rethrow_exception(e);
    } catch (const std::runtime_error& x) {
      return std::string(x.what()).rfind("coroscope: deadlock", 0) == 0;
    } catch (...) {
      return false;
    }
  }

  exc_info group(const char* kind, const std::vector<std::exception_ptr>& members) {
    exc_info g{kind, "", {}};
    for (const auto& m : members) g.members.push_back(classify(m));
    return g;
  }

  json slots(const std::vector<cs::outcome<json>>& v) {
    json out = json::array();
    for (const auto& o : v) out.push_back(o.has_value() ? o.value() : json{{"raised", render_kind(classify(o.error()))}});
    return out;
  }

  cs::time_point at(double ms) { return start_ + cs::to_duration(ms_d(ms)); }
  static std::optional<cs::duration> duration(std::optional<double> ms) {
    if (!ms) return std::nullopt;
    return cs::to_duration(ms_d(*ms));
  }

  std::optional<cs::future_ref> future_of(object& o) {
    return std::visit(
        [](auto& x) -> std::optional<cs::future_ref> {
          using X = std::decay_t<decltype(x)>;
          if constexpr (std::is_base_of_v<cs::future_ref, X>)
            return cs::future_ref(x);
          else
            return std::nullopt;
        },
        o.v);
  }
  cs::task_ref* task_of(object& o) {
    if (auto* t = std::get_if<cs::task_handle<json>>(&o.v)) return t;
    return std::get_if<cs::task_ref>(&o.v);
  }

  json result_of(object& o) {
    if (auto* t = std::get_if<cs::task_handle<json>>(&o.v)) return t->result();
    if (auto* f = std::get_if<cs::future<json>>(&o.v)) return f->result();
    if (auto* g = std::get_if<gather_future>(&o.v)) return json(g->result());
    if (auto* g = std::get_if<gather_rx_future>(&o.v)) return slots(g->result());
    throw unsupported_error("call:self.result");
  }

  // gather/wait/as_completed take futures of one type: a coroutine becomes a task (as asyncio's
  // ensure_future does), a nested gather is followed by a small task.
  template <class Arg>
  cs::future<json> as_future(Arg& a) {
    if (a.coro) return cs::create_task(std::move(*a.coro));
    if (auto* t = std::get_if<cs::task_handle<json>>(&a.obj.v)) return *t;
    if (auto* f = std::get_if<cs::future<json>>(&a.obj.v)) return *f;
    return cs::create_task(await_obj(a.kind, a.obj));
  }

  sink_fn sink_ = [](const std::string&, const std::string&) {};
  cs::event_loop* loop_ = nullptr;
  cs::time_point start_{};
  double last_ms_ = 0;
};

class reference_adapter final : public adapter {
public:
  std::string name() const override { return "reference"; }
  std::string description() const override { return "coroscope's reference runtime on its virtual clock"; }
  // Everything the scenario language has; what the traits cannot do they report with unsupported_error.
  bool supports(const std::string&) const override { return true; }
  long long time_tolerance_ms(const run_options&) const override { return 0; }
  std::vector<event> run(const scenario& s, const run_options&) override {
    coroscope_traits rt;
    interpreter<coroscope_traits> in(s.doc, s.file, rt);
    return in.run();
  }
};

}  // namespace

std::unique_ptr<adapter> make_reference_adapter() { return std::make_unique<reference_adapter>(); }

}  // namespace conform
