// The floor: the least a single-threaded coroutine scheduler can do. A FIFO ring of coroutine handles, a
// binary heap of timers with lazy deletion, lazy tasks awaited by symmetric transfer, and nothing else
// (no cancellation machinery, no exceptions, no names, no callbacks). Every runtime is divided by it.
#pragma once

#include <cassert>
#include <coroutine>
#include <cstdint>
#include <ctime>
#include <exception>
#include <functional>
#include <utility>
#include <vector>

namespace floor_rt {

inline std::int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// Power-of-two ring buffer: push and pop are an index mask and a store.
class ring {
public:
  ring() : slots_(1024) {}
  bool empty() const { return head_ == tail_; }
  std::size_t size() const { return tail_ - head_; }
  void push(std::coroutine_handle<> h) {
    if (tail_ - head_ == slots_.size()) grow();
    slots_[tail_++ & (slots_.size() - 1)] = h;
  }
  std::coroutine_handle<> pop() { return slots_[head_++ & (slots_.size() - 1)]; }

private:
  void grow() {
    std::vector<std::coroutine_handle<>> bigger(slots_.size() * 2);
    for (std::size_t i = 0; i < size(); ++i) bigger[i] = slots_[(head_ + i) & (slots_.size() - 1)];
    tail_ = size();
    head_ = 0;
    slots_ = std::move(bigger);
  }
  std::vector<std::coroutine_handle<>> slots_;
  std::size_t head_ = 0, tail_ = 0;
};

// Cancelling a timer bumps its generation; the heap entry, armed with the old one, is then dead and is
// dropped when it surfaces (lazy deletion), so the same cell can be re-armed safely.
struct timer {
  std::int64_t deadline;
  std::uint64_t seq;  // FIFO among equal deadlines
  std::coroutine_handle<> h;
  const std::uint64_t* generation;  // null: cannot be cancelled
  std::uint64_t armed;
  bool alive() const { return !generation || *generation == armed; }
};

class loop {
public:
  // Called when nothing is ready and no timer is armed; may block for outside work (the executor
  // workload's eventfd) and post what completed. Returns false when there is nothing to wait for.
  std::function<bool()> idle;

  void post(std::coroutine_handle<> h) { ready_.push(h); }
  void add_timer(std::int64_t deadline, std::coroutine_handle<> h, const std::uint64_t* generation = nullptr) {
    heap_.push_back({deadline, seq_++, h, generation, generation ? *generation : 0});
    sift_up(heap_.size() - 1);
  }
  void note_cancelled_timer() {
    // Lazy deletion keeps cancel O(1); compact when dead entries are the majority so memory stays bounded.
    if (++dead_ * 2 > heap_.size() && heap_.size() > 64) compact();
  }
  // Runs until `done` becomes true.
  void run(const bool& done) {
    while (!done) {
      while (!ready_.empty()) ready_.pop().resume();
      if (done) break;
      if (fire_timers()) continue;
      if (!idle || !idle()) break;  // nothing ready, no timers, nothing outside: stuck
    }
  }

private:
  bool fire_timers() {
    while (!heap_.empty()) {
      timer top = heap_.front();
      if (!top.alive()) {
        pop_top();
        --dead_;
        continue;
      }
      const std::int64_t now = now_ns();
      if (top.deadline > now) {
        if (!ready_.empty()) return true;
        timespec ts{static_cast<time_t>(top.deadline / 1'000'000'000), static_cast<long>(top.deadline % 1'000'000'000)};
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);
        continue;
      }
      pop_top();
      ready_.push(top.h);
      // Fire everything already due in one pass, like every loop does.
      while (!heap_.empty() && heap_.front().deadline <= now) {
        timer t = heap_.front();
        pop_top();
        if (!t.alive()) { --dead_; continue; }
        ready_.push(t.h);
      }
      return true;
    }
    return !ready_.empty();
  }
  static bool before(const timer& a, const timer& b) { return a.deadline != b.deadline ? a.deadline < b.deadline : a.seq < b.seq; }
  void sift_up(std::size_t i) {
    while (i > 0) {
      std::size_t parent = (i - 1) / 2;
      if (!before(heap_[i], heap_[parent])) break;
      std::swap(heap_[i], heap_[parent]);
      i = parent;
    }
  }
  void sift_down(std::size_t i) {
    for (;;) {
      std::size_t l = 2 * i + 1, r = l + 1, m = i;
      if (l < heap_.size() && before(heap_[l], heap_[m])) m = l;
      if (r < heap_.size() && before(heap_[r], heap_[m])) m = r;
      if (m == i) return;
      std::swap(heap_[i], heap_[m]);
      i = m;
    }
  }
  void pop_top() {
    heap_.front() = heap_.back();
    heap_.pop_back();
    if (!heap_.empty()) sift_down(0);
  }
  void compact() {
    std::vector<timer> live;
    for (const auto& t : heap_)
      if (t.alive()) live.push_back(t);
    heap_ = std::move(live);
    for (std::size_t i = heap_.size() / 2 + 1; i-- > 0;) sift_down(i);
    dead_ = 0;
  }

  ring ready_;
  std::vector<timer> heap_;
  std::uint64_t seq_ = 0;
  std::size_t dead_ = 0;
};

inline thread_local loop* current = nullptr;

// A lazy coroutine. `co_await t` runs it inline (symmetric transfer in and out); spawn() runs it from the
// ready queue and join() awaits it.
template <class T>
class task {
public:
  struct promise_type {
    T value{};
    std::coroutine_handle<> continuation;
    task get_return_object() { return task(std::coroutine_handle<promise_type>::from_promise(*this)); }
    std::suspend_always initial_suspend() noexcept { return {}; }
    struct final_awaiter {
      bool await_ready() noexcept { return false; }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<promise_type> h) noexcept {
        auto c = h.promise().continuation;
        return c ? c : std::noop_coroutine();
      }
      void await_resume() noexcept {}
    };
    final_awaiter final_suspend() noexcept { return {}; }
    void return_value(T v) { value = std::move(v); }
    void unhandled_exception() { std::terminate(); }
  };

  explicit task(std::coroutine_handle<promise_type> h) : h_(h) {}
  task(task&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  task& operator=(task&& o) noexcept {
    if (this != &o) {
      if (h_) h_.destroy();
      h_ = std::exchange(o.h_, {});
    }
    return *this;
  }
  ~task() {
    if (h_) h_.destroy();
  }

  bool await_ready() const noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
    h_.promise().continuation = awaiting;
    return h_;
  }
  T await_resume() { return std::move(h_.promise().value); }

  std::coroutine_handle<promise_type> handle() const { return h_; }
  bool done() const { return h_.done(); }

private:
  std::coroutine_handle<promise_type> h_;
};

// A coroutine that nobody awaits: frees itself at the end. The benchmark bodies are these.
struct detached {
  struct promise_type {
    detached get_return_object() { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() { std::terminate(); }
  };
};

// Puts a task on the ready queue; the caller keeps ownership and later co_awaits join(t).
template <class T>
void spawn(task<T>& t) {
  current->post(t.handle());
}

// Awaits a spawned task: returns at once if it finished, else becomes its continuation.
template <class T>
struct join {
  task<T>& t;
  bool await_ready() const noexcept { return t.done(); }
  void await_suspend(std::coroutine_handle<> h) noexcept { t.handle().promise().continuation = h; }
  T await_resume() { return std::move(t.handle().promise().value); }
};
template <class T>
join(task<T>&) -> join<T>;

// sleep(0): requeue self behind everything ready.
struct yield {
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) const noexcept { current->post(h); }
  void await_resume() const noexcept {}
};

struct sleep_until {
  std::int64_t deadline;
  const std::uint64_t* generation = nullptr;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) const { current->add_timer(deadline, h, generation); }
  void await_resume() const noexcept {}
};

// A one-waiter event: the minimum to hand a value from one task to another.
template <class T>
struct slot {
  std::coroutine_handle<> waiter;
  T value{};
  bool set = false;
  void put(T v) {
    value = std::move(v);
    set = true;
    if (auto w = std::exchange(waiter, {})) current->post(w);
  }
  auto wait() {
    struct awaiter {
      slot& s;
      bool await_ready() const noexcept { return s.set; }
      void await_suspend(std::coroutine_handle<> h) noexcept { s.waiter = h; }
      T await_resume() {
        s.set = false;
        return std::move(s.value);
      }
    };
    return awaiter{*this};
  }
};

// Runs a detached body on a fresh loop until it sets `done`. `setup` may configure the loop first.
template <class Body>
void run(Body&& body, const std::function<void(loop&)>& setup = {}) {
  loop l;
  if (setup) setup(l);
  loop* outer = std::exchange(current, &l);
  bool done = false;
  body(done);
  l.run(done);
  current = outer;
}

}  // namespace floor_rt
