#include <coroscope/wait_for.hpp>

namespace coroscope::detail {

// The timeout's timer, and the context of the done callback on the inner: both can outlive the wait (a
// cancelled timer stays in the loop's heap until it surfaces; a done callback, once queued, runs even if
// the frame has moved on), so they point to the waiter only while it is attached. One pooled allocation
// per wait_for; refcounted by the heap, the waiter and a registered or queued callback.
class wait_for_timer final : public timer_node, public pooled {
public:
  explicit wait_for_timer(wait_for_waiter* w) noexcept : waiter(w) {}
  void run() override {
    if (waiter) waiter->wake();  // the loop holds its reference while this runs
  }
  std::string describe() const override { return "wait_for timer"; }
  wait_for_waiter* waiter;
  using pooled::operator new;
  using pooled::operator delete;
};

void wait_for_waiter::inner_done(void* ctx, future_core*, cb_op op) {
  auto* n = static_cast<wait_for_timer*>(ctx);
  struct releaser {
    wait_for_timer* n;
    ~releaser() { n->release(); }
  } r{n};
  if (op == cb_op::invoke && n->waiter) n->waiter->wake();
}

void wait_for_waiter::await_suspend(std::coroutine_handle<> h) {
  task_core& t = current_task_or_throw();
  event_loop* loop = t.loop();
  auto* n = new wait_for_timer(this);
  n->when = (loop->now() + timeout_).time_since_epoch().count();
  n->add_ref();  // ours: the node stays valid even when the loop drops it (closed, purged)
  timer_ = n;
  loop->add_timer(n);  // the heap's: the node's initial reference
  n->add_ref();        // the done callback's
  try {
    inner_.add_done_callback({&inner_done, n});
  } catch (...) {
    n->release();
    throw;
  }
  task_ = &t;
  t.park_on(this, h);
}

// _release_waiter: the first of the inner's completion and the timeout wakes the task, one iteration later.
void wait_for_waiter::wake() {
  if (state_ != st::pending) return;
  state_ = st::released;
  timer_->cancel();
  task_->loop()->push_step(task_);
}

bool wait_for_waiter::cancel_wait(const std::string* msg) {
  if (state_ != st::pending) return false;  // already released: the task gets the cancellation (WF-008)
  state_ = st::cancelled;
  if (msg) msg_ = std::make_unique<std::string>(*msg);
  timer_->cancel();
  task_->loop()->push_step(task_);
  return true;
}

std::exception_ptr wait_for_waiter::await_resume() {
  if (!task_) return nullptr;  // timeout <= 0: no wait
  task_->resume_check();
  const bool delivered = task_->take_cancel_delivery();
  if (timer_) drop_timer();
  if (state_ == st::cancelled) return std::make_exception_ptr(cancelled_error(msg_ ? *msg_ : std::string()));
  if (delivered) return task_->cancelled_error_ptr();
  return nullptr;
}

void wait_for_waiter::drop_timer() noexcept {
  wait_for_timer* n = std::exchange(timer_, nullptr);
  n->waiter = nullptr;
  if (state_ == st::pending) n->cancel();  // a wake-up or a cancel_wait cancelled it already
  // Still registered only while the inner is pending; once it is done the callback has run or is queued.
  if (!inner_.done()) inner_.remove_done_callback(&inner_done, n);
  n->release();
}

namespace {

// timeout_error with the CancelledError nested (its __cause__), as std::throw_with_nested would make it.
// The nesting captures the exception being handled, so the cancellation is rethrown once to be caught
// here; that unwind is the timeout's, never a cancellation's.
struct nested_timeout_error : timeout_error, std::nested_exception {};
std::exception_ptr timeout_caused_by(const std::exception_ptr& cancellation) {
  try {
    std::rethrow_exception(cancellation);
  } catch (...) {
    return std::make_exception_ptr(nested_timeout_error());
  }
}

// Completes the waiter future given as context (asyncio's _release_waiter); the callback owns a reference.
void release_waiter(void* ctx, future_core*, cb_op op) {
  auto* waiter = static_cast<future_core*>(ctx);
  struct releaser {
    future_core* w;
    ~releaser() { w->release(); }
  } r{waiter};
  if (op == cb_op::invoke && !waiter->done()) waiter->finish_with_value();
}

}  // namespace

task<std::exception_ptr> wait_for_cancel_inner(future_ref f, std::exception_ptr own, bool waited) {
  auto* fc = f.core_ptr();
  if (waited && mutant::is(mutant::wait_for_keeps_inner) && !own) co_return std::make_exception_ptr(timeout_error());
  // _cancel_and_wait: the inner must not run after wait_for returns.
  future<void> waiter(f.get_loop());
  waiter.core_ptr()->add_ref();  // the callback's
  fc->add_done_callback({&release_waiter, waiter.core_ptr()});
  struct unregister {
    future_core* fc;
    future_core* w;
    ~unregister() { fc->remove_done_callback(&release_waiter, w); }
  } guard{fc, waiter.core_ptr()};
  f.cancel();
  std::exception_ptr again = co_await quietly(waiter);
  if (own) co_return own;
  if (again) co_return again;
  co_return fc->cancelled() ? timeout_caused_by(fc->make_cancelled_error()) : nullptr;
}

}  // namespace coroscope::detail
