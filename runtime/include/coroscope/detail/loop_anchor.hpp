#pragma once
// The cross-thread anchor of an event loop (event_loop.hpp): how other threads reach it.
#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

namespace coroscope::detail {

class handle_node;

// The part of a loop other threads may touch (call_soon_threadsafe, executor completions). It is shared
// with them, so a worker that finishes after the loop is gone finds it closed instead of freed memory.
//
// Waking the loop costs a system call, so a post makes one only when the loop is blocked in the kernel
// (or about to be): the loop announces its sleep in `sleeping` and then checks `has_pending`; a post sets
// `has_pending` and then checks `sleeping`. Both sides use sequentially consistent operations, so at least
// one of them sees the other's store: either the loop does not block or the post wakes it.
struct loop_anchor {
  // How the loop sleeps, which tells a post how to wake it.
  enum sleep_state : std::uint32_t {
    awake = 0,
    in_epoll = 1,  // fds are watched: the loop waits in epoll, a post writes wakefd
    in_futex = 2,  // nothing else can wake it: the loop waits on `sleeping` itself, a post wakes that futex
  };

  loop_anchor();
  loop_anchor(const loop_anchor&) = delete;
  loop_anchor& operator=(const loop_anchor&) = delete;
  ~loop_anchor();
  // Queues n (taking over its reference) and wakes the loop; throws loop_closed_error once closed.
  void post(handle_node* n);
  // Hands what was posted to f, in posting order (loop thread).
  template <class F>
  void drain(F&& f) {
    {
      std::lock_guard<std::mutex> g(m);
      taken.swap(pending);  // both keep their capacity: no allocation per batch
      has_pending.store(false, std::memory_order_relaxed);
    }
    for (auto* n : taken) f(n);
    taken.clear();
  }
  // Loop thread, just before blocking in the kernel the way `how` says: false when something was posted
  // meanwhile, and then the loop must not block. Call woke() after the wait either way.
  bool about_to_sleep(sleep_state how) noexcept {
    sleeping.store(how, std::memory_order_seq_cst);
    if (!has_pending.load(std::memory_order_seq_cst)) return true;
    sleeping.store(awake, std::memory_order_relaxed);
    return false;
  }
  void woke() noexcept { sleeping.store(awake, std::memory_order_relaxed); }
  // Loop thread, after about_to_sleep(in_futex) returned true: blocks until a post or timeout_ns
  // (negative: no timeout).
  void sleep_on_futex(std::int64_t timeout_ns) noexcept;
  void close();

  std::mutex m;
  std::vector<handle_node*> pending;
  std::vector<handle_node*> taken;  // loop thread only: the batch being handed out
  std::atomic<bool> has_pending{false};
  std::atomic<bool> ever_posted{false};  // some thread knows the loop: waiting for it is not a deadlock
  std::atomic<std::uint32_t> sleeping{awake};  // a sleep_state; also the futex word of in_futex
  bool open = true;
  // Registered edge-triggered, so the loop never has to read it back: every write is one new event.
  int wakefd = -1;
};

}  // namespace coroscope::detail
