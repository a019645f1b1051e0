#include <coroscope/wait_for.hpp>

namespace coroscope::detail {

namespace {

// A done callback that completes `waiter` (asyncio's _release_waiter). The callback owns a reference.
void release_waiter_callback(void* ctx, future_core*, cb_op op) {
  auto* waiter = static_cast<future_core*>(ctx);
  struct releaser {
    future_core* w;
    ~releaser() { w->release(); }
  } r{waiter};
  if (op == cb_op::invoke && !waiter->done()) waiter->finish_with_value();
}
callback release_waiter(future_core* waiter) noexcept {
  waiter->add_ref();
  return {&release_waiter_callback, waiter};
}

// Runs `f` when the coroutine frame leaves the scope, on every path (Python's `finally`).
template <class F>
struct finally {
  F f;
  ~finally() { f(); }
};
template <class F>
finally(F) -> finally<F>;

}  // namespace

// timeout_error with the CancelledError nested (its __cause__), as std::throw_with_nested would make it.
// The nesting captures the exception being handled, so the cancellation is rethrown once to be caught
// here; that unwind is the timeout's, never a cancellation's.
struct nested_timeout_error : timeout_error, std::nested_exception {};
std::exception_ptr timeout_caused_by(const std::exception_ptr& cancellation) {
  try {
    std::rethrow_exception(cancellation);
  } catch (...) {
    return std::make_exception_ptr(nested_timeout_error());
  }
}

task<std::exception_ptr> cancel_and_wait(future_ref f) {
  future<void> waiter(f.get_loop());
  auto* fc = f.core_ptr();
  fc->add_done_callback(release_waiter(waiter.core_ptr()));
  finally cleanup{[&] { fc->remove_done_callback(&release_waiter_callback, waiter.core_ptr()); }};
  f.cancel();
  co_return co_await quietly(waiter);
}

task<std::exception_ptr> wait_for_core(future_ref f, duration timeout) {
  event_loop& loop = get_running_loop();
  auto* fc = f.core_ptr();
  if (timeout.count() <= 0) {
    // A coroutine is cancelled before its first step (WF-003).
    if (fc->done()) co_return nullptr;
    if (auto own = co_await cancel_and_wait(f)) co_return own;
    co_return fc->cancelled() ? timeout_caused_by(fc->make_cancelled_error()) : nullptr;
  }

  future<void> waiter(loop);
  timer_handle th = loop.call_later(timeout, [w = waiter]() mutable {
    if (!w.done()) w.set_result();
  });
  finally cancel_timer{[&] { th.cancel(); }};
  fc->add_done_callback(release_waiter(waiter.core_ptr()));

  std::exception_ptr own = co_await quietly(waiter);
  if (fc->done()) co_return nullptr;  // finished, or a late cancellation lost in the race (3.11, WF-008)
  fc->remove_done_callback(&release_waiter_callback, waiter.core_ptr());
  if (mutant::is(mutant::wait_for_keeps_inner) && !own) co_return std::make_exception_ptr(timeout_error());
  // The inner must not run after wait_for returns: cancel it and wait for the cancellation to finish.
  std::exception_ptr again = co_await cancel_and_wait(f);
  if (own) co_return own;
  if (again) co_return again;
  co_return fc->cancelled() ? timeout_caused_by(fc->make_cancelled_error()) : nullptr;
}

}  // namespace coroscope::detail
