#pragma once
// asyncio's loop.add_signal_handler / remove_signal_handler, as free functions taking the loop (Unix
// signals are a property of the loop's thread, not something every loop needs, so they live beside it):
//
//   coroscope::add_signal_handler(loop, SIGTERM, [&] { server.close(); });
//   coroscope::remove_signal_handler(loop, SIGTERM);   // true if a handler was registered
//
// How it works: the signals that have a handler are blocked in the loop's thread and read from one
// signalfd per loop, which the loop watches with add_reader. When a signal arrives its handler is queued
// on the ready queue (asyncio's _add_callback_signalsafe), so it runs as an ordinary callback in a later
// iteration, never inside the kernel's delivery. Several deliveries of one signal before the loop reads
// them may be merged into one, as with any Unix signal.
//
// The caveat of every signalfd design: the kernel delivers a process-directed signal (kill(pid, ...)) to
// any thread that does not block it, and such a thread would take the default action (for most signals,
// terminating the process) instead of the loop seeing it. Block the signals you handle in every thread:
// register the handlers before starting other threads (threads inherit the mask; the executor's worker
// threads are started lazily, after), or block them yourself with pthread_sigmask at the start of main.
// A signal sent to the loop's own thread (raise, pthread_kill, tgkill) always reaches the loop.
//
// Registration state lives in a per-loop object created by the first add_signal_handler and destroyed with
// the last remove_signal_handler, or when the loop is closed: then the signalfd is closed and every signal
// this module blocked is unblocked again (a signal still pending is consumed first, not delivered), so the
// thread's mask is what it was before. Child processes started by create_subprocess_exec get the mask from
// before any blocking. Call both functions on the loop's thread.
#include <coroscope/event_loop.hpp>

#include <signal.h>

#include <functional>
#include <type_traits>
#include <utility>

namespace coroscope {

namespace detail {
// Registers n (taking over its reference) as the handler of signum; validates signum first.
void add_signal_handler_node(event_loop& loop, int signum, handle_node* n);
// This thread's signal mask without what this module blocked: what a child process should start with.
sigset_t mask_before_signal_handlers();
}  // namespace detail

// asyncio's loop.add_signal_handler(sig, callback, *args): callback(args...) runs through the loop each
// time signum arrives. A second registration replaces the first. Errors: a number that is not a signal
// (or is reserved by the C library) -> std::invalid_argument; SIGKILL and SIGSTOP -> std::system_error
// (EINVAL, "cannot be caught"), like asyncio's RuntimeError; a closed loop -> std::runtime_error.
template <class F, class... A>
void add_signal_handler(event_loop& loop, int signum, F&& callback, A&&... args) {
  static_assert(!requires { typename std::invoke_result_t<std::decay_t<F>&, std::decay_t<A>&...>::promise_type; },
                "coroscope: a signal handler is a plain callback; a coroutine would never run (call create_task "
                "inside the handler)");
  auto bound = [&] {
    if constexpr (sizeof...(A) == 0)
      return std::decay_t<F>(std::forward<F>(callback));
    else
      return std::bind_front(std::forward<F>(callback), std::forward<A>(args)...);
  }();
  detail::add_signal_handler_node(loop, signum, new detail::handle_impl<decltype(bound)>(std::move(bound)));
}

// asyncio's loop.remove_signal_handler(sig): true if a handler was removed. The signal gets the thread's
// previous mask back (its disposition was never changed). Same signal-number errors as add_signal_handler.
bool remove_signal_handler(event_loop& loop, int signum);

}  // namespace coroscope
