#pragma once
// The untyped Task: CPython's Task.__step / cancel / uncancel state machine, embedded in the promise of
// every coroscope::task<T> frame so that spawning costs one allocation (the frame) and nothing else.
//
// How cancellation maps onto C++ coroutines: Python throws CancelledError *into* the coroutine at its
// suspension point. C++ cannot throw into a suspended coroutine, so step() marks the delivery
// (deliver_cancel_) and resumes; the awaiter the coroutine is suspended in raises cancelled_error from
// await_resume(). Every coroscope awaitable funnels through park_on()/park_yield() and resume_check().
#include <coroscope/detail/mutant.hpp>
#include <coroscope/event_loop.hpp>

#include <coroutine>

// Symmetric transfer (await_suspend returning the next handle) only avoids stack growth when the
// compiler turns the resumption into a tail call. clang guarantees it at every optimisation level; g++ 12
// only does it when optimising sibling calls (not at -O0 or -O1), and then a loop of synchronously
// completing awaits overflows the stack. Where it is not guaranteed, a transfer is handed to the
// trampoline in task_core::step() instead: one extra return-and-call per transfer, bounded stack always.
#if !defined(COROSCOPE_SYMMETRIC_TRANSFER)
#if defined(__clang__)
#define COROSCOPE_SYMMETRIC_TRANSFER 1
#else
#define COROSCOPE_SYMMETRIC_TRANSFER 0
#endif
#endif

namespace coroscope::detail {

// The handle the running step resumes next (trampoline mode only).
inline thread_local std::coroutine_handle<> pending_transfer{};

class task_core : public future_core {
public:
  task_core() noexcept : future_core(nullptr) {}

  // --- asyncio.Task API ---
  bool cancel(const std::string* msg) override;  // a counted request (CAN-003, CAN-005)
  int cancelling() const noexcept { return extras_ ? static_cast<int>(extras_->num_cancels) : 0; }
  int uncancel() noexcept {
    if (!extras_) return 0;
    auto& n = extras_->num_cancels;
    if (n > 0 && !mutant::is(mutant::uncancel_keeps_count)) --n;
    return static_cast<int>(n);
  }
  std::string name() const;
  void set_name(std::string n);
  bool started() const noexcept { return started_; }
  void mark_started_inline() noexcept { started_ = true; }

  // --- becoming a Task and running ---
  // Registers the frame with the loop, which holds a reference until the task is done, and queues the
  // first step (create_task never runs the coroutine eagerly, ORD-007).
  void start(event_loop* loop, std::coroutine_handle<> h);
  inline void step() noexcept;  // below: the loop's dispatch inlines it

  // --- the awaiter protocol ---
  // The task suspends in h, waiting on w; Task.cancel() will be forwarded to w.
  void park_on(waitable* w, std::coroutine_handle<> h) noexcept { park(reinterpret_cast<std::uintptr_t>(w), h); }
  // The same for a future: Task.cancel() then cancels the future (asyncio's _fut_waiter.cancel()).
  void park_on(future_core* f, std::coroutine_handle<> h) noexcept {
    park(reinterpret_cast<std::uintptr_t>(f) | waiter_is_future, h);
  }
  // A bare yield: the task is rescheduled for the next iteration (sleep(0), ORD-006).
  void park_yield(std::coroutine_handle<> h) {
    link_ = h;
    loop_->push_step(this);
  }
  // Nothing to raise on resumption: no pending throw, no delivered cancellation (the awaiters' fast path).
  bool resumes_cleanly() const noexcept { return !has_pending_throw_ && !deliver_cancel_; }
  // Suspend in h and raise e there at the next iteration ("Task cannot await on itself", FUT-010).
  void throw_on_resume(std::exception_ptr e, std::coroutine_handle<> h);
  // First thing every await_resume() does.
  void resume_check() {
    if (has_pending_throw_) [[unlikely]]
      std::rethrow_exception(take_pending_throw());
  }
  std::exception_ptr take_pending_throw() noexcept {
    if (!has_pending_throw_) return nullptr;
    has_pending_throw_ = false;
    return std::exchange(extras_->pending_throw, nullptr);
  }
  // True once per delivered cancellation: the awaiter must then raise cancelled_error.
  bool take_cancel_delivery() noexcept {
    const bool d = deliver_cancel_;
    deliver_cancel_ = false;
    return d;
  }
  // The CancelledError a delivered cancellation raises (Task._make_cancelled_error); as a value for the
  // combinators, which hand it on without unwinding.
  [[noreturn]] void raise_cancelled();
  std::exception_ptr cancelled_error_ptr() const;

  // --- the coroutine frame's side ---
  // A frame awaited inline (not a Task) records its awaiter here; a Task, its innermost suspended frame.
  void set_continuation(std::coroutine_handle<> caller) noexcept { link_ = caller; }
  // What escaped the coroutine body (before a Task completes, its exc_ holds it).
  std::exception_ptr& frame_exception() noexcept { return exc_; }
  // Called from final_suspend of a Task's own frame.
  void finish() noexcept;
  // Called from final_suspend of any frame: where control goes next (null: back to the loop).
  std::coroutine_handle<> on_final_suspend() noexcept {
    if (!is_task_) return link_;
    finish();
    return nullptr;
  }

  // The loop tears down a task that is still pending when the loop is destroyed.
  void abandon() noexcept;
  bool owned_by_loop() const noexcept { return owned_by_loop_; }

protected:
  ~task_core() override;
  const char* kind_name() const noexcept override { return "Task"; }
  std::string owner_name() const override { return name(); }

private:
  friend class coroscope::event_loop;
  static constexpr std::uintptr_t waiter_is_future = 1;
  void park(std::uintptr_t waiter, std::coroutine_handle<> h) noexcept {
    link_ = h;
    waiter_ = waiter;
    // A cancel() that arrived while the task was running is forwarded as soon as it waits on something.
    if (must_cancel_) [[unlikely]]
      forward_pending_cancel();
  }
  // Task.cancel() forwarded to what the task waits on (Python's _fut_waiter.cancel(msg)).
  bool cancel_waiter(const std::string* msg);
  void forward_pending_cancel() noexcept;
  void cancel_before_start() noexcept;
  const std::string* task_msg() const noexcept {
    return extras_ && !extras_->task_msg.empty() ? &extras_->task_msg : nullptr;
  }

  std::coroutine_handle<> link_;  // see set_continuation()
  std::uintptr_t waiter_ = 0;     // Python's _fut_waiter: a waitable*, or a future_core* | waiter_is_future
  std::uint64_t id_ = 0;
};

// The callback that resumes a task: queued as a step, or registered as a done callback of what it awaits.
void task_step_callback(void* ctx, future_core* fut, cb_op op);

// The task running on this thread's loop; throws std::runtime_error when a coroscope awaitable is used
// outside a task (asyncio raises RuntimeError the same way).
[[noreturn]] void throw_no_current_task();
inline task_core& current_task_or_throw() {
  event_loop* l = running_loop();
  task_core* t = l ? l->current_task_core() : nullptr;
  if (!t) [[unlikely]]
    throw_no_current_task();
  return *t;
}

// The shared await protocol for anything future-like (futures, task handles, gather's future).
void park_on_self(task_core& t, std::coroutine_handle<> h);
[[gnu::always_inline]] inline void park_on_future(future_core& f, std::coroutine_handle<> h) {
  task_core& t = current_task_or_throw();
  if (&f == &t) [[unlikely]] {
    park_on_self(t, h);
    return;
  }
  f.add_done_callback({&task_step_callback, &t});
  t.park_on(&f, h);
}
void resume_from_future(future_core& f);
// What awaiting f raises on resumption, as a value (null: f's value is the result). The awaiters rethrow it
// themselves, inline: an unwind costs per frame it crosses, and this way it crosses no frame of the runtime.
std::exception_ptr awaited_error_slow(future_core& f);
[[gnu::always_inline]] inline std::exception_ptr awaited_error(future_core& f) {
  event_loop* l = running_loop();
  task_core* t = l ? l->current_task_core() : nullptr;
  if ((!t || t->resumes_cleanly()) && f.done() && !f.cancelled()) [[likely]] {
    f.mark_retrieved();
    return f.stored_exception();
  }
  return awaited_error_slow(f);
}
// The CancelledError that awaiting f would raise on resumption (the task's own, delivered while it waited,
// or f's when f was cancelled), or null: the combinators' way of treating cancellation as a status.
std::exception_ptr cancellation_on_resume(future_core& f);

// CPython's Task.__step, less the coroutine protocol: resume the innermost suspended frame as this task.
inline void task_core::step() noexcept {
  if (done()) [[unlikely]]
    return;
  event_loop* lp = loop_;
  if (must_cancel_) [[unlikely]] {
    must_cancel_ = false;
    deliver_cancel_ = true;
  }
  waiter_ = 0;
  task_core* prev = lp->current_task_core();
  lp->set_current_task_core(this);
  // The loop's own reference (owned_by_loop_) keeps the frame alive through its own completion.
  if (!started_ && deliver_cancel_) [[unlikely]] {
    cancel_before_start();
  } else {
    started_ = true;
    link_.resume();
    // Drained in every build: a library built with symmetric transfer may run frames compiled without it.
    while (auto next = std::exchange(pending_transfer, nullptr)) next.resume();
    deliver_cancel_ = false;
  }
  lp->set_current_task_core(prev);
  if (done() && owned_by_loop_) {
    owned_by_loop_ = false;
    release();
  }
}

}  // namespace coroscope::detail
