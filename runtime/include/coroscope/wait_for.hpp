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
#include <coroutine>
#include <exception>
#include <memory>
#include <optional>
#include <string>

namespace coroscope {

namespace detail {

class wait_for_timer;

// asyncio's `await waiter` inside wait_for, without the waiter future: the awaiting task is parked on this
// object, which lives in wait_for's frame, until the inner completes (its done callback) or the timeout
// fires (a timer), whichever comes first; either wakes the task through the ready queue one iteration
// later, as _release_waiter completing the waiter does. Task.cancel() cancels this wait as it would cancel
// the waiter. A timeout <= 0 does not wait at all (asyncio's early branch).
class wait_for_waiter final : public waitable {
public:
  wait_for_waiter(future_core& inner, duration timeout) noexcept : inner_(inner), timeout_(timeout) {}
  wait_for_waiter(const wait_for_waiter&) = delete;
  wait_for_waiter& operator=(const wait_for_waiter&) = delete;
  ~wait_for_waiter() {
    if (timer_) drop_timer();
  }

  bool await_ready() const noexcept { return timeout_.count() <= 0; }
  void await_suspend(std::coroutine_handle<> h);
  // The caller's own CancelledError when it was cancelled while waiting (a status, not raised), else null.
  std::exception_ptr await_resume();

  bool cancel_wait(const std::string* msg) override;
  // Whether wait_for must cancel the inner and wait for that: it is not done after the wait.
  bool must_cancel_inner() const noexcept { return !inner_.done(); }
  bool waited() const noexcept { return task_ != nullptr; }

private:
  friend class wait_for_timer;
  static void inner_done(void* ctx, future_core* fut, cb_op op);
  void wake();
  void drop_timer() noexcept;

  enum class st : unsigned char { pending, released, cancelled };
  future_core& inner_;
  duration timeout_;
  task_core* task_ = nullptr;
  wait_for_timer* timer_ = nullptr;
  std::unique_ptr<std::string> msg_;  // the cancel message, when the wait was cancelled with one
  st state_ = st::pending;
};

// The end of wait_for once the inner is not done after the wait (timeout, or the caller cancelled):
// cancels the inner and waits until it is done (asyncio's _cancel_and_wait). Raises nothing: returns what
// wait_for raises (timeout_error with the CancelledError nested, the caller's own CancelledError, what the
// cancellation of the inner returned with) or null when the inner's outcome is wait_for's.
task<std::exception_ptr> wait_for_cancel_inner(future_ref f, std::exception_ptr own, bool waited);

}  // namespace detail

template <class A>
  requires detail::awaitable_arg<A>
task<detail::arg_value_t<A>> wait_for(A aw, std::optional<duration> timeout) {
  using T = detail::arg_value_t<A>;
  if (!timeout) co_return co_await std::move(aw);  // no timeout: a plain await (a coroutine runs inline)
  future<T> f = detail::ensure_future(std::move(aw));
  auto& c = *f.core_ptr();
  {
    detail::wait_for_waiter waiter(c, *timeout);
    std::exception_ptr own = co_await waiter;
    if (waiter.must_cancel_inner()) {
      auto error = co_await detail::wait_for_cancel_inner(f, std::move(own), waiter.waited());
      if (error) co_await detail::raise(std::move(error));
    }
  }
  // The inner is done: its outcome is wait_for's (after a lost cancellation too, WF-008).
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
