#pragma once
// Deliberate bugs for the conformance suite's mutation tests (conformance/README.md). Only the
// mutation-testing build (compiled with COROSCOPE_MUTANTS, by the COROSCOPE_BUILD_MUTANTS option) has them,
// and it carries exactly the bug named by COROSCOPE_MUTANT=<n> in the environment, read once. In every
// other build each hook below is a constant false that the compiler removes.

namespace coroscope::detail::mutant {

enum id : int {
  none = 0,
  lifo_ready_queue = 1,         // the ready queue runs the newest callback first
  gather_completion_order = 2,  // gather's results come in completion order, not argument order
  cancel_not_forwarded = 3,     // Task.cancel() is not forwarded to the awaited future
  wait_for_keeps_inner = 4,     // wait_for raises on timeout without cancelling the inner
  shield_passes_cancel = 5,     // shield() returns the inner itself, so cancellation reaches it
  inline_done_callbacks = 6,    // done callbacks run inline in set_result instead of being scheduled
  timers_ignore_cancel = 7,     // a cancelled timer handle still fires
  sleep0_does_not_yield = 8,    // sleep(0) returns without giving the loop an iteration
  uncancel_keeps_count = 9,     // uncancel() does not decrement cancelling()
  due_timers_first = 10,        // due timers run before the callbacks that were already ready
  eager_create_task = 11,       // create_task runs the coroutine's first step at once
  timeout_stays_cancelled = 12, // a timeout scope does not take its cancel request back
};

#if defined(COROSCOPE_MUTANTS)
int active() noexcept;
inline bool is(id m) noexcept { return active() == m; }
#else
constexpr bool is(id) noexcept { return false; }
#endif

}  // namespace coroscope::detail::mutant
