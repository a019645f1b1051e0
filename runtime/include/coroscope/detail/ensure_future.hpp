#pragma once
// What the functions that take awaitables (gather, wait, wait_for, shield, as_completed) share: which
// arguments they accept, asyncio.ensure_future turning one into a future, and reading a finished
// future's typed value back out.
#include <coroscope/future.hpp>
#include <coroscope/outcome.hpp>
#include <coroscope/task.hpp>

#include <stdexcept>
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

}  // namespace coroscope::detail
