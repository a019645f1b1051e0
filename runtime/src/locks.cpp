#include <coroscope/locks.hpp>

#include <coroscope/async_with.hpp>

// Line for line, the algorithms of CPython 3.11.7's Lib/asyncio/locks.py; the comments say where a
// detail matters for the semantics file's cases.
namespace coroscope {

namespace detail {

bool waiter_node::cancel_wait(const std::string* msg) {
  if (state_ != st::pending) return false;
  state_ = st::cancelled;
  if (msg) msg_ = std::make_unique<std::string>(*msg);
  task_->loop()->push_step(task_);
  return true;
}

std::exception_ptr waiter_node::own_cancelled_error() const {
  return std::make_exception_ptr(cancelled_error(msg_ ? *msg_ : std::string()));
}

namespace {

// `async with` on a lock known only by its state (the barrier's condition).
struct held_lock {
  rc_ptr<lock_state> l;
  lock_acquire_op aenter() { return lock_acquire_op(l); }
  std::suspend_never aexit(std::exception_ptr) {
    l->release_lock();
    return {};
  }
};

}  // namespace

// ---- Lock (Event.wait, Lock.acquire and Semaphore.acquire are sync_ops in locks.hpp) ----------------------

void lock_state::release_lock() {
  if (!locked) throw std::runtime_error("Lock is not acquired.");
  locked = false;
  wake_up_first();
}

void lock_state::wake_up_first() {
  // A done node at the head is already on its way (it takes the lock, or passes the wake-up on if it was
  // cancelled), so one wake-up at a time is enough.
  waiter_node* first = waiters.front();
  if (first && !first->done()) first->wake();
}

// ---- Semaphore ------------------------------------------------------------------------------------------

bool semaphore_state::locked() const noexcept {
  // Zero, or someone still waits in line (FIFO: a newcomer queues behind them even when value > 0).
  return value == 0 || !waiters.all_of([](const waiter_node& n) { return n.cancelled(); });
}

void semaphore_state::release_unit() {
  if (bound >= 0 && value >= bound) throw std::invalid_argument("BoundedSemaphore released too many times");
  ++value;
  wake_up_next();
}

void semaphore_state::wake_up_next() {
  if (waiters.wake_first_pending()) --value;  // the unit is promised to that waiter now
}

// ---- Condition ------------------------------------------------------------------------------------------

task<bool> condition_wait(rc_ptr<condition_state> s) {
  if (!s->lock->locked) throw std::runtime_error("cannot wait on un-acquired lock");
  s->lock->release_lock();
  std::exception_ptr error;
  {
    waiter_node node;
    error = co_await line_wait{s->waiters, node};
  }
  // The lock is re-acquired however the wait ended, even if cancelled again meanwhile (SYN-011): the
  // caller's `async with` will release it.
  bool cancelled = false;
  for (;;) {
    bool retry = false;
    try {
      co_await lock_acquire_op(s->lock);
    } catch (const cancelled_error&) {
      retry = true;
    }
    if (!retry) break;
    cancelled = true;
  }
  // Python 3.11 raises a fresh CancelledError here (no message), replacing the wait's own exception.
  if (cancelled) throw cancelled_error();
  if (error) co_await raise(std::move(error));
  co_return true;
}

void condition_state::notify(std::size_t n) {
  if (!lock->locked) throw std::runtime_error("cannot notify on un-acquired lock");
  std::size_t woken = 0;
  for (waiter_node* w = waiters.front(); w && woken < n; w = waiter_line::next(w)) {
    if (!w->done()) {
      ++woken;
      w->wake();
    }
  }
}

// ---- Barrier --------------------------------------------------------------------------------------------

namespace {

bool draining_or_resetting(const barrier_state& b) noexcept {
  return b.phase == barrier_phase::draining || b.phase == barrier_phase::resetting;
}

// Blocks while the barrier drains or resets; raises if it is broken.
task<void> barrier_block(barrier_state* b) {
  co_await condition_wait_for(b->cond, [b] { return !draining_or_resetting(*b); });
  if (b->phase == barrier_phase::broken) throw broken_barrier_error("Barrier aborted");
}

// The last arrival: let everyone go; newcomers wait until the barrier has drained.
void barrier_release(barrier_state& b) {
  b.phase = barrier_phase::draining;
  b.cond->notify(b.cond->waiters.size());
}

// Waits for the barrier to fill; raises if it is reset or broken meanwhile.
task<void> barrier_wait_filled(barrier_state* b) {
  co_await condition_wait_for(b->cond, [b] { return b->phase != barrier_phase::filling; });
  if (b->phase == barrier_phase::broken || b->phase == barrier_phase::resetting)
    throw broken_barrier_error("Abort or reset of barrier");
}

// The last task out of a draining or resetting barrier makes it fill again.
void barrier_exit(barrier_state& b) {
  if (b.count != 0) return;
  if (draining_or_resetting(b)) b.phase = barrier_phase::filling;
  b.cond->notify(b.cond->waiters.size());
}

}  // namespace

task<int> barrier_wait(rc_ptr<barrier_state> s) {
  barrier_state* b = s.get();
  held_lock cm{b->cond->lock};
  co_return co_await async_with(cm, [b]() -> task<int> {
    co_await barrier_block(b);
    std::exception_ptr error;
    int index = b->count++;
    try {
      if (index + 1 == b->parties)
        barrier_release(*b);
      else
        co_await barrier_wait_filled(b);
    } catch (...) {
      error = std::current_exception();
    }
    --b->count;
    barrier_exit(*b);
    if (error) std::rethrow_exception(error);
    co_return index;
  });
}

task<void> barrier_reset(rc_ptr<barrier_state> s) {
  barrier_state* b = s.get();
  held_lock cm{b->cond->lock};
  co_await async_with(cm, [b]() -> task<void> {
    if (b->count > 0)
      b->phase = barrier_phase::resetting;  // the waiters raise; the last one out makes it fill again
    else
      b->phase = barrier_phase::filling;
    b->cond->notify(b->cond->waiters.size());
    co_return;
  });
}

task<void> barrier_abort(rc_ptr<barrier_state> s) {
  barrier_state* b = s.get();
  held_lock cm{b->cond->lock};
  co_await async_with(cm, [b]() -> task<void> {
    b->phase = barrier_phase::broken;
    b->cond->notify(b->cond->waiters.size());
    co_return;
  });
}

}  // namespace detail

// ---- The public objects ---------------------------------------------------------------------------------

event::event() : state_(new detail::event_state()) {}

void event::set() {
  auto& s = *state_;
  if (s.value) return;
  s.value = true;
  for (detail::waiter_node* w = s.waiters.front(); w; w = detail::waiter_line::next(w))
    if (!w->done()) w->wake();  // the waiters run after set() returns (SYN-005)
}

lock::lock() : state_(new detail::lock_state()) {}

semaphore::semaphore(std::int64_t value) : semaphore(value, false) {}

semaphore::semaphore(std::int64_t value, bool bounded) {
  if (value < 0) throw std::invalid_argument("Semaphore initial value must be >= 0");
  state_ = detail::rc_ptr<detail::semaphore_state>(new detail::semaphore_state(value, bounded ? value : -1));
}

condition::condition()
    : state_(new detail::condition_state(detail::rc_ptr<detail::lock_state>(new detail::lock_state()))) {}

condition::condition(lock& l) : state_(new detail::condition_state(l.state_)) {}

void condition::notify(std::size_t n) { state_->notify(n); }

void condition::notify_all() { state_->notify(state_->waiters.size()); }

barrier::barrier(int parties) {
  if (parties < 1) throw std::invalid_argument("parties must be > 0");
  // Python's Barrier owns a Condition with its own Lock.
  detail::rc_ptr<detail::lock_state> l(new detail::lock_state());
  detail::rc_ptr<detail::condition_state> c(new detail::condition_state(std::move(l)));
  state_ = detail::rc_ptr<detail::barrier_state>(new detail::barrier_state(std::move(c), parties));
}

}  // namespace coroscope
