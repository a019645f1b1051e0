#pragma once
// The cross-thread anchor of an event loop (event_loop.hpp): how other threads reach it.
#include <atomic>
#include <mutex>
#include <vector>

namespace coroscope::detail {

class handle_node;

// The part of a loop other threads may touch (call_soon_threadsafe, executor completions). It is shared
// with them, so a worker that finishes after the loop is gone finds it closed instead of freed memory.
struct loop_anchor {
  loop_anchor();
  loop_anchor(const loop_anchor&) = delete;
  loop_anchor& operator=(const loop_anchor&) = delete;
  ~loop_anchor();
  // Queues n (taking over its reference) and wakes the loop; throws std::runtime_error once closed.
  void post(handle_node* n);
  // Moves what was posted into out (loop thread).
  template <class F>
  void drain(F&& f) {
    std::vector<handle_node*> batch;
    {
      std::lock_guard<std::mutex> g(m);
      batch.swap(pending);
      has_pending.store(false, std::memory_order_relaxed);
    }
    for (auto* n : batch) f(n);
  }
  void close();

  std::mutex m;
  std::vector<handle_node*> pending;
  std::atomic<bool> has_pending{false};
  std::atomic<bool> ever_posted{false};  // some thread knows the loop: waiting for it is not a deadlock
  bool open = true;
  int wakefd = -1;
};

}  // namespace coroscope::detail
