// blocking-lock, enabled by the .coroscope-lint.yaml next to this file.
#include "coro.hpp"

#include <mutex>
#include <pthread.h>

std::mutex m;

corpus::Task<> locks(pthread_mutex_t* pm) {
  co_await corpus::tick();
  m.lock();  // expect: blocking-lock
  m.unlock();
  (void)m.try_lock();  // never blocks
  m.unlock();
  {
    std::lock_guard g(m);  // expect: blocking-lock
  }
  {
    std::unique_lock lk(m, std::try_to_lock);
  }
  {
    std::scoped_lock both(m);  // expect: blocking-lock
  }
  pthread_mutex_lock(pm);  // expect: blocking-lock
  pthread_mutex_unlock(pm);
}
