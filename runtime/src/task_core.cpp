#include <coroscope/detail/task_core.hpp>

#include <stdexcept>

namespace coroscope::detail {

void task_step_callback(void* ctx, future_core*, cb_op op) {
  if (op == cb_op::invoke) static_cast<task_core*>(ctx)->step();
}

task_core::~task_core() = default;

std::string task_core::name() const {
  if (extras_ && extras_->name) return *extras_->name;
  return "Task-" + std::to_string(id_);
}

void task_core::set_name(std::string n) { extras().name = std::make_unique<std::string>(std::move(n)); }

void task_core::start(event_loop* loop, std::coroutine_handle<> h) {
  loop_ = loop;
  is_task_ = true;
  id_ = loop->next_task_id();
  link_ = h;
  owned_by_loop_ = true;  // the task<T>'s reference now belongs to the loop
  loop->attach(this);
  if (mutant::is(mutant::eager_create_task) && loop->current_task_core() != nullptr) {
    step();
    return;
  }
  loop->push_step(this);
}

bool task_core::cancel(const std::string* msg) {
  log_traceback_ = false;
  if (done()) return false;
  live_loop();
  ++extras().num_cancels;
  // Forwarded synchronously to what the task waits on (CAN-009); the waiter is kept, because an awaited
  // task may ignore the request and need cancelling again.
  if (waiter_ && !mutant::is(mutant::cancel_not_forwarded) && cancel_waiter(msg)) return true;
  must_cancel_ = true;
  if (msg) extras_->task_msg = *msg;
  else extras_->task_msg.clear();
  return true;
}

bool task_core::cancel_waiter(const std::string* msg) {
  if (waiter_ & waiter_is_future) return reinterpret_cast<future_core*>(waiter_ & ~waiter_is_future)->cancel(msg);
  return reinterpret_cast<waitable*>(waiter_)->cancel_wait(msg);
}

void task_core::forward_pending_cancel() noexcept {
  try {
    if (cancel_waiter(task_msg())) must_cancel_ = false;
  } catch (...) {
    // Cancelling a future of a closed loop: the request stays pending, as if nothing could take it.
  }
}

void task_core::raise_cancelled() { throw cancelled_error(extras_ ? extras_->task_msg : std::string()); }

std::exception_ptr task_core::cancelled_error_ptr() const {
  return std::make_exception_ptr(cancelled_error(extras_ ? extras_->task_msg : std::string()));
}

void task_core::cancel_before_start() noexcept {
  // Cancelled before its first step: the body never runs (CAN-001).
  started_ = true;
  deliver_cancel_ = false;
  exc_ = cancelled_error_ptr();
  complete(state::cancelled);
}

void task_core::finish() noexcept {
  if (exc_) {  // what escaped the body
    if (is_cancelled_error(exc_)) {
      complete(state::cancelled);  // any CancelledError out of the body cancels the task (CAN-015)
      return;
    }
    log_traceback_ = true;
    if (is_fatal_error(exc_)) loop_->note_fatal(exc_);  // escapes the loop (CAN-018)
    complete(state::finished);
    return;
  }
  if (must_cancel_) {
    // Cancelled right before returning: the result is discarded (CAN-014).
    must_cancel_ = false;
    exc_ = cancelled_error_ptr();
    complete(state::cancelled);
    return;
  }
  complete(state::finished);
}



void task_core::throw_on_resume(std::exception_ptr e, std::coroutine_handle<> h) {
  extras().pending_throw = std::move(e);
  has_pending_throw_ = true;
  park_yield(h);
}

void task_core::abandon() noexcept {
  // Unhook from whatever future would wake us, so nothing points at this frame after it is gone.
  if (waiter_ & waiter_is_future)
    reinterpret_cast<future_core*>(waiter_ & ~waiter_is_future)->remove_done_callback(&task_step_callback, this);
  waiter_ = 0;
}

void throw_no_current_task() {
  if (!running_loop()) throw std::runtime_error("coroscope: no running event loop");
  throw std::runtime_error("coroscope: an awaitable was used outside a task");
}

void park_on_self(task_core& t, std::coroutine_handle<> h) {
  t.throw_on_resume(std::make_exception_ptr(std::runtime_error("Task cannot await on itself: " + t.name())), h);
}

std::exception_ptr awaited_error_slow(future_core& f) {
  event_loop* l = running_loop();
  task_core* t = l ? l->current_task_core() : nullptr;
  if (t) {
    if (auto e = t->take_pending_throw()) return e;
    if (t->take_cancel_delivery()) return f.cancelled() ? f.make_cancelled_error() : t->cancelled_error_ptr();
  }
  if (f.cancelled()) return f.make_cancelled_error();
  if (!f.done()) f.check_result();  // raises what result() of a pending future raises
  f.mark_retrieved();
  return f.stored_exception();
}

void resume_from_future(future_core& f) {
  if (auto e = awaited_error(f)) std::rethrow_exception(std::move(e));
}

std::exception_ptr cancellation_on_resume(future_core& f) {
  event_loop* l = running_loop();
  task_core* t = l ? l->current_task_core() : nullptr;
  if (t && t->take_cancel_delivery() && !f.cancelled()) return t->cancelled_error_ptr();
  return f.cancelled() ? f.make_cancelled_error() : nullptr;
}

}  // namespace coroscope::detail
