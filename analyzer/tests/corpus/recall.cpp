// Blocking waits of the standard library and the common coroutine libraries: running a task to completion
// (sync_wait), futures, joins, spin locks (the catalogue's and one written with an atomic).
#include "coro.hpp"

#include <atomic>
#include <future>
#include <pthread.h>
#include <thread>

namespace cppcoro {
template <typename Awaitable>
void sync_wait(Awaitable&&) {}
}  // namespace cppcoro

namespace coro {
template <typename Awaitable>
int sync_wait(Awaitable&&) { return 0; }
}  // namespace coro

class Spin {
 public:
  void lock() {
    while (locked_.exchange(true, std::memory_order_acquire)) {
    }
  }
  void unlock() { locked_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> locked_{false};
};

corpus::Task<int> work() { co_return; }

corpus::Task<> waits(std::future<void> f, std::shared_future<int> sf, std::thread& t, Spin& spin,
                     pthread_spinlock_t* ps, std::atomic_flag& busy) {
  co_await corpus::tick();
  cppcoro::sync_wait(work());  // expect: blocking-call
  (void)coro::sync_wait(work());  // expect: blocking-call
  f.get();  // expect: blocking-call
  (void)sf.get();  // expect: blocking-call
  t.join();  // expect: blocking-call
  pthread_spin_lock(ps);  // expect: blocking-call
  spin.lock();  // expect: transitive-blocking-call
  spin.unlock();
  while (busy.test_and_set()) {  // expect: blocking-call
  }
  while (busy.test_and_set()) {
    co_await corpus::tick();  // waits by suspending: not a spin
  }
}
