// lock-held-across-await: guards alive at a suspension, CTAD spellings, guards released before it.
// blocking-lock is off by default, so acquiring a mutex alone is not reported here.
#include "coro.hpp"

#include <mutex>
#include <shared_mutex>

std::mutex m;
std::mutex other;
std::shared_mutex rw;

corpus::Task<> held() {
  std::lock_guard<std::mutex> g(m);
  co_await corpus::tick();  // expect: lock-held-across-await
}

corpus::Task<> held_ctad() {
  std::lock_guard g(m);
  std::scoped_lock both(m, other);
  co_await corpus::tick();  // expect: lock-held-across-await
}

corpus::Task<> held_shared() {
  std::shared_lock reader(rw);
  co_await corpus::tick();  // expect: lock-held-across-await
}

corpus::Task<> released_by_scope() {
  {
    std::lock_guard g(m);
  }
  co_await corpus::tick();
}

corpus::Task<> released_by_unlock() {
  std::unique_lock lk(m);
  lk.unlock();
  co_await corpus::tick();
  lk.lock();
  co_await corpus::tick();  // expect: lock-held-across-await
}

corpus::Task<> deferred() {
  std::unique_lock lk(m, std::defer_lock);
  co_await corpus::tick();
  lk.lock();
  m.lock();  // blocking-lock is off by default
  m.unlock();
}

corpus::Task<> in_condition(bool ready) {
  if (std::lock_guard g(m); ready) {
    co_await corpus::tick();  // expect: lock-held-across-await
  }
  co_await corpus::tick();
}

// co_await and co_yield: an async generator, whose co_yield suspends like any await.
corpus::Generator<int> async_generator() {
  co_await corpus::tick();
  std::lock_guard g(m);
  co_yield 1;  // expect: lock-held-across-await
}

// A synchronous generator is not an async context: the lock is the consumer's concern.
corpus::Generator<int> generator() {
  std::lock_guard g(m);
  co_yield 1;
}

// A plain lambda holding a guard runs elsewhere; the coroutine itself holds nothing.
corpus::Task<> lambda_guard() {
  auto f = [] { std::lock_guard g(m); };
  f();
  co_await corpus::tick();
}
