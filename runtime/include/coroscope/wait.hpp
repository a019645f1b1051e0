#pragma once
// asyncio.wait: waits on tasks/futures until return_when holds or the timeout passes, and returns
// (done, pending). It never raises the children's exceptions and never cancels anything, neither on
// timeout nor when the waiting task is cancelled (WAI-001, WAI-005).
//
//   auto [done, pending] = co_await wait(std::vector{t1, t2}, first_completed, 50ms);
#include <coroscope/detail/ensure_future.hpp>

#include <algorithm>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace coroscope {

enum class return_when { first_completed, first_exception, all_completed };
inline constexpr return_when first_completed = return_when::first_completed;
inline constexpr return_when first_exception = return_when::first_exception;
inline constexpr return_when all_completed = return_when::all_completed;

template <class F>
struct wait_result {
  std::vector<F> done;
  std::vector<F> pending;
};

namespace detail {

class wait_state final : public rc_base, public pooled {
public:
  wait_state(std::size_t n, return_when rw, future<void> waiter) : counter_(n), rw_(rw), waiter_(std::move(waiter)) {}
  void on_completion(future_core* f) {
    --counter_;
    if (counter_ == 0 || rw_ == return_when::first_completed ||
        (rw_ == return_when::first_exception && !f->cancelled() && f->exception())) {
      timeout_.cancel();
      if (!waiter_.done()) waiter_.set_result();
    }
  }
  void on_timeout() {
    if (!waiter_.done()) waiter_.set_result();
  }
  timer_handle timeout_;
  using pooled::operator new;
  using pooled::operator delete;

private:
  std::size_t counter_;
  return_when rw_;
  future<void> waiter_;
};

// Waits as asyncio.wait does; returns the caller's CancelledError when it was cancelled meanwhile (a
// status: the wait() coroutine raises it without another unwind), else null.
task<std::exception_ptr> wait_impl(std::vector<future_core*> fs, return_when rw, std::optional<duration> timeout);

template <class F>
std::vector<F> unique_futures(std::vector<F> fs) {
  std::vector<F> out;
  out.reserve(fs.size());
  for (auto& f : fs)
    if (std::find(out.begin(), out.end(), f) == out.end()) out.push_back(std::move(f));
  return out;
}

}  // namespace detail

// The futures are returned in the order they were given, duplicates collapsed (WAI-007).
template <class F>
  requires detail::future_handle<F>
task<wait_result<F>> wait(std::vector<F> fs, return_when when = all_completed,
                          std::optional<duration> timeout = std::nullopt) {
  if (fs.empty()) throw std::invalid_argument("Set of Tasks/Futures is empty.");
  if (when != first_completed && when != first_exception && when != all_completed)
    throw std::invalid_argument("Invalid return_when value: " + std::to_string(static_cast<int>(when)));
  fs = detail::unique_futures(std::move(fs));
  std::vector<detail::future_core*> cores;
  cores.reserve(fs.size());
  for (auto& f : fs) {
    if (!f) throw std::invalid_argument("coroscope: wait() got an empty handle");
    cores.push_back(f.core_ptr());
  }
  if (auto cancelled = co_await detail::wait_impl(std::move(cores), when, timeout))
    co_await detail::raise(std::move(cancelled));
  wait_result<F> r;
  for (auto& f : fs) (f.done() ? r.done : r.pending).push_back(std::move(f));
  co_return r;
}

template <class F, class Rep, class Period>
  requires detail::future_handle<F>
task<wait_result<F>> wait(std::vector<F> fs, return_when when, std::chrono::duration<Rep, Period> timeout) {
  return wait(std::move(fs), when, std::optional<duration>(to_duration(timeout)));
}

// Passing coroutines to wait() is forbidden since Python 3.11 (WAI-006): here it does not compile.
template <class T, class... Rest>
void wait(std::vector<task<T>>, Rest&&...) = delete;

}  // namespace coroscope
