// lock-held-across-await precision and recall: the guard of a coroutine mutex is not a thread lock, the
// co_await that produces a guard is not a suspension while it is held, a spin lock is a thread lock, and an
// unlock() on one branch only leaves the guard held on the other.
#include "coro.hpp"

#include <atomic>
#include <mutex>

std::mutex m;

// A coroutine mutex: lock_async() suspends the task instead of blocking the thread, and hands back a
// std::unique_lock that unlocks it.
struct AsyncMutex {
  struct Acquire {
    AsyncMutex* mutex;
    bool await_ready() const noexcept { return true; }
    void await_suspend(std::coroutine_handle<>) const noexcept {}
    std::unique_lock<AsyncMutex> await_resume() const noexcept { return std::unique_lock<AsyncMutex>(*mutex, std::adopt_lock); }
  };
  Acquire lock_async() { return {this}; }
  bool try_lock() { return true; }
  void unlock() {}
};

// A thread mutex of the program: lock() spins on an atomic until another thread releases it.
class SpinLock {
 public:
  void lock() {
    while (flag_.test_and_set(std::memory_order_acquire)) {
    }
  }
  void unlock() { flag_.clear(std::memory_order_release); }

 private:
  std::atomic_flag flag_;
};

// A std::mutex guard obtained by awaiting (e.g. after an async wait for a slot).
struct GuardAwaiter {
  bool await_ready() const noexcept { return true; }
  void await_suspend(std::coroutine_handle<>) const noexcept {}
  std::unique_lock<std::mutex> await_resume() const { return std::unique_lock<std::mutex>(m); }
};
GuardAwaiter acquire_thread_lock() { return {}; }

AsyncMutex amutex;
SpinLock spin;

corpus::Task<> async_guard_alone() {
  auto lk = co_await amutex.lock_async();
  co_await corpus::tick();  // a coroutine mutex held across an await blocks no thread
}

corpus::Task<> async_guard_declared() {
  std::unique_lock<AsyncMutex> lk = co_await amutex.lock_async();
  co_await corpus::tick();
}

corpus::Task<> thread_guard_from_await() {
  auto lk = co_await acquire_thread_lock();  // the guard's own initialising co_await
  co_await corpus::tick();  // expect: lock-held-across-await
}

corpus::Task<> spin_guard() {
  std::lock_guard<SpinLock> g(spin);
  co_await corpus::tick();  // expect: lock-held-across-await
}

corpus::Task<> unlocked_on_one_branch(bool fast) {
  std::unique_lock lk(m);
  if (fast) {
    lk.unlock();
  }
  co_await corpus::tick();  // expect: lock-held-across-await
}

corpus::Task<> unlocked_on_both_paths(bool fast) {
  std::unique_lock lk(m);
  if (fast) {
    lk.unlock();
    co_await corpus::tick();  // released on this path
    co_return;
  }
  lk.unlock();
  co_await corpus::tick();
}

corpus::Task<> relocked_on_one_branch(bool again) {
  std::unique_lock lk(m);
  lk.unlock();
  co_await corpus::tick();
  if (again) lk.lock();
  co_await corpus::tick();  // expect: lock-held-across-await
}
