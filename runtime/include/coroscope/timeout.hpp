#pragma once
// asyncio.timeout / timeout_at (3.11): a scope whose body is cancelled at the deadline; the cancellation
// is turned into timeout_error outside the scope, and the task is left un-cancelled (TMO-001).
//
//   co_await async_with(timeout(50ms), [&](timeout_scope& cm) -> task<void> {
//     co_await slow();
//     cm.reschedule(std::nullopt);  // or move the deadline
//   });
//
// The bookkeeping relies on the task's cancel count, like asyncio: the scope remembers cancelling() on
// entry and only converts when uncancel() brings it back there, so an external cancel always passes
// through as cancelled_error (TMO-008). The timeout_error carries the CancelledError as a nested
// exception (__cause__).
#include <coroscope/async_with.hpp>

#include <chrono>
#include <coroutine>
#include <optional>

namespace coroscope {

class timeout_scope {
public:
  explicit timeout_scope(std::optional<time_point> when) noexcept : when_(when) {}
  timeout_scope(const timeout_scope&) = delete;  // its timer callback points at it
  timeout_scope& operator=(const timeout_scope&) = delete;
  ~timeout_scope() { handler_.cancel(); }

  std::optional<time_point> when() const noexcept { return when_; }
  // Moves the deadline (nullopt disables it). Only while the scope is entered.
  void reschedule(std::optional<time_point> when);
  template <class Rep, class Period>
  void reschedule_in(std::chrono::duration<Rep, Period> delay) {
    reschedule(get_running_loop().now() + to_duration(delay));
  }
  // Whether the deadline was hit while the scope was active.
  bool expired() const noexcept { return state_ == state::expiring || state_ == state::expired; }

  // The async context manager protocol (see async_with).
  detail::ready_awaitable<timeout_scope&> aenter();
  std::suspend_never aexit(std::exception_ptr error);

private:
  enum class state { created, entered, expiring, expired, exited };
  void on_timeout();
  static const char* state_name(state s) noexcept;

  std::optional<time_point> when_;
  handle handler_;
  task_ref task_;
  int cancelling_ = 0;
  state state_ = state::created;
};

// A scope that expires `delay` from now; nullopt never expires.
inline timeout_scope timeout(std::optional<duration> delay) {
  if (!delay) return timeout_scope(std::nullopt);
  return timeout_scope(get_running_loop().now() + *delay);
}
template <class Rep, class Period>
timeout_scope timeout(std::chrono::duration<Rep, Period> delay) {
  return timeout(std::optional<duration>(to_duration(delay)));
}
// A scope that expires at `when` on the loop's clock (get_running_loop().now() + ...).
inline timeout_scope timeout_at(std::optional<time_point> when) { return timeout_scope(when); }

}  // namespace coroscope
