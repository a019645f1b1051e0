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
  int cancelling() const noexcept { return static_cast<int>(num_cancels_); }
  int uncancel() noexcept {
    if (num_cancels_ > 0 && !mutant::is(mutant::uncancel_keeps_count)) --num_cancels_;
    return static_cast<int>(num_cancels_);
  }
  std::string name() const;
  void set_name(std::string n);
  bool started() const noexcept { return started_; }
  void mark_started_inline() noexcept { started_ = true; }

  // --- becoming a Task and running ---
  // Registers the frame with the loop, which holds a reference until the task is done, and queues the
  // first step (create_task never runs the coroutine eagerly, ORD-007).
  void start(event_loop* loop, std::coroutine_handle<> h, std::string name);
  void step() noexcept;

  // --- the awaiter protocol ---
  // The task suspends in h, waiting on w; Task.cancel() will be forwarded to w.
  void park_on(waitable* w, std::coroutine_handle<> h) noexcept;
  // A bare yield: the task is rescheduled for the next iteration (sleep(0), ORD-006).
  void park_yield(std::coroutine_handle<> h);
  // Suspend in h and raise e there at the next iteration ("Task cannot await on itself", FUT-010).
  void throw_on_resume(std::exception_ptr e, std::coroutine_handle<> h);
  // First thing every await_resume() does.
  void resume_check() {
    if (pending_throw_) std::rethrow_exception(std::exchange(pending_throw_, nullptr));
  }
  std::exception_ptr take_pending_throw() noexcept { return std::exchange(pending_throw_, nullptr); }
  // True once per delivered cancellation: the awaiter must then raise cancelled_error.
  bool take_cancel_delivery() noexcept { return std::exchange(deliver_cancel_, false); }
  // The CancelledError a delivered cancellation raises (Task._make_cancelled_error); as a value for the
  // combinators, which hand it on without unwinding.
  [[noreturn]] void raise_cancelled();
  std::exception_ptr cancelled_error_ptr() const;

  // --- the coroutine frame's side ---
  std::coroutine_handle<> continuation_;  // set when awaited inline, i.e. not a Task
  std::exception_ptr frame_exc_;          // what escaped the coroutine body
  bool value_set_ = false;
  // Called from final_suspend of a Task's own frame.
  void finish() noexcept;
  // Called from final_suspend of any frame: where control goes next (null: back to the loop).
  std::coroutine_handle<> on_final_suspend() noexcept {
    if (continuation_) return continuation_;
    finish();
    return nullptr;
  }

  // The loop tears down a task that is still pending when the loop is destroyed.
  void abandon() noexcept;
  bool owned_by_loop() const noexcept { return owned_by_loop_; }

protected:
  ~task_core() override;
  const char* kind_name() const noexcept override { return "Task"; }

private:
  friend class coroscope::event_loop;

  std::coroutine_handle<> resume_point_;  // the innermost suspended frame of this task
  waitable* fut_waiter_ = nullptr;
  std::exception_ptr pending_throw_;
  std::unique_ptr<std::string> task_msg_;  // Task._cancel_message
  std::unique_ptr<std::string> name_;
  std::uint64_t id_ = 0;
  std::uint32_t num_cancels_ = 0;
  bool must_cancel_ = false;
  bool deliver_cancel_ = false;
  bool started_ = false;
  bool owned_by_loop_ = false;
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
void park_on_future(future_core& f, std::coroutine_handle<> h);
void resume_from_future(future_core& f);
// What awaiting f raises on resumption, as a value (null: f's value is the result). The awaiters rethrow it
// themselves, inline: an unwind costs per frame it crosses, and this way it crosses no frame of the runtime.
std::exception_ptr awaited_error(future_core& f);
// The CancelledError that awaiting f would raise on resumption (the task's own, delivered while it waited,
// or f's when f was cancelled), or null: the combinators' way of treating cancellation as a status.
std::exception_ptr cancellation_on_resume(future_core& f);

}  // namespace coroscope::detail
