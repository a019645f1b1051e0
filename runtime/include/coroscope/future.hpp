#pragma once
// asyncio.Future in C++ spelling: future<T> is a cheap, copyable, single-threaded handle to a shared
// state. Done callbacks are always scheduled through the loop, never run inline (ORD-011).
#include <coroscope/detail/task_core.hpp>
#include <coroscope/event_loop.hpp>

#include <concepts>
#include <memory>
#include <coroutine>
#include <type_traits>
#include <utility>

namespace coroscope {

// Identifies a done callback for remove_done_callback (C++ callables cannot be compared for equality).
struct callback_id {
  detail::callback_fn fn = nullptr;
  void* ctx = nullptr;
};

// The untyped face of a future or a task: state, cancellation, callbacks.
class future_ref {
public:
  future_ref() = default;
  explicit future_ref(detail::future_core* c) noexcept : core_(c) {
    if (core_) core_->add_ref();
  }
  future_ref(const future_ref& o) noexcept : future_ref(o.core_) {}
  future_ref(future_ref&& o) noexcept : core_(std::exchange(o.core_, nullptr)) {}
  future_ref& operator=(future_ref o) noexcept {
    std::swap(core_, o.core_);
    return *this;
  }
  ~future_ref() {
    if (core_) core_->release();
  }

  bool done() const { return core().done(); }
  bool cancelled() const { return core().cancelled(); }
  bool cancel() { return core().cancel(nullptr); }
  bool cancel(const std::string& msg) { return core().cancel(&msg); }
  // Future.exception(): nullptr if it finished with a value; throws cancelled_error if cancelled and
  // invalid_state_error if still pending.
  std::exception_ptr exception() const { return core().exception(); }
  event_loop& get_loop() const {
    return core().live_loop();
  }

  // f may take this handle (as future_ref), or nothing. Runs through the loop, never inline.
  template <class F>
  callback_id add_done_callback(F f) {
    return add_done_callback_as<future_ref>(std::move(f));
  }
  // Returns how many registrations were removed (0 once the callback has been scheduled).
  std::size_t remove_done_callback(callback_id id) { return core().remove_done_callback(id.fn, id.ctx); }

  explicit operator bool() const noexcept { return core_ != nullptr; }
  friend bool operator==(const future_ref& a, const future_ref& b) noexcept { return a.core_ == b.core_; }
  detail::future_core* core_ptr() const noexcept { return core_; }

protected:
  struct adopt_t {};
  future_ref(detail::future_core* c, adopt_t) noexcept : core_(c) {}  // takes over an existing reference

  detail::future_core& core() const {
    if (!core_) throw invalid_state_error("coroscope: empty future handle");
    return *core_;
  }

  template <class Self, class F>
  callback_id add_done_callback_as(F f) {
    struct holder : detail::pooled {
      F fn;
    };
    std::unique_ptr<holder> owned(new holder{{}, std::move(f)});  // freed if registering throws
    detail::callback_fn tramp = [](void* ctx, detail::future_core* fut, detail::cb_op op) {
      auto* hh = static_cast<holder*>(ctx);
      struct deleter {
        holder* h;
        ~deleter() { delete h; }
      } d{hh};
      if (op != detail::cb_op::invoke) return;
      if constexpr (std::is_invocable_v<F&, const Self&>)
        hh->fn(Self(fut));
      else
        hh->fn();
    };
    auto* h = owned.get();
    core().add_done_callback({tramp, h});
    owned.release();
    return {tramp, h};
  }

  detail::future_core* core_ = nullptr;
};

namespace detail {

template <class T>
T& value_of(future_core& c) {
  return *static_cast<T*>(c.value_ptr());
}

// co_await on anything future-like: no suspension when already done (ORD-009), otherwise the task parks
// and is woken through the loop (ORD-010).
template <class T>
struct future_awaiter {
  future_core* core;
  bool await_ready() const noexcept { return core->done(); }
  void await_suspend(std::coroutine_handle<> h) { park_on_future(*core, h); }
  [[gnu::always_inline]] T await_resume() {
    if (auto e = awaited_error(*core)) [[unlikely]]
      std::rethrow_exception(std::move(e));
    if constexpr (!std::is_void_v<T>) {
      // Several awaiters may read one result (FUT-007): copy it; a move-only result is moved out once.
      if constexpr (std::is_copy_constructible_v<T>)
        return value_of<T>(*core);
      else
        return std::move(value_of<T>(*core));
    }
  }
};

// co_await quietly(f): waits for f like co_await f, but raises nothing: it returns the CancelledError the
// plain await would have raised (null when none). The combinators treat cancellation as a status with it.
struct quiet_awaiter {
  future_core* core;
  bool await_ready() const noexcept { return core->done(); }
  void await_suspend(std::coroutine_handle<> h) { park_on_future(*core, h); }
  std::exception_ptr await_resume() { return cancellation_on_resume(*core); }
};
inline quiet_awaiter quietly(const future_ref& f) { return {f.core_ptr()}; }

// What co_await settled(f) is: parked on f's completion, but Task.cancel() interrupts the wait instead of
// being forwarded to f (asyncio.wait's semantics).
class settled_awaiter final : public waitable {
public:
  explicit settled_awaiter(future_core* f) : f_(f) {
    if (!f_) throw invalid_state_error("coroscope: empty future handle");
  }
  settled_awaiter(const settled_awaiter&) = delete;
  settled_awaiter& operator=(const settled_awaiter&) = delete;

  bool await_ready() const noexcept { return f_->done(); }
  void await_suspend(std::coroutine_handle<> h) {
    task_core& t = current_task_or_throw();
    if (f_ == &t) {
      park_on_future(*f_, h);  // raises "Task cannot await on itself" there
      return;
    }
    f_->add_done_callback({&task_step_callback, &t});
    task_ = &t;
    t.park_on(this, h);
  }
  void await_resume() {
    if (!task_) return;
    task_->resume_check();
    if (interrupted_) throw cancelled_error(msg_);
    if (task_->take_cancel_delivery()) task_->raise_cancelled();
  }
  bool cancel_wait(const std::string* msg) override {
    if (interrupted_ || f_->done()) return false;
    f_->remove_done_callback(&task_step_callback, task_);
    interrupted_ = true;
    if (msg) msg_ = *msg;
    task_->loop()->push_step(task_);
    return true;
  }

private:
  future_core* f_;
  task_core* task_ = nullptr;
  std::string msg_;
  bool interrupted_ = false;
};

}  // namespace detail

// co_await settled(f): waits until f (a future or a task handle) is done and raises nothing of its outcome;
// read it afterwards with done(), cancelled(), exception() or result(). The fast path for observing a
// cancellation or a failure: no unwind at all. Like `await asyncio.wait({f})`, cancelling the waiting task
// raises cancelled_error in it and leaves f alone.
inline detail::settled_awaiter settled(const future_ref& f) { return detail::settled_awaiter(f.core_ptr()); }

template <class T = void>
class future : public future_ref {
public:
  using value_type = T;
  future() = default;
  // A new pending future on `loop` (asyncio: loop.create_future()).
  explicit future(event_loop& loop) : future_ref(new detail::future_state<T>(&loop), adopt_t{}) {}
  explicit future(detail::future_core* c) noexcept : future_ref(c) {}

  // Future.result(): the value, or raises the exception / cancelled_error / invalid_state_error.
  decltype(auto) result() const {
    core().check_result();
    if constexpr (!std::is_void_v<T>) return static_cast<const T&>(detail::value_of<T>(core()));
  }

  template <class U = T>
    requires(!std::is_void_v<T> && std::constructible_from<T, U &&>)
  void set_result(U&& v) {
    auto& c = core();
    c.check_settable();
    static_cast<detail::value_holder<T, detail::future_core>&>(c).emplace_value(std::forward<U>(v));
    c.finish_with_value();
  }
  void set_result()
    requires std::is_void_v<T>
  {
    auto& c = core();
    c.check_settable();
    c.finish_with_value();
  }
  void set_exception(std::exception_ptr e) { core().set_exception(std::move(e)); }
  template <class E>
    requires(!std::is_same_v<std::decay_t<E>, std::exception_ptr>)
  void set_exception(E&& e) {
    core().set_exception(std::make_exception_ptr(std::forward<E>(e)));
  }

  template <class F>
  callback_id add_done_callback(F f) {
    if constexpr (std::is_invocable_v<F&, const future<T>&>)
      return add_done_callback_as<future<T>>(std::move(f));
    else
      return add_done_callback_as<future_ref>(std::move(f));
  }

  detail::future_awaiter<T> operator co_await() const { return {&core()}; }
};

// asyncio.get_running_loop().create_future()
template <class T = void>
future<T> create_future() {
  return future<T>(get_running_loop());
}

template <class T>
future<T> event_loop::create_future() {
  check_open();
  return future<T>(*this);
}

}  // namespace coroscope
