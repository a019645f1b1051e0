#pragma once
// Plumbing shared by gather, wait, wait_for, shield and as_completed: turning an argument into a future
// (asyncio.ensure_future), reading typed results, refcounted pointers for callback contexts.
#include <coroscope/future.hpp>
#include <coroscope/outcome.hpp>
#include <coroscope/task.hpp>

#include <type_traits>
#include <utility>

namespace coroscope::detail {

template <class A>
struct future_like {
  static constexpr bool value = false;
};
template <class T>
struct future_like<task<T>> {
  static constexpr bool value = true;
  static constexpr bool is_coroutine = true;
  using type = T;
};
template <class T>
struct future_like<task_handle<T>> {
  static constexpr bool value = true;
  static constexpr bool is_coroutine = false;
  using type = T;
};
template <class T>
struct future_like<future<T>> {
  static constexpr bool value = true;
  static constexpr bool is_coroutine = false;
  using type = T;
};

template <class A>
concept awaitable_arg = future_like<std::remove_cvref_t<A>>::value;
template <class A>
concept future_handle = awaitable_arg<A> && !future_like<std::remove_cvref_t<A>>::is_coroutine;
template <class A>
using arg_value_t = typename future_like<std::remove_cvref_t<A>>::type;

// asyncio.ensure_future: a coroutine becomes a Task on the running loop; a future stays itself.
template <class A>
future<arg_value_t<A>> ensure_future(A&& a) {
  using V = arg_value_t<A>;
  if constexpr (future_like<std::remove_cvref_t<A>>::is_coroutine) {
    return future<V>(create_task(std::move(a)));
  } else {
    if (!a) throw std::invalid_argument("coroscope: empty future or task handle");
    return future<V>(a.core_ptr());
  }
}

// Copies a finished future's value out (several readers may share it); a move-only value is moved.
template <class T>
result_slot_t<T> take_value(future_core& c) {
  if constexpr (std::is_void_v<T>) {
    return none;
  } else if constexpr (std::is_copy_constructible_v<T>) {
    return value_of<T>(c);
  } else {
    return std::move(value_of<T>(c));
  }
}

// future.result() typed: raises what the future failed with.
template <class T>
result_slot_t<T> result_of(future_core& c) {
  c.check_result();
  return take_value<T>(c);
}

template <class T>
T result_as(future_core& c) {
  c.check_result();
  if constexpr (!std::is_void_v<T>) {
    if constexpr (std::is_copy_constructible_v<T>)
      return value_of<T>(c);
    else
      return std::move(value_of<T>(c));
  }
}

// A refcounted pointer to an rc_base-derived object (callback contexts of the combinators).
template <class S>
class rc_ptr {
public:
  rc_ptr() = default;
  explicit rc_ptr(S* s) noexcept : s_(s) {}  // adopts
  rc_ptr(const rc_ptr& o) noexcept : s_(o.s_) {
    if (s_) s_->add_ref();
  }
  rc_ptr(rc_ptr&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  rc_ptr& operator=(rc_ptr o) noexcept {
    std::swap(s_, o.s_);
    return *this;
  }
  ~rc_ptr() {
    if (s_) s_->release();
  }
  S* operator->() const noexcept { return s_; }
  S& operator*() const noexcept { return *s_; }
  S* get() const noexcept { return s_; }

private:
  S* s_ = nullptr;
};

// A done callback that completes `waiter` (asyncio's _release_waiter). The callback owns a reference.
void release_waiter_callback(void* ctx, future_core* fut, cb_op op);
inline callback release_waiter(future_core* waiter) noexcept {
  waiter->add_ref();
  return {&release_waiter_callback, waiter};
}

// An awaitable that is already complete with a value: what a context manager's synchronous aenter returns.
template <class T>
struct ready_awaitable {
  T value;
  bool await_ready() const noexcept { return true; }
  void await_suspend(std::coroutine_handle<>) const noexcept {}
  T await_resume() noexcept { return static_cast<T>(value); }
};

}  // namespace coroscope::detail
