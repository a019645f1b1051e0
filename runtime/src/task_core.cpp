#include <coroscope/detail/task_core.hpp>

#include <stdexcept>

namespace coroscope::detail {

void task_step_callback(void* ctx, future_core*, cb_op op) {
  if (op == cb_op::invoke) static_cast<task_core*>(ctx)->step();
}

task_core::~task_core() = default;

std::string task_core::name() const {
  if (name_) return *name_;
  return "Task-" + std::to_string(id_);
}

void task_core::set_name(std::string n) { name_ = std::make_unique<std::string>(std::move(n)); }

void task_core::start(event_loop* loop, std::coroutine_handle<> h, std::string name) {
  loop_ = loop;
  is_task_ = true;
  id_ = loop->next_task_id();
  if (!name.empty()) set_name(std::move(name));
  resume_point_ = h;
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
  ++num_cancels_;
  // Forwarded synchronously to what the task waits on (CAN-009); fut_waiter_ is kept, because an awaited
  // task may ignore the request and need cancelling again.
  if (fut_waiter_ && !mutant::is(mutant::cancel_not_forwarded) && fut_waiter_->cancel_wait(msg)) return true;
  must_cancel_ = true;
  task_msg_ = msg ? std::make_unique<std::string>(*msg) : nullptr;
  return true;
}

void task_core::raise_cancelled() { throw cancelled_error(task_msg_ ? *task_msg_ : std::string()); }

std::exception_ptr task_core::cancelled_error_ptr() const {
  return std::make_exception_ptr(cancelled_error(task_msg_ ? *task_msg_ : std::string()));
}

void task_core::step() noexcept {
  if (done()) return;
  event_loop* lp = loop_;
  if (must_cancel_) {
    must_cancel_ = false;
    deliver_cancel_ = true;
  }
  fut_waiter_ = nullptr;
  task_core* prev = lp->current_task_core();
  lp->set_current_task_core(this);
  // The loop's own reference (owned_by_loop_) keeps the frame alive through its own completion.
  if (!started_ && deliver_cancel_) {
    // Cancelled before its first step: the body never runs (CAN-001).
    started_ = true;
    deliver_cancel_ = false;
    exc_ = cancelled_error_ptr();
    complete(state::cancelled);
  } else {
    started_ = true;
    resume_point_.resume();
#if !COROSCOPE_SYMMETRIC_TRANSFER
    while (auto next = std::exchange(pending_transfer, nullptr)) next.resume();
#endif
    deliver_cancel_ = false;
  }
  lp->set_current_task_core(prev);
  if (done() && owned_by_loop_) {
    owned_by_loop_ = false;
    release();
  }
}

void task_core::finish() noexcept {
  if (frame_exc_) {
    exc_ = frame_exc_;
    if (is_cancelled_error(frame_exc_)) {
      complete(state::cancelled);  // any CancelledError out of the body cancels the task (CAN-015)
      return;
    }
    log_traceback_ = true;
    if (is_fatal_error(frame_exc_)) loop_->note_fatal(frame_exc_);  // escapes the loop (CAN-018)
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

void task_core::park_on(waitable* w, std::coroutine_handle<> h) noexcept {
  resume_point_ = h;
  fut_waiter_ = w;
  // A cancel() that arrived while the task was running is forwarded as soon as it waits on something.
  if (must_cancel_ && w->cancel_wait(task_msg_.get())) must_cancel_ = false;
}

void task_core::park_yield(std::coroutine_handle<> h) {
  resume_point_ = h;
  loop_->push_step(this);
}

void task_core::throw_on_resume(std::exception_ptr e, std::coroutine_handle<> h) {
  pending_throw_ = std::move(e);
  park_yield(h);
}

void task_core::abandon() noexcept {
  // Unhook from whatever future would wake us, so nothing points at this frame after it is gone.
  if (auto* f = dynamic_cast<future_core*>(fut_waiter_)) f->remove_done_callback(&task_step_callback, this);
  fut_waiter_ = nullptr;
}

void throw_no_current_task() {
  if (!running_loop()) throw std::runtime_error("coroscope: no running event loop");
  throw std::runtime_error("coroscope: an awaitable was used outside a task");
}

void park_on_future(future_core& f, std::coroutine_handle<> h) {
  task_core& t = current_task_or_throw();
  if (&f == &t) {
    t.throw_on_resume(std::make_exception_ptr(std::runtime_error("Task cannot await on itself: " + t.name())), h);
    return;
  }
  f.add_done_callback({&task_step_callback, &t});
  t.park_on(&f, h);
}

std::exception_ptr awaited_error(future_core& f) {
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
