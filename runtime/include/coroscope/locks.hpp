#pragma once
// asyncio's synchronisation primitives, Python 3.11's algorithms (Lib/asyncio/locks.py): event, lock,
// semaphore, bounded_semaphore, condition, barrier.
//
//   coroscope::lock lk;
//   co_await async_with(lk, [&]() -> task<void> { ... });   // or: co_await lk.acquire(); ... lk.release();
//   coroscope::event ev;   co_await ev.wait();   ev.set();
//   coroscope::condition cond;
//   co_await async_with(cond, [&]() -> task<void> { co_await cond.wait_for([&] { return ready; }); });
//
// How they work, as in CPython: every blocked task waits in a FIFO line of waiters (a node in its own frame
// where CPython has a future, detail/waiters.hpp); a release, set or notify wakes nodes, and the woken
// tasks run through the loop, never inline (13.1 of the semantics file). Lock and semaphore hand off in
// FIFO order without barging: a newcomer does not take the lock while a woken waiter has not run yet
// (SYN-001, SYN-002, SYN-007). A waiter that is cancelled after being woken passes the wake-up on
// (SYN-003); a cancelled condition wait re-acquires the lock before raising (SYN-011, named in 13.12 of
// the semantics file).
//
// event.wait(), lock.acquire() and semaphore.acquire() return a sync_op: awaiting it completes at once,
// without suspending and without a coroutine frame, when nothing blocks (SYN-002 "Also"), and it can be
// handed to create_task, gather or wait_for, or converted to task<bool>, like Python's `async def`
// coroutine. condition.wait() and the barrier's operations are task<T> coroutines.
// Objects are used from the thread of their loop. Each keeps its state in a refcounted block that every
// pending operation holds too, so destroying the object while tasks still wait on it (a task cancelled
// at shutdown, say) is safe.
#include <coroscope/detail/rc_ptr.hpp>
#include <coroscope/detail/waiters.hpp>
#include <coroscope/task.hpp>

#include <concepts>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace coroscope {

// asyncio.BrokenBarrierError (a RuntimeError): a barrier was aborted or reset while a task waited on it.
class broken_barrier_error : public std::runtime_error {
public:
  explicit broken_barrier_error(const std::string& what) : std::runtime_error(what) {}
};

namespace detail {

struct event_state final : rc_base, pooled {
  using pooled::operator new;
  using pooled::operator delete;
  bool value = false;
  waiter_line waiters;
};

struct lock_state final : rc_base, pooled {
  using pooled::operator new;
  using pooled::operator delete;
  bool locked = false;
  waiter_line waiters;
  void release_lock();  // not release(): that is rc_base's
  void wake_up_first();
};

struct semaphore_state final : rc_base, pooled {
  using pooled::operator new;
  using pooled::operator delete;
  explicit semaphore_state(std::int64_t v, std::int64_t b) noexcept : value(v), bound(b) {}
  std::int64_t value;
  std::int64_t bound;  // BoundedSemaphore's initial value; negative for a plain semaphore
  waiter_line waiters;
  bool locked() const noexcept;
  void release_unit();
  void wake_up_next();
};

struct condition_state final : rc_base, pooled {
  using pooled::operator new;
  using pooled::operator delete;
  explicit condition_state(rc_ptr<lock_state> l) noexcept : lock(std::move(l)) {}
  rc_ptr<lock_state> lock;
  waiter_line waiters;
  void notify(std::size_t n);
};

enum class barrier_phase : unsigned char { filling, draining, resetting, broken };

struct barrier_state final : rc_base, pooled {
  using pooled::operator new;
  using pooled::operator delete;
  barrier_state(rc_ptr<condition_state> c, int n) noexcept : cond(std::move(c)), parties(n) {}
  rc_ptr<condition_state> cond;  // every change of phase is announced with notify_all
  int parties;
  barrier_phase phase = barrier_phase::filling;
  int count = 0;  // tasks inside wait()
};

// The coroutines take the state by value: its reference keeps it alive for as long as they run.
task<bool> condition_wait(rc_ptr<condition_state> s);
task<int> barrier_wait(rc_ptr<barrier_state> s);
task<void> barrier_reset(rc_ptr<barrier_state> s);
task<void> barrier_abort(rc_ptr<barrier_state> s);

// Event.wait, Lock.acquire and Semaphore.acquire as sync_ops (detail/waiters.hpp): they return true, at
// once when nothing blocks, else after waiting in the primitive's line on a node in the awaiting frame.
// Each holds a reference to the state, so the object may go while the operation waits.

class event_wait_op final : public sync_op_base<bool, event_wait_op> {
public:
  explicit event_wait_op(rc_ptr<event_state> s) noexcept : s_(std::move(s)) {}
  event_wait_op(event_wait_op&& o) noexcept : s_(std::move(o.s_)) {}
  event_wait_op& operator=(event_wait_op&&) = delete;

  bool await_ready() const noexcept { return s_->value; }
  void await_suspend(std::coroutine_handle<> h) { node_.park(s_->waiters, h); }
  [[gnu::always_inline]] bool await_resume() {
    if (!node_.parked()) return true;
    node_.leave();  // a cancelled wait leaves no waiter behind (SYN-006)
    node_.resume_or_raise();
    return true;
  }

private:
  rc_ptr<event_state> s_;
  waiter_node node_;  // after s_: it leaves the line before the state can go
};

class lock_acquire_op final : public sync_op_base<bool, lock_acquire_op> {
public:
  explicit lock_acquire_op(rc_ptr<lock_state> s) noexcept : s_(std::move(s)) {}
  lock_acquire_op(lock_acquire_op&& o) noexcept : s_(std::move(o.s_)) {}
  lock_acquire_op& operator=(lock_acquire_op&&) = delete;

  // Fair: a free lock is taken at once only when nobody is in line, or everyone in line was cancelled
  // (those have been woken already and will not take it). A woken waiter that has not run yet keeps its
  // claim, so a newcomer cannot barge in (SYN-002).
  bool await_ready() const noexcept {
    if (s_->locked || !s_->waiters.all_of([](const waiter_node& n) { return n.cancelled(); })) return false;
    s_->locked = true;
    return true;
  }
  void await_suspend(std::coroutine_handle<> h) { node_.park(s_->waiters, h); }
  bool await_resume() {
    if (!node_.parked()) return true;
    node_.leave();
    wait_outcome end = node_.resume_outcome();
    if (!end.error) [[likely]] {
      s_->locked = true;
      return true;
    }
    // Woken and cancelled in the same step, or cancelled while free: whoever is now first must run, or
    // the wake-up would be lost (SYN-003).
    if (end.cancelled && !s_->locked) s_->wake_up_first();
    std::rethrow_exception(std::move(end.error));
  }

private:
  rc_ptr<lock_state> s_;
  waiter_node node_;
};

class semaphore_acquire_op final : public sync_op_base<bool, semaphore_acquire_op> {
public:
  explicit semaphore_acquire_op(rc_ptr<semaphore_state> s) noexcept : s_(std::move(s)) {}
  semaphore_acquire_op(semaphore_acquire_op&& o) noexcept : s_(std::move(o.s_)) {}
  semaphore_acquire_op& operator=(semaphore_acquire_op&&) = delete;

  bool await_ready() const noexcept {
    if (s_->locked()) return false;
    --s_->value;
    return true;
  }
  void await_suspend(std::coroutine_handle<> h) { node_.park(s_->waiters, h); }
  bool await_resume() {
    if (!node_.parked()) return true;
    node_.leave();
    wait_outcome end = node_.resume_outcome();
    if (!end.error) [[likely]] {
      // Units may have been released while waiters queued behind us: wake the next one too.
      if (s_->value > 0) s_->wake_up_next();
      return true;
    }
    // wake_up_next() took a unit for us when it woke our node; cancelled afterwards, we give it back and
    // hand it to the next in line.
    if (end.cancelled && !node_.cancelled()) {
      ++s_->value;
      s_->wake_up_next();
    }
    std::rethrow_exception(std::move(end.error));
  }

private:
  rc_ptr<semaphore_state> s_;
  waiter_node node_;
};

template <class P>
using predicate_result_t = std::decay_t<std::invoke_result_t<P&>>;

// Condition.wait_for: the predicate is copied into the frame, so a lambda capturing by reference is fine.
template <class P>
task<predicate_result_t<P>> condition_wait_for(rc_ptr<condition_state> s, P predicate) {
  predicate_result_t<P> result = predicate();
  while (!result) {
    co_await condition_wait(s);
    result = predicate();
  }
  co_return result;
}

// Python's _ContextManagerMixin: `async with x` (async_with) acquires on entry and releases on every exit.
template <class Derived>
class acquire_release_cm {
public:
  auto aenter() { return self().acquire(); }
  std::suspend_never aexit(std::exception_ptr) {
    self().release();
    return {};
  }

private:
  Derived& self() noexcept { return static_cast<Derived&>(*this); }
};

}  // namespace detail

// asyncio.Event: wait() blocks until set() (SYN-005); set() wakes every current waiter, even when clear()
// follows at once (SYN-006).
class event {
public:
  event();
  event(const event&) = delete;
  event& operator=(const event&) = delete;

  // Returns true (at once when the flag is set, without suspending).
  detail::event_wait_op wait() { return detail::event_wait_op(state_); }
  void set();
  void clear() noexcept { state_->value = false; }
  bool is_set() const noexcept { return state_->value; }
  // How many futures the line of waiters holds (Python's len(ev._waiters)), for tests and diagnostics.
  std::size_t waiter_count() const noexcept { return state_->waiters.size(); }

private:
  detail::rc_ptr<detail::event_state> state_;
};

// asyncio.Lock: not owned by a task (any task may release it); FIFO and fair (SYN-001..SYN-004).
// `co_await async_with(lk, body)` holds it around the body.
class lock : public detail::acquire_release_cm<lock> {
public:
  lock();
  lock(const lock&) = delete;
  lock& operator=(const lock&) = delete;

  // Returns true once the lock is held; does not suspend when it is free and nobody waits.
  detail::lock_acquire_op acquire() { return detail::lock_acquire_op(state_); }
  // Throws std::runtime_error("Lock is not acquired.") when the lock is not held.
  void release() { state_->release_lock(); }
  bool locked() const noexcept { return state_->locked; }
  std::size_t waiter_count() const noexcept { return state_->waiters.size(); }

private:
  friend class condition;
  detail::rc_ptr<detail::lock_state> state_;
};

// asyncio.Semaphore: a counter; acquire() waits while it is zero, FIFO (SYN-007). Releasing more often
// than acquiring is allowed (SYN-008). A negative initial value throws std::invalid_argument.
class semaphore : public detail::acquire_release_cm<semaphore> {
public:
  explicit semaphore(std::int64_t value = 1);
  semaphore(const semaphore&) = delete;
  semaphore& operator=(const semaphore&) = delete;

  detail::semaphore_acquire_op acquire() { return detail::semaphore_acquire_op(state_); }
  void release() { state_->release_unit(); }
  // True when acquire() would wait: the counter is zero, or earlier waiters are still in line.
  bool locked() const noexcept { return state_->locked(); }
  // The counter (Python's _value): units free and not yet promised to a woken waiter.
  std::int64_t value() const noexcept { return state_->value; }
  std::size_t waiter_count() const noexcept { return state_->waiters.size(); }

protected:
  semaphore(std::int64_t value, bool bounded);

private:
  detail::rc_ptr<detail::semaphore_state> state_;
};

// asyncio.BoundedSemaphore: release() beyond the initial value throws std::invalid_argument (ValueError).
// The bound lives in the shared state, so it holds through a semaphore& too.
class bounded_semaphore : public semaphore {
public:
  explicit bounded_semaphore(std::int64_t value = 1) : semaphore(value, true) {}
};

// asyncio.Condition: a lock (its own, or one given) plus a line of notified waiters (SYN-009, SYN-010).
// wait(), notify() and notify_all() require the lock held (std::runtime_error otherwise).
class condition : public detail::acquire_release_cm<condition> {
public:
  condition();
  // Condition(lock): shares `l`; the condition keeps the lock's state alive, not the lock object.
  explicit condition(lock& l);
  condition(const condition&) = delete;
  condition& operator=(const condition&) = delete;

  detail::lock_acquire_op acquire() { return detail::lock_acquire_op(state_->lock); }
  void release() { state_->lock->release_lock(); }
  bool locked() const noexcept { return state_->lock->locked; }

  // Releases the lock, waits for a notify, re-acquires the lock (even when cancelled, before raising),
  // returns true.
  task<bool> wait() { return detail::condition_wait(state_); }
  // Waits until predicate() is truthy and returns its last value (it is checked first, then after each
  // wake-up, with the lock held). "Truthy" is C++'s contextual conversion to bool: return a bool, a
  // pointer or a std::optional.
  template <class P>
    requires std::is_invocable_v<P&> && std::constructible_from<bool, detail::predicate_result_t<P>>
  task<detail::predicate_result_t<P>> wait_for(P predicate) {
    return detail::condition_wait_for(state_, std::move(predicate));
  }
  // Wakes at most n waiters, in FIFO order; they return from wait() once they have the lock again.
  void notify(std::size_t n = 1);
  void notify_all();
  std::size_t waiter_count() const noexcept { return state_->waiters.size(); }

private:
  detail::rc_ptr<detail::condition_state> state_;
};

// asyncio.Barrier (3.11): `parties` tasks meet; wait() returns each one's arrival index, 0..parties-1
// (SYN-012). abort() breaks it: pending and future waits raise broken_barrier_error until reset().
// parties < 1 throws std::invalid_argument.
class barrier {
public:
  explicit barrier(int parties);
  barrier(const barrier&) = delete;
  barrier& operator=(const barrier&) = delete;

  task<int> wait() { return detail::barrier_wait(state_); }
  // Back to the empty state; tasks waiting now get broken_barrier_error.
  task<void> reset() { return detail::barrier_reset(state_); }
  task<void> abort() { return detail::barrier_abort(state_); }

  int parties() const noexcept { return state_->parties; }
  // Tasks waiting for the barrier to fill (0 while it drains, resets or is broken).
  int n_waiting() const noexcept { return state_->phase == detail::barrier_phase::filling ? state_->count : 0; }
  bool broken() const noexcept { return state_->phase == detail::barrier_phase::broken; }

  // `async with barrier as index`: the body receives wait()'s index.
  task<int> aenter() { return wait(); }
  std::suspend_never aexit(std::exception_ptr) const noexcept { return {}; }

private:
  detail::rc_ptr<detail::barrier_state> state_;
};

}  // namespace coroscope
