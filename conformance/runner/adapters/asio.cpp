// The `asio` adapter: the scenario interpreter running on Asio 1.22's C++20 coroutines, a real third-party
// runtime. It maps what Asio has and declares the rest unsupported:
//   create_task       co_spawn on an io_context, with a cancellation_signal bound to the spawned coroutine
//   task.cancel()     emit(cancellation_type::terminal) on that signal
//   await a task      a steady_timer parked at time_point::max(), cancelled when the task completes
//   sleep / yield     steady_timer::async_wait / post
//   gather            awaitable operator && (up to four awaitables)
//   wait_for          awaitable operator || against a steady_timer
//   call_soon/later   post / steady_timer
// Asio has no futures, task groups, timeout scopes, shield, wait, as_completed, cancel counts, "current
// task", sync primitives or queues for coroutines: those features are unsupported. The executor hand-off
// (run_in_executor, to_thread) is not mapped either. Time is real, scaled by
// --time-scale (wall ms per scenario ms) so that orderings are deterministic. FINDINGS.md explains each
// failure.
#include <conform/adapter.hpp>
#include <conform/interpreter.hpp>

#include <asio.hpp>
#include <asio/experimental/awaitable_operators.hpp>

#include <chrono>
#include <memory>
#include <variant>

namespace conform {
namespace {

using namespace asio::experimental::awaitable_operators;
using clock_type = std::chrono::steady_clock;


bool is_operation_aborted(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const asio::system_error& x) {
    return x.code() == asio::error::operation_aborted;
  } catch (...) {
    return false;
  }
}

class asio_traits {
public:
  using co = asio::awaitable<json>;

  struct task_state {
    std::string name;
    bool done = false;
    bool cancelled = false;
    json value;
    std::exception_ptr error;
    asio::cancellation_signal signal;
    std::vector<std::shared_ptr<asio::steady_timer>> waiters;
    std::vector<std::function<void()>> callbacks;
  };
  struct handle_state {
    bool cancelled = false;
    std::shared_ptr<asio::steady_timer> timer;
  };
  struct object {
    std::shared_ptr<task_state> task;
    std::shared_ptr<handle_state> handle;
  };

  explicit asio_traits(double scale) : scale_(scale) {}

  using sink_fn = std::function<void(const std::string&, const std::string&)>;
  void set_event_sink(sink_fn f) { sink_ = std::move(f); }

  double now_ms() const { return std::chrono::duration<double, std::milli>(clock_type::now() - start_).count() / scale_; }

  run_outcome run(std::function<co()> make_main) {
    start_ = clock_type::now();
    auto main = spawn(make_main(), "main", nullptr).task;
    main_ = main.get();
    // A runtime that fails to deliver a cancellation would sleep for minutes: bound the run.
    const auto limit = std::chrono::seconds(3);
    io_.run_for(limit);
    run_outcome out;
    if (!main->done) {
      out.how = run_outcome::kind::deadlock;
    } else if (main->error) {
      out.how = run_outcome::kind::exception;
      out.error = main->error;
    } else {
      out.value = main->value;
    }
    // asyncio.run cancels what is left; Asio has no such thing, so the adapter does it the same way.
    end_ms_ = now_ms();
    for (auto& t : tasks_)
      if (!t->done) t->signal.emit(asio::cancellation_type::terminal);
    io_.restart();
    io_.run_for(limit);
    if (fault_) std::rethrow_exception(fault_);
    return out;
  }

  exc_info classify(const std::exception_ptr& e) {
    try {
      std::rethrow_exception(e);
    } catch (const raised_exception& x) {
      return {x.kind(), x.message(), {}};
    } catch (const asio::system_error& x) {
      if (x.code() == asio::error::operation_aborted) return {"CancelledError", "", {}};
      return {"RuntimeError", x.what(), {}};
    } catch (const std::exception& x) {
      return {"RuntimeError", x.what(), {}};
    } catch (...) {
      return {"BaseException", "", {}};
    }
  }

  std::exception_ptr make_exception(const std::string& kind, const std::optional<std::string>& msg) {
    // Asio's cancellation is an operation_aborted error: raising CancelledError is raising that.
    if (kind == "CancelledError") return std::make_exception_ptr(asio::system_error(asio::error::operation_aborted));
    return std::make_exception_ptr(raised_exception(kind, msg.value_or("")));
  }

  co sleep(double ms) {
    if (ms <= 0) {
      co_await asio::post(io_, asio::use_awaitable);
    } else {
      asio::steady_timer t(io_, real(ms));
      co_await t.async_wait(asio::use_awaitable);
    }
    co_return json();
  }

  object spawn(co c, const std::string& name, object* group) {
    if (group) throw unsupported_error("create_task:group");
    auto st = std::make_shared<task_state>();
    st->name = name;
    tasks_.push_back(st);
    asio::co_spawn(io_, std::move(c),
                   asio::bind_cancellation_slot(st->signal.slot(), [this, st](std::exception_ptr e, json v) {
                     complete(st, std::move(e), std::move(v));
                   }));
    return {st, nullptr};
  }

  object current_task() { throw unsupported_error("self"); }
  object new_object(const std::string& type, const json&) { throw unsupported_error("new:" + type); }

  co await_obj(std::string kind, object o) {
    if (!o.task) throw unsupported_error("await:" + kind);
    co_return co_await join(o.task);
  }

  json call(const std::string& kind, object& o, const std::string& method, const json&) {
    if (o.handle) {
      if (method == "cancel") {
        o.handle->cancelled = true;
        if (o.handle->timer) o.handle->timer->cancel();
        return nullptr;
      }
      if (method == "cancelled") return o.handle->cancelled;
    }
    if (o.task) {
      auto& t = *o.task;
      if (method == "done") return t.done;
      if (method == "cancelled") return t.cancelled;
      if (method == "cancel") {
        if (t.done) return false;
        t.signal.emit(asio::cancellation_type::terminal);
        return true;
      }
      if (method == "result") {
        if (!t.done) throw raised_exception("InvalidStateError", "Result is not set.");
        if (t.error) std::rethrow_exception(t.error);
        return t.value;
      }
      if (method == "exception") {
        if (!t.done) throw raised_exception("InvalidStateError", "Exception is not set.");
        if (t.cancelled) std::rethrow_exception(t.error);
        return t.error ? json{{"raised", render_kind(classify(t.error))}} : json();
      }
    }
    throw unsupported_error("call:" + kind + "." + method);
  }

  co call_async(std::string kind, object, std::string method, json) {
    throw unsupported_error("call:" + kind + "." + method);
    co_return json();
  }

  object run_in_executor(std::function<json()>) { throw unsupported_error("op:run_in_executor"); }
  co to_thread(std::function<json()>) {
    throw unsupported_error("op:to_thread");
    co_return json();
  }
  void call_soon_threadsafe(std::function<void()>) { throw unsupported_error("op:run_in_executor"); }

  template <class F>
  object call_soon(F fn) {
    auto h = std::make_shared<handle_state>();
    asio::post(io_, [this, h, fn = std::move(fn)] {
      if (!h->cancelled) guarded(fn);
    });
    return {nullptr, h};
  }
  template <class F>
  object call_later(double ms, F fn) {
    auto h = std::make_shared<handle_state>();
    h->timer = std::make_shared<asio::steady_timer>(io_, real(ms));
    h->timer->async_wait([this, h, fn = std::move(fn)](std::error_code ec) {
      if (!ec && !h->cancelled) guarded(fn);
    });
    return {nullptr, h};
  }
  template <class F>
  void add_done_callback(const std::string& kind, object& o, F fn) {
    if (!o.task) throw unsupported_error("op:add_done_callback on a " + kind);
    if (o.task->done)
      asio::post(io_, [this, fn = std::move(fn)] { guarded(fn); });
    else
      o.task->callbacks.push_back(std::move(fn));
  }

  template <class Arg>
  object gather(std::vector<Arg> items, bool return_exceptions) {
    if (return_exceptions) throw unsupported_error("gather:return_exceptions");
    std::vector<co> aws;
    for (auto& a : items) aws.push_back(awaitable_of(a));
    return spawn(all_of(std::move(aws)), "gather", nullptr);
  }

  template <class Arg>
  object shield(Arg) {
    throw unsupported_error("op:shield");
  }
  template <class Arg>
  co wait(std::vector<Arg>, std::string, std::optional<double>) {
    throw unsupported_error("op:wait");
    co_return json();
  }

  template <class Arg>
  co wait_for(Arg a, std::optional<double> timeout) {
    co aw = awaitable_of(a);
    if (!timeout) co_return co_await std::move(aw);
    asio::steady_timer t(io_, real(std::max(0.0, *timeout)));
    auto r = co_await (std::move(aw) || t.async_wait(asio::use_awaitable));
    if (r.index() == 1) throw raised_exception("TimeoutError", "");
    co_return std::get<0>(std::move(r));
  }

  template <class Arg, class Each>
  co as_completed(std::vector<Arg>, std::optional<double>, Each) {
    throw unsupported_error("op:as_completed");
    co_return json();
  }
  template <class Bind, class Body>
  co timeout(std::optional<double>, std::optional<double>, Bind, Body) {
    throw unsupported_error("op:timeout");
    co_return json();
  }
  template <class Bind, class Body>
  co task_group(Bind, Body) {
    throw unsupported_error("op:task_group");
    co_return json();
  }
  template <class Body>
  co with(std::string kind, object, Body) {
    throw unsupported_error("with:" + kind);
    co_return json();
  }

  std::string final_state(object& o) {
    if (!o.task || !o.task->done) return "pending";
    if (o.task->cancelled) return "cancelled";
    if (o.task->error) return "raised " + render_kind(classify(o.task->error));
    return "= " + dump(o.task->value);
  }

private:
  asio::steady_timer::duration real(double ms) const {
    return std::chrono::duration_cast<asio::steady_timer::duration>(std::chrono::duration<double, std::milli>(ms * scale_));
  }

  template <class F>
  void guarded(F& fn) {
    try {
      fn();
    } catch (...) {
      // Asio has no loop exception handler: an exception escaping a handler leaves io_context::run().
      if (!fault_) fault_ = is_internal(std::current_exception()) ? std::current_exception()
                                                                   : std::make_exception_ptr(unsupported_error("exception_handler"));
    }
  }

  void complete(const std::shared_ptr<task_state>& st, std::exception_ptr e, json v) {
    st->done = true;
    if (st.get() == main_) io_.stop();  // the rest is asyncio.run's shutdown, done by run()
    st->cancelled = e && is_operation_aborted(e);
    st->error = std::move(e);
    st->value = std::move(v);
    for (auto& w : st->waiters) w->cancel();
    st->waiters.clear();
    for (auto& cb : st->callbacks) asio::post(io_, [this, cb] { guarded(cb); });
    st->callbacks.clear();
  }

  // Joining a task: Asio has no join, so wait on a timer that the task's completion cancels. Cancelling the
  // joiner cancels only this wait (cancellation slots are per operation), not the task being joined.
  co join(std::shared_ptr<task_state> st) {
    while (!st->done) {
      // Not time_point::max(): Asio 1.22 overflows computing the wait and fires at once.
      auto t = std::make_shared<asio::steady_timer>(io_, std::chrono::hours(24 * 365));
      st->waiters.push_back(t);
      std::error_code ec;
      co_await t->async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (!st->done) throw asio::system_error(asio::error::operation_aborted);
    }
    if (st->error) std::rethrow_exception(st->error);
    co_return st->value;
  }

  template <class Arg>
  co awaitable_of(Arg& a) {
    if (a.coro) return std::move(*a.coro);
    if (a.obj.task) return join(a.obj.task);
    throw unsupported_error("arg:" + a.kind);
  }

  // Results are collected outside the coroutine: g++ 12 miscompiles initializer lists inside one
  // ("array used as initializer").
  template <class Tuple>
  static json array_of(const Tuple& t) {
    json out = json::array();
    std::apply([&](const auto&... v) { (out.push_back(v), ...); }, t);
    return out;
  }

  co all_of(std::vector<co> aws) {
    switch (aws.size()) {
      case 0:
        co_return json::array();
      case 1:
        co_return array_of(std::make_tuple(co_await std::move(aws[0])));
      case 2:
        co_return array_of(co_await (std::move(aws[0]) && std::move(aws[1])));
      case 3:
        co_return array_of(co_await (std::move(aws[0]) && std::move(aws[1]) && std::move(aws[2])));
      case 4:
        co_return array_of(co_await (std::move(aws[0]) && std::move(aws[1]) && std::move(aws[2]) && std::move(aws[3])));
      default:
        throw unsupported_error("gather:more-than-4");
    }
  }

  double scale_;
  asio::io_context io_;
  clock_type::time_point start_ = clock_type::now();
  double end_ms_ = 0;
  const task_state* main_ = nullptr;
  std::vector<std::shared_ptr<task_state>> tasks_;
  std::exception_ptr fault_;
  sink_fn sink_ = [](const std::string&, const std::string&) {};
};

const std::set<std::string> k_supported{
    "op:log", "op:sleep", "op:yield", "op:return", "op:raise", "op:create_task", "op:await", "op:call", "op:gather",
    "op:wait_for", "op:try", "op:call_soon", "op:call_later", "op:add_done_callback", "await:task", "await:gather",
    "await:coro", "arg:task", "arg:coro", "call:task.done", "call:task.cancelled", "call:task.cancel",
    "call:task.result", "call:task.exception", "call:gather.done", "call:gather.cancelled", "call:gather.cancel",
    "call:gather.result", "call:gather.exception", "call:handle.cancel", "call:handle.cancelled"};

class asio_adapter final : public adapter {
public:
  std::string name() const override { return "asio"; }
  std::string description() const override {
    return "Asio " + std::to_string(ASIO_VERSION / 100000) + "." + std::to_string(ASIO_VERSION / 100 % 1000) + "." +
           std::to_string(ASIO_VERSION % 100) + " C++20 coroutines (co_spawn, steady_timer, awaitable operators, "
           "cancellation signals), real time scaled";
  }
  bool supports(const std::string& f) const override {
    if (f.rfind("raise:", 0) == 0) return f != "raise:keyboard_interrupt" && f != "raise:system_exit";
    return k_supported.count(f) != 0;
  }
  // Real time: timers fire a little late, and a loaded machine adds jitter.
  long long time_tolerance_ms(const run_options& o) const override { return o.time_scale >= 2 ? 6 : 10; }
  std::vector<event> run(const scenario& s, const run_options& o) override {
    asio_traits rt(o.time_scale);
    interpreter<asio_traits> in(s.doc, s.file, rt);
    return in.run();
  }
};

}  // namespace

std::unique_ptr<adapter> make_asio_adapter() { return std::make_unique<asio_adapter>(); }

}  // namespace conform
