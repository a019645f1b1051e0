#pragma once
// asyncio.wait_for, Python 3.11's algorithm: on timeout the inner is cancelled, wait_for waits until the
// cancellation is finished, then raises timeout_error (with the CancelledError nested, as __cause__)
// — unless the inner suppressed the cancellation (its value is returned) or raised something else
// (that propagates) (WF-002, WF-004, WF-006). Cancelling the caller cancels the inner (WF-007).
//
//   int v = co_await wait_for(fetch(), 100ms);
#include <coroscope/detail/ensure_future.hpp>
#include <coroscope/task.hpp>

#include <chrono>
#include <optional>

namespace coroscope {

namespace detail {
// Cancels f and waits until it is done (asyncio's _cancel_and_wait). Raises nothing: returns the caller's
// own CancelledError when the caller was cancelled meanwhile, else null.
task<std::exception_ptr> cancel_and_wait(future_ref f);
// wait_for on a future, untyped, raising nothing: returns null when f is done and its outcome is
// wait_for's, else what wait_for raises (timeout_error with the CancelledError nested, or the caller's
// own CancelledError). Cancellation is a status all the way: no unwind until the caller's frame.
task<std::exception_ptr> wait_for_core(future_ref f, duration timeout);
}  // namespace detail

template <class A>
  requires detail::awaitable_arg<A>
task<detail::arg_value_t<A>> wait_for(A aw, std::optional<duration> timeout) {
  using T = detail::arg_value_t<A>;
  if (!timeout) co_return co_await std::move(aw);  // no timeout: a plain await (a coroutine runs inline)
  future<T> f = detail::ensure_future(std::move(aw));
  if (auto error = co_await detail::wait_for_core(f, *timeout)) co_await detail::raise(std::move(error));
  auto& c = *f.core_ptr();
  if (c.cancelled()) co_await detail::raise(c.make_cancelled_error());
  if (c.failed()) {
    c.mark_retrieved();
    co_await detail::raise(c.stored_exception());
  }
  if constexpr (!std::is_void_v<T>) co_return detail::take_value<T>(c);
}

template <class A, class Rep, class Period>
  requires detail::awaitable_arg<A>
task<detail::arg_value_t<A>> wait_for(A aw, std::chrono::duration<Rep, Period> timeout) {
  return wait_for(std::move(aw), std::optional<duration>(to_duration(timeout)));
}

}  // namespace coroscope
