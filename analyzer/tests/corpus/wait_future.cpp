// Categories wait and future: members of class templates (std::future<int>::get), waits declared in base
// classes (__basic_future, __atomic_base), constructors and destructors that block.
#include "coro.hpp"

#include <atomic>
#include <barrier>
#include <chrono>
#include <condition_variable>
#include <future>
#include <latch>
#include <mutex>
#include <pthread.h>
#include <semaphore.h>
#include <semaphore>
#include <thread>

using namespace std::chrono_literals;

std::mutex m;
std::condition_variable cv;
std::condition_variable_any cva;
std::counting_semaphore<4> sem{0};
std::binary_semaphore bin{0};
std::latch done{1};
std::barrier<> sync_point{2};
std::atomic<int> flag{0};
std::atomic_flag af;
std::once_flag once;

corpus::Task<> waits() {
  co_await corpus::tick();
  {
    std::unique_lock<std::mutex> lk(m, std::defer_lock);
    cv.wait(lk);  // expect: blocking-call
    cv.wait_for(lk, 1s);  // expect: blocking-call
    cva.wait(lk);  // expect: blocking-call
  }
  sem.acquire();  // expect: blocking-call
  bin.acquire();  // expect: blocking-call
  (void)sem.try_acquire();  // never blocks
  (void)bin.try_acquire_for(1ms);  // expect: blocking-call
  done.wait();  // expect: blocking-call
  done.arrive_and_wait();  // expect: blocking-call
  sync_point.arrive_and_wait();  // expect: blocking-call
  flag.wait(0);  // expect: blocking-call
  af.wait(false);  // expect: blocking-call
  std::call_once(once, [] {});  // expect: blocking-call
  sem_t s;
  sem_wait(&s);  // expect: blocking-call
  (void)sem_trywait(&s);
}

corpus::Task<> futures(std::future<int> f, std::shared_future<int> sf, std::thread& t) {
  co_await corpus::tick();
  int v = f.get();  // expect: blocking-call
  f.wait();  // expect: blocking-call
  (void)f.wait_for(100ms);  // expect: blocking-call
  (void)f.wait_for(0s);  // a zero timeout polls
  (void)f.wait_for(std::chrono::milliseconds(0));
  (void)f.wait_for(std::chrono::seconds::zero());
  v += sf.get();  // expect: blocking-call
  std::future<int>* p = &f;
  p->wait();  // expect: blocking-call
  t.join();  // expect: blocking-call
  std::jthread worker([] {});  // expect: blocking-call
  std::jthread idle;  // default-constructed: no thread to join
  auto later = std::async([] { return 1; });  // expect: blocking-call
  (void)v;
}

template <typename T>
corpus::Task<> generic_get(std::future<T> f) {
  co_await corpus::tick();
  (void)f.get();  // expect: blocking-call
}

// Two instantiations, one report for the line.
template corpus::Task<> generic_get<int>(std::future<int>);
template corpus::Task<> generic_get<long>(std::future<long>);

corpus::Task<> pthreads(pthread_t th, pthread_cond_t* c, pthread_mutex_t* mu) {
  co_await corpus::tick();
  pthread_join(th, nullptr);  // expect: blocking-call
  pthread_cond_wait(c, mu);  // expect: blocking-call
}
