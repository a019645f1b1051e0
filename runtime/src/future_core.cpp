#include <coroscope/detail/future_core.hpp>
#include <coroscope/event_loop.hpp>

#include <iostream>
#include <stdexcept>

namespace coroscope::detail {

void future_core::throw_loop_closed() { throw loop_closed_error(); }

bool future_core::cancel(const std::string* msg) {
  log_traceback_ = false;
  if (done()) return false;
  live_loop();
  if (msg) extras().cancel_msg = *msg;
  else if (extras_) extras_->cancel_msg.clear();
  exc_ = nullptr;
  complete(state::cancelled);
  return true;
}

std::exception_ptr future_core::make_cancelled_error() const {
  if (exc_ && state_ == state::cancelled) return exc_;
  return std::make_exception_ptr(cancelled_error(extras_ ? extras_->cancel_msg : std::string()));
}

void future_core::check_result() {
  switch (state_) {
    case state::pending:
      live_loop();
      throw invalid_state_error("Result is not set.");
    case state::cancelled:
      std::rethrow_exception(make_cancelled_error());
    case state::finished:
      log_traceback_ = false;
      if (exc_) std::rethrow_exception(exc_);
      return;
  }
}

std::exception_ptr future_core::exception() {
  switch (state_) {
    case state::pending:
      live_loop();
      throw invalid_state_error("Exception is not set.");
    case state::cancelled:
      std::rethrow_exception(make_cancelled_error());
    case state::finished:
      break;
  }
  log_traceback_ = false;
  return exc_;
}

void future_core::refuse_settable() const {
  if (is_task_) throw std::runtime_error("Task does not support set_result() or set_exception()");
  live_loop();
  throw invalid_state_error("invalid state: the future is already done");
}

void future_core::set_exception(std::exception_ptr e) {
  check_settable();
  if (!e) throw std::invalid_argument("set_exception() needs an exception");
  exc_ = std::move(e);
  log_traceback_ = true;
  complete(state::finished);
}

void future_core::complete_slow() noexcept {
  if (!loop_) {  // the loop is gone: nothing can run any more
    discard_callbacks();
    return;
  }
  // Scheduled with call_soon semantics, in registration order; never run inline (ORD-011, ORD-012).
  if (mutant::is(mutant::inline_done_callbacks)) {
    add_ref();
    callbacks_.drain([this](callback c) { c.fn(c.ctx, this, cb_op::invoke); });
    release();
    return;
  }
  callbacks_.drain([this](callback c) {
    add_ref();
    loop_->push_ready({c, this});
  });
}

void future_core::add_done_callback_slow(callback cb) {
  live_loop();
  if (done()) {
    add_ref();
    loop_->push_ready({cb, this});  // already done: scheduled, not called (ORD-011 b)
    return;
  }
  callbacks_.push(cb);
}

std::size_t future_core::remove_done_callback(callback_fn fn, void* ctx) {
  return callbacks_.remove(fn, ctx, [this](callback c) { c.fn(c.ctx, this, cb_op::discard); });
}

void future_core::discard_callbacks() noexcept {
  callbacks_.drain([this](callback c) { c.fn(c.ctx, this, cb_op::discard); });
}

void future_core::report_unretrieved() noexcept {
  // The refcount reached zero: this is Python's __del__ for futures and tasks (FUT-008).
  if (exc_ && state_ == state::finished) {
    log_traceback_ = false;
    exception_context ctx;
    ctx.message = std::string(kind_name()) + " exception was never retrieved";
    ctx.exception = exc_;
    ctx.task = owner_name();
    if (loop_) {
      loop_->call_exception_handler(ctx);
    } else {
      std::cerr << "coroscope: " << ctx.message << ": " << describe(exc_) << '\n';
    }
  }
}

}  // namespace coroscope::detail
