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
// How they work, as in CPython: every blocked task waits on a future of its own, kept in a FIFO line of
// waiters; a release, set or notify completes futures, and the woken tasks run through the loop, never
// inline (13.1 of the semantics file). Lock and semaphore hand off in FIFO order without barging: a
// newcomer does not take the lock while a woken waiter has not run yet (SYN-001, SYN-002, SYN-007). A
// waiter that is cancelled after being woken passes the wake-up on (SYN-003); a cancelled condition wait
// re-acquires the lock before raising (SYN-011, named in 13.12 of the semantics file).
//
// The operations that wait return task<T>, like Python's `async def`: awaiting one runs it inline and does
// not suspend when nothing blocks (SYN-002 "Also"), and it can be handed to create_task or wait_for.
// Objects are used from the thread of their loop. Each keeps its state in a refcounted block that every
// pending operation holds too, so destroying the object while tasks still wait on it (a task cancelled
// at shutdown, say) is safe.
#include <coroscope/detail/rc_ptr.hpp>
#include <coroscope/task.hpp>

#include <concepts>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <deque>
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

// A primitive's line of waiters: one future per blocked task, in arrival order (Python: a deque of futures).
// The futures' values are never read, so they are future<void>.
using waiter_queue = std::deque<future<void>>;

// A place in a line of waiters: a new future at the back of `line`, taken out of it again by leave() or at
// the latest when the ticket goes (Python's `waiters.append(fut); try: await fut finally:
// waiters.remove(fut)`; the destructor covers a frame destroyed at loop shutdown, as GeneratorExit does).
// The line must outlive the ticket: the state holding it is kept alive by the waiting coroutine.
class waiter_ticket {
public:
  explicit waiter_ticket(waiter_queue& line);
  waiter_ticket(const waiter_ticket&) = delete;
  waiter_ticket& operator=(const waiter_ticket&) = delete;
  ~waiter_ticket() { leave(); }
  const future<void>& fut() const noexcept { return fut_; }
  future<void>& fut() noexcept { return fut_; }
  // Takes the future out of the line if it is still there.
  void leave() noexcept;
  // For a future that its waker already took out of the line (the queues pop what they wake).
  void forget() noexcept { line_ = nullptr; }

private:
  waiter_queue* line_;
  future<void> fut_;
};

struct event_state final : rc_base, pooled {
  using pooled::operator new;
  using pooled::operator delete;
  bool value = false;
  waiter_queue waiters;
};

struct lock_state final : rc_base, pooled {
  using pooled::operator new;
  using pooled::operator delete;
  bool locked = false;
  waiter_queue waiters;
  void release_lock();  // not release(): that is rc_base's
  void wake_up_first();
};

struct semaphore_state final : rc_base, pooled {
  using pooled::operator new;
  using pooled::operator delete;
  explicit semaphore_state(std::int64_t v, std::int64_t b) noexcept : value(v), bound(b) {}
  std::int64_t value;
  std::int64_t bound;  // BoundedSemaphore's initial value; negative for a plain semaphore
  waiter_queue waiters;
  bool locked() const noexcept;
  void release_unit();
  void wake_up_next();
};

struct condition_state final : rc_base, pooled {
  using pooled::operator new;
  using pooled::operator delete;
  explicit condition_state(rc_ptr<lock_state> l) noexcept : lock(std::move(l)) {}
  rc_ptr<lock_state> lock;
  waiter_queue waiters;
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
task<bool> event_wait(rc_ptr<event_state> s);
task<bool> lock_acquire(rc_ptr<lock_state> s);
task<bool> semaphore_acquire(rc_ptr<semaphore_state> s);
task<bool> condition_wait(rc_ptr<condition_state> s);
task<int> barrier_wait(rc_ptr<barrier_state> s);
task<void> barrier_reset(rc_ptr<barrier_state> s);
task<void> barrier_abort(rc_ptr<barrier_state> s);

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
  task<bool> aenter() { return self().acquire(); }
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
  task<bool> wait() { return detail::event_wait(state_); }
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
  task<bool> acquire() { return detail::lock_acquire(state_); }
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

  task<bool> acquire() { return detail::semaphore_acquire(state_); }
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

  task<bool> acquire() { return detail::lock_acquire(state_->lock); }
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
