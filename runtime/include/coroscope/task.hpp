#pragma once
// asyncio's tasks, the C++ way.
//
//   task<T>          the coroutine type. Lazy: nothing runs until it is awaited or scheduled. Awaiting a
//                    task<T> runs it inline with symmetric transfer: no trip through the loop (ORD-009),
//                    no stack growth on deep or long co_await chains.
//   create_task(t)   asyncio.create_task: schedules t on the running loop (FIFO with other ready
//                    callbacks) and returns a task_handle<T>, a cheap copyable handle, awaitable for T.
//   task_ref         the untyped face of a task (what current_task()/all_tasks() return).
#include <coroscope/detail/task_core.hpp>
#include <coroscope/future.hpp>

#include <coroutine>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace coroscope {

template <class T = void>
class task;

namespace detail {

template <class T>
class task_promise;

// return_value / return_void cannot both be declared, so the promise takes one of these bases.
template <class T>
class task_promise_base : public value_holder<T, task_core> {
public:
  template <class U = T>
    requires std::constructible_from<T, U&&>
  void return_value(U&& v) {
    this->emplace_value(std::forward<U>(v));
  }
};
template <>
class task_promise_base<void> : public value_holder<void, task_core> {
public:
  void return_void() noexcept {}
};

struct final_awaiter {
  bool await_ready() const noexcept { return false; }
#if COROSCOPE_SYMMETRIC_TRANSFER
  template <class P>
  std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
    auto next = h.promise().on_final_suspend();
    return next ? next : std::noop_coroutine();
  }
#else
  template <class P>
  void await_suspend(std::coroutine_handle<P> h) noexcept {
    if (auto next = h.promise().on_final_suspend()) pending_transfer = next;
  }
#endif
  void await_resume() const noexcept {}
};

// `co_await raise(e)` in the runtime's own coroutines: the frame completes with e exactly as if e had
// escaped its body, but without unwinding: its awaiter raises it (one unwind, in the user's frame) or, for a
// Task, it becomes the task's outcome. The frame stays suspended here until its owner destroys it, so
// whatever must happen before the error is seen is done before this await.
struct raise_awaiter : final_awaiter {
  std::exception_ptr error;
  template <class P>
  auto await_suspend(std::coroutine_handle<P> h) noexcept {
    h.promise().frame_exception() = std::move(error);
    return final_awaiter::await_suspend(h);
  }
};
inline raise_awaiter raise(std::exception_ptr e) noexcept { return {{}, std::move(e)}; }

template <class T>
class task_promise final : public task_promise_base<T> {
public:
  using handle_type = std::coroutine_handle<task_promise>;

  task<T> get_return_object() noexcept;
  std::suspend_always initial_suspend() const noexcept { return {}; }
  final_awaiter final_suspend() const noexcept { return {}; }
  void unhandled_exception() noexcept { this->frame_exception() = std::current_exception(); }

  static void* operator new(std::size_t n) { return frame_pool::allocate(n); }
  static void operator delete(void* p, std::size_t n) noexcept { frame_pool::deallocate(p, n); }

protected:
  void dispose() noexcept override { handle_type::from_promise(*this).destroy(); }
};

}  // namespace detail

template <class T>
class [[nodiscard]] task {
public:
  using promise_type = detail::task_promise<T>;
  using handle_type = std::coroutine_handle<promise_type>;
  using value_type = T;

  task() = default;
  task(task&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  task& operator=(task&& o) noexcept {
    if (this != &o) {
      reset();
      h_ = std::exchange(o.h_, {});
    }
    return *this;
  }
  ~task() { reset(); }

  bool valid() const noexcept { return static_cast<bool>(h_); }
  explicit operator bool() const noexcept { return valid(); }

  // Awaiting runs the coroutine inline, within the awaiting task. A task<T> can be awaited once.
  struct inline_awaiter {
    handle_type h;
    bool await_ready() const {
      if (!h) throw invalid_state_error("coroscope: awaiting an empty task");
      if (h.promise().started()) throw invalid_state_error("coroscope: a task<T> can be awaited only once");
      return false;
    }
#if COROSCOPE_SYMMETRIC_TRANSFER
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller) noexcept {
      h.promise().set_continuation(caller);
      h.promise().mark_started_inline();
      return h;
    }
#else
    void await_suspend(std::coroutine_handle<> caller) noexcept {
      h.promise().set_continuation(caller);
      h.promise().mark_started_inline();
      detail::pending_transfer = h;
    }
#endif
    T await_resume() {
      auto& p = h.promise();
      if (p.frame_exception()) std::rethrow_exception(p.frame_exception());
      if constexpr (!std::is_void_v<T>) return std::move(p.value_ref());
    }
  };
  inline_awaiter operator co_await() && noexcept { return {h_}; }
  inline_awaiter operator co_await() & noexcept { return {h_}; }

  // co_await t.settle(): runs the coroutine inline like co_await t, but hands back what escaped its body
  // (null when it returned) instead of raising it; settled_value() then moves the value out. The runtime's
  // own coroutines use it so that an error unwinds once, in the user's frame.
  struct settle_awaiter : inline_awaiter {
    std::exception_ptr await_resume() const noexcept { return this->h.promise().frame_exception(); }
  };
  settle_awaiter settle() & noexcept { return {{h_}}; }
  decltype(auto) settled_value() & noexcept
    requires(!std::is_void_v<T>)
  {
    return std::move(h_.promise().value_ref());
  }

  // Hands the frame to the caller (create_task and the combinators use it).
  handle_type release() noexcept { return std::exchange(h_, {}); }

private:
  friend class detail::task_promise<T>;
  explicit task(handle_type h) noexcept : h_(h) {}
  void reset() noexcept {
    if (h_) std::exchange(h_, {}).promise().release();
  }
  handle_type h_;
};

template <class T>
task<T> detail::task_promise<T>::get_return_object() noexcept {
  return task<T>(handle_type::from_promise(*this));
}

// The untyped face of a task.
class task_ref : public future_ref {
public:
  task_ref() = default;
  explicit task_ref(detail::task_core* t) noexcept : future_ref(t) {}

  std::string get_name() const { return tcore().name(); }
  void set_name(std::string n) { tcore().set_name(std::move(n)); }
  // The number of pending cancellation requests: cancel() calls minus uncancel() calls.
  int cancelling() const { return tcore().cancelling(); }
  int uncancel() { return tcore().uncancel(); }

protected:
  detail::task_core& tcore() const { return static_cast<detail::task_core&>(core()); }
};

template <class T = void>
class task_handle : public task_ref {
public:
  using value_type = T;
  task_handle() = default;
  explicit task_handle(detail::task_core* t) noexcept : task_ref(t) {}

  decltype(auto) result() const {
    core().check_result();
    if constexpr (!std::is_void_v<T>) return static_cast<const T&>(detail::value_of<T>(core()));
  }
  detail::future_awaiter<T> operator co_await() const { return {&core()}; }
  // A task is a future (shield, wait and gather take either).
  operator future<T>() const { return future<T>(core_); }

  template <class F>
  callback_id add_done_callback(F f) {
    if constexpr (std::is_invocable_v<F&, const task_handle<T>&>)
      return add_done_callback_as<task_handle<T>>(std::move(f));
    else
      return add_done_callback_as<future_ref>(std::move(f));
  }
};

template <class T>
task_handle<T> event_loop::create_task(task<T>&& coro) {
  check_open();
  if (!coro.valid()) throw std::invalid_argument("coroscope: create_task of an empty task");
  auto h = coro.release();
  auto& p = h.promise();
  if (p.started()) [[unlikely]] {
    p.release();
    throw invalid_state_error("coroscope: create_task of a task that was already awaited");
  }
  p.start(this, h);
  return task_handle<T>(&p);
}
// The name is a separate overload so that the common, unnamed spawn builds no std::string.
template <class T>
task_handle<T> event_loop::create_task(task<T>&& coro, std::string name) {
  auto t = create_task(std::move(coro));
  if (!name.empty()) t.set_name(std::move(name));
  return t;
}

// asyncio.create_task: needs a running loop (std::runtime_error otherwise, ORD-017).
template <class T>
task_handle<T> create_task(task<T>&& coro) {
  return get_running_loop().create_task(std::move(coro));
}
template <class T>
task_handle<T> create_task(task<T>&& coro, std::string name) {
  return get_running_loop().create_task(std::move(coro), std::move(name));
}

namespace detail {
template <class F>
using invoke_task_t = std::invoke_result_t<F&>;
template <class F>
concept task_factory = requires { typename invoke_task_t<F>::promise_type; } &&
                       std::is_same_v<invoke_task_t<F>, task<typename invoke_task_t<F>::value_type>>;

// Keeps a coroutine lambda's closure alive for as long as its coroutine runs. Calling a capturing lambda
// coroutine and scheduling the result leaves the coroutine pointing into a closure that dies at the end of
// the full expression; here the closure is a parameter, so it lives in this frame.
template <class F>
invoke_task_t<F> own_and_call(F f) {
  auto body = f();  // a named local: g++ 12 mishandles some task temporaries inside co_await at -O0
  co_return co_await body;
}
}  // namespace detail

// create_task([&]() -> task<int> { ... }): the closure lives as long as the task (see own_and_call).
template <class F>
  requires detail::task_factory<std::decay_t<F>>
auto create_task(F&& f, std::string name = {}) {
  return create_task(detail::own_and_call(std::decay_t<F>(std::forward<F>(f))), std::move(name));
}

// asyncio.current_task(): empty when called from a plain callback; throws without a running loop.
inline task_ref current_task() { return get_running_loop().current_task(); }
// asyncio.all_tasks(): the running loop's tasks that are not done yet.
inline std::vector<task_ref> all_tasks() { return get_running_loop().all_tasks(); }

template <class T>
T event_loop::run_until_complete(const future<T>& f) {
  future_ref r = f;
  run_until_done(r);
  return f.result();
}
template <class T>
T event_loop::run_until_complete(const task_handle<T>& t) {
  future_ref r = t;
  run_until_done(r);
  return t.result();
}
template <class T>
T event_loop::run_until_complete(task<T>&& coro) {
  return run_until_complete(create_task(std::move(coro)));
}

}  // namespace coroscope
