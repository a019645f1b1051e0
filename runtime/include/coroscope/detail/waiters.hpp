#pragma once
// The lines of blocked tasks behind locks.hpp and queues.hpp, and the awaitable type of their waiting
// operations.
//
// CPython parks each blocked task on a future of its own, kept in a deque. Here a waiter_node plays that
// future: it lives in the awaiting frame (blocking allocates nothing), is linked into an intrusive
// waiter_line, and is the task's waitable, so Task.cancel() cancels it as it would cancel the future. It
// keeps the future's states (pending, woken = result set, cancelled) and stays in the line until its owner
// takes it out, exactly where CPython's `finally: waiters.remove(fut)` would.
//
// sync_op is what Lock.acquire(), Event.wait(), Queue.get() and friends return: an awaitable whose
// await_ready() completes the operation at once when nothing blocks (asyncio's `await` of such a coroutine
// does not suspend either), so the common case costs neither a coroutine frame nor a trip through the loop.
// It converts to task<R>, and create_task / gather / wait_for / shield / as_completed accept it, so it goes
// everywhere the task<R> these functions used to return went.
#include <coroscope/detail/ensure_future.hpp>
#include <coroscope/detail/rc_ptr.hpp>
#include <coroscope/task.hpp>

#include <concepts>
#include <coroutine>
#include <cstddef>
#include <exception>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

namespace coroscope {

namespace detail {

class waiter_line;

// How a wait in line ended: woken (no error), cancelled, or another exception (a pending throw).
struct wait_outcome {
  std::exception_ptr error;
  bool cancelled = false;
};

class waiter_node final : public waitable {
public:
  waiter_node() noexcept = default;
  waiter_node(const waiter_node&) = delete;
  waiter_node& operator=(const waiter_node&) = delete;
  ~waiter_node() override { leave(); }

  // The future's done() and cancelled().
  bool done() const noexcept { return state_ != st::pending; }
  bool cancelled() const noexcept { return state_ == st::cancelled; }
  // True once park() was called: the operation did not complete at once.
  bool parked() const noexcept { return task_ != nullptr; }
  bool in_line() const noexcept { return line_ != nullptr; }

  // `waiters.append(fut); await fut`: the running task suspends in h at the back of `line`, pending again.
  void park(waiter_line& line, std::coroutine_handle<> h);
  // fut.set_result(None): the task runs at a later iteration, through the ready queue. Only when pending.
  void wake() noexcept;
  // fut.cancel(msg), as forwarded by Task.cancel(): false once the node is done.
  bool cancel_wait(const std::string* msg) override;
  // `waiters.remove(fut)` when still there.
  void leave() noexcept;

  // First thing on resumption, after leaving the line when the caller must: what the await raises, as a
  // value (null: woken). A delivered Task.cancel() raises this node's CancelledError if the node itself was
  // cancelled (it carries the message), else the task's, as awaiting a future does.
  wait_outcome resume_outcome() {
    if (auto e = task_->take_pending_throw()) return {std::move(e), false};
    if (task_->take_cancel_delivery())
      return {cancelled() ? own_cancelled_error() : task_->cancelled_error_ptr(), true};
    if (cancelled()) return {own_cancelled_error(), true};
    return {};
  }
  // The same, raised inline in the awaiting frame, so that the unwind starts there.
  [[gnu::always_inline]] void resume_or_raise() {
    task_->resume_check();
    if (task_->take_cancel_delivery()) {
      if (cancelled()) throw cancelled_error(msg_ ? *msg_ : std::string());
      task_->raise_cancelled();
    }
    if (cancelled()) throw cancelled_error(msg_ ? *msg_ : std::string());
  }
  // `getter.cancel()` after an exception that did not come from the node: it counts as cancelled.
  void mark_cancelled() noexcept {
    if (state_ == st::pending) state_ = st::cancelled;
  }

private:
  friend class waiter_line;
  enum class st : unsigned char { pending, woken, cancelled };
  std::exception_ptr own_cancelled_error() const;

  waiter_node* prev_ = nullptr;
  waiter_node* next_ = nullptr;
  waiter_line* line_ = nullptr;
  task_core* task_ = nullptr;
  std::unique_ptr<std::string> msg_;  // fut.cancel(msg)'s message
  st state_ = st::pending;
};

// A FIFO line of waiter_nodes (Python: a deque of futures), intrusive: no allocation per waiter.
class waiter_line {
public:
  waiter_line() noexcept = default;
  waiter_line(const waiter_line&) = delete;
  waiter_line& operator=(const waiter_line&) = delete;
  ~waiter_line() {
    while (head_) erase(*head_);
  }

  bool empty() const noexcept { return head_ == nullptr; }
  std::size_t size() const noexcept { return size_; }
  waiter_node* front() const noexcept { return head_; }
  static waiter_node* next(const waiter_node* n) noexcept { return n->next_; }

  void push_back(waiter_node& n) noexcept {
    n.line_ = this;
    n.prev_ = tail_;
    n.next_ = nullptr;
    (tail_ ? tail_->next_ : head_) = &n;
    tail_ = &n;
    ++size_;
  }
  void erase(waiter_node& n) noexcept {
    (n.prev_ ? n.prev_->next_ : head_) = n.next_;
    (n.next_ ? n.next_->prev_ : tail_) = n.prev_;
    n.prev_ = n.next_ = nullptr;
    n.line_ = nullptr;
    --size_;
  }
  // True when every node satisfies p (Python's all() over the deque; true for an empty line).
  template <class P>
  bool all_of(P p) const {
    for (waiter_node* n = head_; n; n = n->next_)
      if (!p(*n)) return false;
    return true;
  }
  // Wakes the first pending node; false when there is none. Done nodes stay (their tasks remove them).
  bool wake_first_pending() noexcept {
    for (waiter_node* n = head_; n; n = n->next_)
      if (!n->done()) {
        n->wake();
        return true;
      }
    return false;
  }
  // Queue._wakeup_next: pops nodes from the front until one is pending and wakes that one; the popped
  // done ones (cancelled getters) are dropped from the line.
  void pop_and_wake_next() noexcept {
    while (waiter_node* n = head_) {
      erase(*n);
      if (!n->done()) {
        n->wake();
        return;
      }
    }
  }

private:
  waiter_node* head_ = nullptr;
  waiter_node* tail_ = nullptr;
  std::size_t size_ = 0;
};

inline void waiter_node::leave() noexcept {
  if (line_) line_->erase(*this);
}

inline void waiter_node::park(waiter_line& line, std::coroutine_handle<> h) {
  task_ = &current_task_or_throw();
  state_ = st::pending;
  line.push_back(*this);
  task_->park_on(this, h);  // may cancel us at once: a Task.cancel() that came while the task ran
}

inline void waiter_node::wake() noexcept {
  state_ = st::woken;
  task_->loop()->push_step(task_);
}

// `co_await line_wait(line)` in the runtime's own coroutines: one wait in line that raises nothing; it
// returns the exception the wait ended with (null: woken) and leaves the node out of the line either way.
struct line_wait {
  waiter_line& line;
  waiter_node& node;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) { node.park(line, h); }
  std::exception_ptr await_resume() {
    node.leave();
    return node.resume_outcome().error;
  }
};

// The base of the operations' awaitable types: Derived is the awaiter itself (await_ready, await_suspend,
// await_resume returning R), movable while not awaited.
struct sync_op_tag {};

template <class Op>
concept sync_op = std::derived_from<std::remove_cvref_t<Op>, sync_op_tag>;

template <class Op>
using sync_op_value_t = typename std::remove_cvref_t<Op>::value_type;

// The operation as a coroutine: what create_task, gather and friends schedule.
template <class Op>
task<sync_op_value_t<Op>> run_sync_op(Op op) {
  if constexpr (std::is_void_v<sync_op_value_t<Op>>)
    co_await op;
  else
    co_return co_await op;
}

template <class R, class Derived>
class sync_op_base : public sync_op_tag {
public:
  using value_type = R;
  // Anywhere a task<R> is expected (a function returning one, a std::vector<task<R>>, ...).
  operator task<R>() && { return run_sync_op(std::move(static_cast<Derived&>(*this))); }
};

// asyncio.create_task(lock.acquire()) and the like; ensure_future finds it by argument-dependent lookup.
template <class Op>
  requires sync_op<Op>
task_handle<sync_op_value_t<Op>> create_task(Op&& op, std::string name = {}) {
  return coroscope::create_task(run_sync_op(std::remove_cvref_t<Op>(std::forward<Op>(op))), std::move(name));
}

// gather, wait_for, shield and as_completed take an operation as they take a coroutine.
template <class Op>
  requires sync_op<Op>
struct future_like<Op> {
  static constexpr bool value = true;
  static constexpr bool is_coroutine = true;
  using type = sync_op_value_t<Op>;
};

}  // namespace detail

using detail::create_task;

}  // namespace coroscope
