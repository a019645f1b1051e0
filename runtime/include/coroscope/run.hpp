#pragma once
// asyncio.run: a new loop, the main coroutine run to completion as a task, then every task still pending
// is cancelled and drained (their shutdown errors go to the exception handler), then the loop is closed.
// Returns the main coroutine's value or rethrows its exception (ORD-016, ORD-017).
//
//   int main() { return coroscope::run(amain()); }
//   coroscope::run(test_body(), {.clock = coroscope::clock_kind::virtual_time});  // exact, instant timers
#include <coroscope/event_loop.hpp>
#include <coroscope/task.hpp>

#include <stdexcept>

namespace coroscope {

using run_options = loop_options;

namespace detail {
void check_no_running_loop();
void cancel_all_tasks(event_loop& loop);
// What asyncio.run does after the main coroutine: cancel and drain what is left, let the executor's work
// come back, join the default executor.
void finish_run(event_loop& loop);
}  // namespace detail

template <class T>
T run(task<T> main, run_options options = {}) {
  detail::check_no_running_loop();
  event_loop loop(options);
  auto t = loop.create_task(std::move(main));
  try {
    future_ref r = t;
    loop.run_until_done(r);
  } catch (...) {
    detail::finish_run(loop);
    throw;
  }
  detail::finish_run(loop);
  if constexpr (std::is_void_v<T>) {
    t.result();
  } else {
    return static_cast<T>(t.result());
  }
}

// run(q.get()), run(ev.wait()): anything that converts to a task<T>.
template <detail::converts_to_task A>
auto run(A&& main, run_options options = {}) {
  return run(detail::converted_task_t<A>(std::forward<A>(main)), options);
}

}  // namespace coroscope
