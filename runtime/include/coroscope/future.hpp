#pragma once
// asyncio.Future in C++ spelling: future<T> is a cheap, copyable, single-threaded handle to a shared
// state. Done callbacks are always scheduled through the loop, never run inline (ORD-011).
#include <coroscope/detail/task_core.hpp>
#include <coroscope/event_loop.hpp>

#include <concepts>
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
    if (!core().loop()) throw std::runtime_error("coroscope: the future's event loop is closed");
    return *core().loop();
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
    auto* h = new holder{{}, std::move(f)};
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
    core().add_done_callback({tramp, h});
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
  T await_resume() {
    resume_from_future(*core);
    if constexpr (!std::is_void_v<T>) {
      // Several awaiters may read one result (FUT-007): copy it; a move-only result is moved out once.
      if constexpr (std::is_copy_constructible_v<T>)
        return value_of<T>(*core);
      else
        return std::move(value_of<T>(*core));
    }
  }
};

}  // namespace detail

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
