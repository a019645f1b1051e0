#pragma once
// asyncio's queues, Python 3.11's algorithms (Lib/asyncio/queues.py): queue<T> (FIFO), lifo_queue<T>,
// priority_queue<T, Compare> (lowest first, heapq's order).
//
//   coroscope::queue<int> q(10);           // maxsize <= 0: unbounded
//   co_await q.put(1);                     // waits while full
//   int v = co_await q.get();              // waits while empty
//   q.task_done();  co_await q.join();     // join() returns once every item put was marked done
//
// get() and put() return sync_ops (detail/waiters.hpp): they complete without suspending or allocating when
// the queue lets them through (as asyncio's do); a blocked call waits in a coroutine frame of its own, which
// holds its place in the FIFO line of getters or putters. put_nowait() wakes the first getter but does not
// reserve the item for it: a get_nowait() from another task may take it first, and
// the woken getter then waits again (Q-006; contrast with lock's hand-off, SYN-002). A getter cancelled
// after being woken passes the wake-up on, so no item is stranded.
//
// Python 3.13's Queue.shutdown is not here: coroscope mirrors 3.11.
#include <coroscope/locks.hpp>

#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <utility>
#include <vector>  // heap_store

namespace coroscope {

// asyncio.QueueEmpty: get_nowait() on an empty queue.
class queue_empty : public std::exception {
public:
  const char* what() const noexcept override { return "queue is empty"; }
};

// asyncio.QueueFull: put_nowait() on a queue holding maxsize items.
class queue_full : public std::exception {
public:
  const char* what() const noexcept override { return "queue is full"; }
};

namespace detail {

// Everything about a queue but its items: the lines of getters and putters, and task_done/join's count.
class queue_core : public rc_base {
public:
  explicit queue_core(int maxsize);
  virtual std::size_t size() const noexcept = 0;

  bool empty() const noexcept { return size() == 0; }
  bool full() const noexcept {
    return maxsize > 0 && size() >= static_cast<std::size_t>(maxsize);
  }
  void check_put() const {
    if (full()) throw queue_full();
  }
  void check_get() const {
    if (empty()) throw queue_empty();
  }
  // The bookkeeping of put_nowait after the item is stored, and of get_nowait after it is taken.
  void item_added();
  void item_taken() { wake_up_next(putters); }
  void task_done();

  // Queue._wakeup_next: wakes the first waiter of `line` that is not done, dropping the done ones before it.
  static void wake_up_next(waiter_line& line) noexcept { line.pop_and_wake_next(); }

  int maxsize;
  waiter_line getters;
  waiter_line putters;
  std::size_t unfinished = 0;
  event finished;  // set whenever unfinished is 0
};

// The waiting half of Queue.get and Queue.put: returns once the queue is not empty (not full). A coroutine,
// because a woken waiter may find the item taken by a get_nowait() and wait again: one frame per
// blocked call, none when the queue lets the call through at once.
task<void> wait_until_not_empty(queue_core& q);
task<void> wait_until_not_full(queue_core& q);
task<void> queue_join(rc_ptr<queue_core> q);

// Items in arrival order, taken from the front (Queue) or the back (LifoQueue).
template <class T, bool Lifo>
class sequence_store {
public:
  std::size_t size() const noexcept { return items_.size(); }
  void push(T&& v) { items_.push_back(std::move(v)); }
  T pop() {
    if constexpr (Lifo) {
      T v = std::move(items_.back());
      items_.pop_back();
      return v;
    } else {
      T v = std::move(items_.front());
      items_.pop_front();
      return v;
    }
  }

private:
  std::deque<T> items_;
};

// Python's heapq (heappush / heappop with its _siftdown / _siftup), so that items of equal priority come
// out in the same order as from asyncio.PriorityQueue; std::push_heap/pop_heap order ties differently.
template <class T, class Compare>
class heap_store {
public:
  std::size_t size() const noexcept { return items_.size(); }
  void push(T&& v) {
    items_.push_back(std::move(v));
    sift_down(0, items_.size() - 1);
  }
  T pop() {
    T last = std::move(items_.back());
    items_.pop_back();
    if (items_.empty()) return last;
    T top = std::move(items_.front());
    items_.front() = std::move(last);
    sift_up(0);
    return top;
  }

private:
  // Moves the item at pos up towards start while it is smaller than its parent.
  void sift_down(std::size_t start, std::size_t pos) {
    T item = std::move(items_[pos]);
    while (pos > start) {
      std::size_t parent = (pos - 1) / 2;
      if (!less_(item, items_[parent])) break;
      items_[pos] = std::move(items_[parent]);
      pos = parent;
    }
    items_[pos] = std::move(item);
  }
  // heapq's variant: the smaller child moves up all the way to a leaf, then the item sifts back down
  // (fewer comparisons than stopping early).
  void sift_up(std::size_t pos) {
    const std::size_t end = items_.size();
    const std::size_t start = pos;
    T item = std::move(items_[pos]);
    std::size_t child = 2 * pos + 1;
    while (child < end) {
      std::size_t right = child + 1;
      if (right < end && !less_(items_[child], items_[right])) child = right;
      items_[pos] = std::move(items_[child]);
      pos = child;
      child = 2 * pos + 1;
    }
    items_[pos] = std::move(item);
    sift_down(start, pos);
  }

  std::vector<T> items_;
  [[no_unique_address]] Compare less_{};
};

template <class T, class Store>
class queue_state final : public queue_core, public pooled {
public:
  using pooled::operator new;
  using pooled::operator delete;
  using queue_core::queue_core;
  std::size_t size() const noexcept override { return store.size(); }
  Store store;

  // empty() and full() without the virtual call, for the operations' fast path.
  bool has_item() const noexcept { return store.size() != 0; }
  bool has_room() const noexcept { return maxsize <= 0 || store.size() < static_cast<std::size_t>(maxsize); }
  // put_nowait and get_nowait once the queue is known to allow them.
  void put_unchecked(T&& item) {
    store.push(std::move(item));
    item_added();
  }
  T get_unchecked() {
    T item = store.pop();
    item_taken();
    return item;
  }
};

// The common part of Queue.get and Queue.put as sync_ops: the state's reference, and the coroutine that
// waits when the queue does not let the call through at once.
template <class T, class Store>
class queue_op_base {
protected:
  using state = queue_state<T, Store>;
  explicit queue_op_base(rc_ptr<state> s) noexcept : s_(std::move(s)) {}
  queue_op_base(queue_op_base&& o) noexcept : s_(std::move(o.s_)) {}

  // Runs `wait` inline in the awaiting task, like co_await of a task<void>.
  auto suspend_into(task<void> wait, std::coroutine_handle<> h) {
    wait_ = std::move(wait);
    return std::move(wait_).operator co_await().await_suspend(h);
  }
  // Raises what ended the wait (a cancellation), if there was a wait.
  void finish_wait() {
    if (wait_.valid()) std::move(wait_).operator co_await().await_resume();
  }

  rc_ptr<state> s_;
  task<void> wait_;
};

// `co_await q.get()`: takes an item at once when there is one (no suspension, as in asyncio).
template <class T, class Store>
class queue_get_op final : public queue_op_base<T, Store>, public sync_op_base<T, queue_get_op<T, Store>> {
  using base = queue_op_base<T, Store>;

public:
  explicit queue_get_op(rc_ptr<typename base::state> s) noexcept : base(std::move(s)) {}
  queue_get_op(queue_get_op&&) noexcept = default;
  queue_get_op& operator=(queue_get_op&&) = delete;

  bool await_ready() const noexcept { return this->s_->has_item(); }
  auto await_suspend(std::coroutine_handle<> h) { return this->suspend_into(wait_until_not_empty(*this->s_), h); }
  T await_resume() {
    this->finish_wait();
    return this->s_->get_unchecked();
  }
};

// `co_await q.put(x)`: stores the item at once when there is room (no suspension, as in asyncio).
template <class T, class Store>
class queue_put_op final : public queue_op_base<T, Store>, public sync_op_base<void, queue_put_op<T, Store>> {
  using base = queue_op_base<T, Store>;

public:
  queue_put_op(rc_ptr<typename base::state> s, T&& item) : base(std::move(s)), item_(std::move(item)) {}
  queue_put_op(queue_put_op&&) = default;
  queue_put_op& operator=(queue_put_op&&) = delete;

  bool await_ready() const noexcept { return this->s_->has_room(); }
  auto await_suspend(std::coroutine_handle<> h) { return this->suspend_into(wait_until_not_full(*this->s_), h); }
  void await_resume() {
    this->finish_wait();
    this->s_->put_unchecked(std::move(item_));
  }

private:
  T item_;
};

}  // namespace detail

// asyncio.Queue's interface over a storage policy; use queue, lifo_queue or priority_queue.
template <class T, class Store>
class basic_queue {
  using state = detail::queue_state<T, Store>;

public:
  using value_type = T;

  explicit basic_queue(int maxsize = 0) : state_(new state(maxsize)) {}
  basic_queue(const basic_queue&) = delete;
  basic_queue& operator=(const basic_queue&) = delete;

  // Waits while the queue is full, then stores the item; does not suspend when there is room.
  detail::queue_put_op<T, Store> put(T item) { return detail::queue_put_op<T, Store>(state_, std::move(item)); }
  // Waits while the queue is empty, then takes an item; does not suspend when there is one.
  detail::queue_get_op<T, Store> get() { return detail::queue_get_op<T, Store>(state_); }
  // Throws queue_full when the queue holds maxsize items.
  void put_nowait(T item) { put_nowait_impl(*state_, std::move(item)); }
  // Throws queue_empty when there is nothing to take.
  T get_nowait() { return get_nowait_impl(*state_); }

  // Marks one item taken earlier as processed; more calls than items put throw std::invalid_argument.
  void task_done() { state_->task_done(); }
  // Returns once every item put has been marked done (at once when none is outstanding).
  task<void> join() {
    state_->add_ref();  // the coroutine's own reference, as the untyped core
    return detail::queue_join(detail::rc_ptr<detail::queue_core>(state_.get()));
  }

  std::size_t qsize() const noexcept { return state_->size(); }
  bool empty() const noexcept { return state_->empty(); }
  // Never true for an unbounded queue (maxsize <= 0).
  bool full() const noexcept { return state_->full(); }
  int maxsize() const noexcept { return state_->maxsize; }
  // Lengths of the lines of blocked getters and putters (Python's len(q._getters)), for tests.
  std::size_t getter_count() const noexcept { return state_->getters.size(); }
  std::size_t putter_count() const noexcept { return state_->putters.size(); }

private:
  static void put_nowait_impl(state& s, T&& item) {
    s.check_put();
    s.put_unchecked(std::move(item));
  }
  static T get_nowait_impl(state& s) {
    s.check_get();
    return s.get_unchecked();
  }

  detail::rc_ptr<state> state_;
};

// asyncio.Queue: first in, first out.
template <class T>
class queue : public basic_queue<T, detail::sequence_store<T, false>> {
public:
  using basic_queue<T, detail::sequence_store<T, false>>::basic_queue;
};

// asyncio.LifoQueue: the most recently added item first.
template <class T>
class lifo_queue : public basic_queue<T, detail::sequence_store<T, true>> {
public:
  using basic_queue<T, detail::sequence_store<T, true>>::basic_queue;
};

// asyncio.PriorityQueue: the lowest item first (by Compare, std::less by default), ties in heapq's order.
template <class T, class Compare = std::less<T>>
class priority_queue : public basic_queue<T, detail::heap_store<T, Compare>> {
public:
  using basic_queue<T, detail::heap_store<T, Compare>>::basic_queue;
};

}  // namespace coroscope
