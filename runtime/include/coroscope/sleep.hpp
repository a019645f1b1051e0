#pragma once
// asyncio.sleep. sleep(0) (or any delay <= 0) is a bare yield: the task gives up exactly one loop
// iteration and nothing is allocated (ORD-006). A positive delay parks the task on a timer; when the
// timer fires, the task is woken through the ready queue like asyncio's future callback, so traces line
// up with CPython's to the iteration.
#include <coroscope/detail/task_core.hpp>
#include <coroscope/event_loop.hpp>

#include <chrono>
#include <coroutine>
#include <memory>
#include <string>
#include <utility>

namespace coroscope {

namespace detail {

class sleep_awaiter;

class sleep_timer final : public timer_node, public pooled {
public:
  explicit sleep_timer(sleep_awaiter* a) noexcept : awaiter(a) {}
  void run() override;
  std::string describe() const override { return "sleep timer"; }
  sleep_awaiter* awaiter;
  using pooled::operator new;
  using pooled::operator delete;
};

class sleep_awaiter : public waitable {
public:
  explicit sleep_awaiter(duration d) noexcept : delay_(d) {}
  sleep_awaiter(const sleep_awaiter&) = delete;
  sleep_awaiter& operator=(const sleep_awaiter&) = delete;
  ~sleep_awaiter() {
    if (timer_ || msg_) [[unlikely]]
      release_resources();
  }

  // sleep always suspends, even sleep(0) (ORD-006)
  bool await_ready() const noexcept { return mutant::is(mutant::sleep0_does_not_yield) && delay_.count() <= 0; }
  void await_suspend(std::coroutine_handle<> h) {
    task_ = &current_task_or_throw();
    if (delay_.count() <= 0) [[likely]] {
      task_->park_yield(h);
      return;
    }
    park_on_timer(h);
  }
  // Inlined into the awaiting coroutine, so that a cancellation's unwind starts in that frame.
  [[gnu::always_inline]] void await_resume() {
    if (!task_) return;  // only when a mutant skipped the suspension
    if (task_->resumes_cleanly() && state_ != st::cancelled) [[likely]]
      return;
    task_->resume_check();
    if (task_->take_cancel_delivery()) {
      if (state_ == st::cancelled) throw cancelled_error(msg_ ? *msg_ : std::string());
      task_->raise_cancelled();
    }
    if (state_ == st::cancelled) throw cancelled_error(msg_ ? *msg_ : std::string());
  }

  // The sleep's "future" is cancelled by Task.cancel(): it completes at once and wakes the task.
  bool cancel_wait(const std::string* msg) override {
    if (state_ != st::pending) return false;
    state_ = st::cancelled;
    if (msg) msg_ = std::make_unique<std::string>(*msg);
    drop_timer();
    task_->loop()->push_step(task_);
    return true;
  }

  void fired() {
    drop_timer();
    state_ = st::fired;
    task_->loop()->push_step(task_);
  }

private:
  [[gnu::noinline]] void release_resources() noexcept {
    drop_timer();
    msg_.reset();
  }
  [[gnu::noinline]] void park_on_timer(std::coroutine_handle<> h) {
    event_loop* loop = task_->loop();
    timer_ = new sleep_timer(this);
    timer_->when = (loop->now() + delay_).time_since_epoch().count();
    timer_->add_ref();       // ours: the node stays valid even when the loop drops it (closed, purged)
    loop->add_timer(timer_);  // the heap's: the node's initial reference
    task_->park_on(this, h);
  }
  void drop_timer() noexcept {
    if (!timer_) return;
    timer_->awaiter = nullptr;
    timer_->cancel();
    std::exchange(timer_, nullptr)->release();
  }
  enum class st : unsigned char { pending, fired, cancelled };
  duration delay_;
  task_core* task_ = nullptr;
  sleep_timer* timer_ = nullptr;
  std::unique_ptr<std::string> msg_;
  st state_ = st::pending;
};

inline void sleep_timer::run() {
  if (awaiter) awaiter->fired();  // the loop holds its reference while this runs
}

template <class T>
class sleep_value_awaiter : public sleep_awaiter {
public:
  sleep_value_awaiter(duration d, T v) : sleep_awaiter(d), value_(std::move(v)) {}
  T await_resume() {
    sleep_awaiter::await_resume();
    return std::move(value_);
  }

private:
  T value_;
};

}  // namespace detail

// co_await sleep(10ms); co_await sleep(0ms) yields one iteration.
template <class Rep, class Period>
detail::sleep_awaiter sleep(std::chrono::duration<Rep, Period> delay) {
  return detail::sleep_awaiter(to_duration(delay));
}
// asyncio.sleep(delay, result): returns `result` when the delay is over.
template <class Rep, class Period, class T>
detail::sleep_value_awaiter<std::decay_t<T>> sleep(std::chrono::duration<Rep, Period> delay, T&& result) {
  return {to_duration(delay), std::forward<T>(result)};
}

}  // namespace coroscope
