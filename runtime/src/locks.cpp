#include <coroscope/locks.hpp>

#include <coroscope/async_with.hpp>

#include <algorithm>

// Line for line, the algorithms of CPython 3.11.7's Lib/asyncio/locks.py; the comments say where a
// detail matters for the semantics file's cases.
namespace coroscope {

namespace detail {

waiter_ticket::waiter_ticket(waiter_queue& line) : line_(&line), fut_(create_future<void>()) {
  line.push_back(fut_);
}

void waiter_ticket::leave() noexcept {
  if (!line_) return;
  // Usually at the front (woken in order), so the search is short.
  auto it = std::find(line_->begin(), line_->end(), fut_);
  if (it != line_->end()) line_->erase(it);
  line_ = nullptr;
}

namespace {

// What a wait in line ended with: nothing, a cancellation, or another exception. Awaiting inside a catch
// handler is not allowed, and the callers look at their future before deciding, hence no throw here.
struct wait_end {
  std::exception_ptr error;
  bool cancelled = false;
};

task<wait_end> wait_in_line(const waiter_ticket& t) {
  wait_end end;
  try {
    co_await t.fut();
  } catch (const cancelled_error&) {
    end.error = std::current_exception();
    end.cancelled = true;
  } catch (...) {
    end.error = std::current_exception();
  }
  co_return end;
}

// `async with` on a lock known only by its state (the barrier's condition).
struct held_lock {
  rc_ptr<lock_state> l;
  task<bool> aenter() { return lock_acquire(l); }
  std::suspend_never aexit(std::exception_ptr) {
    l->release_lock();
    return {};
  }
};

}  // namespace

// ---- Event ----------------------------------------------------------------------------------------------

task<bool> event_wait(rc_ptr<event_state> s) {
  if (s->value) co_return true;
  waiter_ticket t(s->waiters);
  wait_end end = co_await wait_in_line(t);
  t.leave();
  if (end.error) std::rethrow_exception(end.error);  // a cancelled wait leaves no waiter behind (SYN-006)
  co_return true;
}

// ---- Lock -----------------------------------------------------------------------------------------------

task<bool> lock_acquire(rc_ptr<lock_state> s) {
  // Fair: a free lock is taken at once only when nobody is in line, or everyone in line was cancelled
  // (those have been woken already and will not take it). A woken waiter that has not run yet keeps its
  // claim, so a newcomer cannot barge in (SYN-002).
  if (!s->locked && std::all_of(s->waiters.begin(), s->waiters.end(), [](const auto& f) { return f.cancelled(); })) {
    s->locked = true;
    co_return true;
  }
  waiter_ticket t(s->waiters);
  wait_end end = co_await wait_in_line(t);
  t.leave();
  if (end.error) {
    // Woken and cancelled in the same step, or cancelled while free: whoever is now first must run, or
    // the wake-up would be lost (SYN-003).
    if (end.cancelled && !s->locked) s->wake_up_first();
    std::rethrow_exception(end.error);
  }
  s->locked = true;
  co_return true;
}

void lock_state::release_lock() {
  if (!locked) throw std::runtime_error("Lock is not acquired.");
  locked = false;
  wake_up_first();
}

void lock_state::wake_up_first() {
  if (waiters.empty()) return;
  // A done future at the head is already on its way (it takes the lock, or passes the wake-up on if it
  // was cancelled), so one wake-up at a time is enough.
  auto& fut = waiters.front();
  if (!fut.done()) fut.set_result();
}

// ---- Semaphore ------------------------------------------------------------------------------------------

bool semaphore_state::locked() const noexcept {
  // Zero, or someone still waits in line (FIFO: a newcomer queues behind them even when value > 0).
  return value == 0 || std::any_of(waiters.begin(), waiters.end(), [](const auto& f) { return !f.cancelled(); });
}

task<bool> semaphore_acquire(rc_ptr<semaphore_state> s) {
  if (!s->locked()) {
    --s->value;
    co_return true;
  }
  waiter_ticket t(s->waiters);
  wait_end end = co_await wait_in_line(t);
  t.leave();
  if (end.error) {
    // wake_up_next() took a unit for us when it completed our future; cancelled afterwards, we give it
    // back and hand it to the next in line.
    if (end.cancelled && !t.fut().cancelled()) {
      ++s->value;
      s->wake_up_next();
    }
    std::rethrow_exception(end.error);
  }
  // Units may have been released while waiters queued behind us: wake the next one too.
  if (s->value > 0) s->wake_up_next();
  co_return true;
}

void semaphore_state::release_unit() {
  if (bound >= 0 && value >= bound) throw std::invalid_argument("BoundedSemaphore released too many times");
  ++value;
  wake_up_next();
}

void semaphore_state::wake_up_next() {
  for (auto& fut : waiters) {
    if (!fut.done()) {
      --value;  // the unit is promised to this waiter now
      fut.set_result();
      return;
    }
  }
}

// ---- Condition ------------------------------------------------------------------------------------------

task<bool> condition_wait(rc_ptr<condition_state> s) {
  if (!s->lock->locked) throw std::runtime_error("cannot wait on un-acquired lock");
  s->lock->release_lock();
  wait_end end;
  {
    waiter_ticket t(s->waiters);
    end = co_await wait_in_line(t);
  }
  // The lock is re-acquired however the wait ended, even if cancelled again meanwhile (SYN-011): the
  // caller's `async with` will release it.
  bool cancelled = false;
  for (;;) {
    bool retry = false;
    try {
      co_await lock_acquire(s->lock);
    } catch (const cancelled_error&) {
      retry = true;
    }
    if (!retry) break;
    cancelled = true;
  }
  // Python 3.11 raises a fresh CancelledError here (no message), replacing the wait's own exception.
  if (cancelled) throw cancelled_error();
  if (end.error) std::rethrow_exception(end.error);
  co_return true;
}

void condition_state::notify(std::size_t n) {
  if (!lock->locked) throw std::runtime_error("cannot notify on un-acquired lock");
  std::size_t woken = 0;
  for (auto& fut : waiters) {
    if (woken >= n) break;
    if (!fut.done()) {
      ++woken;
      fut.set_result();
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
  for (auto& fut : s.waiters)
    if (!fut.done()) fut.set_result();  // the waiters run after set() returns (SYN-005)
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
