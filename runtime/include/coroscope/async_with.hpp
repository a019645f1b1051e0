#pragma once
// `async with` in C++: async_with(cm, body) enters cm, runs the body coroutine, and always exits cm with
// the body's exception (or none), exactly like Python's statement. The body receives what cm's aenter()
// produced, if it takes an argument:
//
//   co_await async_with(timeout(1s), [&](timeout_scope& cm) -> task<void> { ... });
//   co_await async_with(tg, [&](task_group& tg) -> task<void> { tg.create_task(work()); co_return; });
//
// A context manager provides aenter() and aexit(std::exception_ptr), both awaitable; aexit yields void or
// bool (true suppresses the body's exception, as a truthy __aexit__ does).
#include <coroscope/task.hpp>

#include <concepts>
#include <coroutine>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

namespace coroscope {

namespace detail {

// An awaitable that is already complete with a value: what a context manager's synchronous aenter()
// returns (task_group, timeout_scope, server).
template <class T>
struct ready_awaitable {
  T value;
  bool await_ready() const noexcept { return true; }
  void await_suspend(std::coroutine_handle<>) const noexcept {}
  T await_resume() noexcept { return static_cast<T>(value); }
};

template <class A>
decltype(auto) get_awaiter(A&& a) {
  if constexpr (requires { static_cast<A&&>(a).operator co_await(); })
    return static_cast<A&&>(a).operator co_await();
  else
    return static_cast<A&&>(a);
}
template <class A>
using await_result_t = decltype(get_awaiter(std::declval<A>()).await_resume());

template <class Body, class V>
decltype(auto) invoke_body(Body& body, V&& v) {
  if constexpr (std::is_invocable_v<Body&, V&&>)
    return body(std::forward<V>(v));
  else
    return body();
}

template <class CM, class Body>
struct async_with_traits {
  using enter_t = await_result_t<decltype(std::declval<CM&>().aenter())>;
  using body_task = decltype(invoke_body(std::declval<Body&>(), std::declval<enter_t>()));
  using body_result = typename body_task::value_type;
  using exit_t = await_result_t<decltype(std::declval<CM&>().aexit(std::exception_ptr{}))>;
  static constexpr bool can_suppress = std::is_same_v<exit_t, bool>;
  // A body with a value whose exception was suppressed has no value: the result becomes optional.
  using result = std::conditional_t<can_suppress && !std::is_void_v<body_result>, std::optional<body_result>,
                                    body_result>;
};

}  // namespace detail

template <class CM, class Body>
auto async_with(CM&& cm, Body body) -> task<typename detail::async_with_traits<CM, Body>::result> {
  using tr = detail::async_with_traits<CM, Body>;
  using R = typename tr::body_result;
  decltype(auto) entered = co_await cm.aenter();
  std::exception_ptr error;
  std::optional<std::conditional_t<std::is_void_v<R>, int, R>> value;
  // What escapes the body is taken as a value, and raised with detail::raise: a cancellation unwinds in
  // the body and in the caller's frame, never in here.
  typename tr::body_task body_task;
  try {
    body_task = detail::invoke_body(body, static_cast<typename tr::enter_t>(entered));
  } catch (...) {
    error = std::current_exception();
  }
  if (body_task) {
    error = co_await body_task.settle();
    if constexpr (!std::is_void_v<R>)
      if (!error) value.emplace(body_task.settled_value());
  }
  if constexpr (tr::can_suppress) {
    bool suppress = co_await cm.aexit(error);
    if (error && !suppress) co_await detail::raise(error);
    if constexpr (!std::is_void_v<R>) {
      if (error) co_return std::nullopt;
      co_return std::move(*value);
    }
  } else {
    auto exit = cm.aexit(error);
    if constexpr (requires { exit.settle(); }) {
      if (auto e = co_await exit.settle()) co_await detail::raise(std::move(e));
    } else {
      co_await std::move(exit);
    }
    if (error) co_await detail::raise(error);
    if constexpr (!std::is_void_v<R>) co_return std::move(*value);
  }
}

}  // namespace coroscope
