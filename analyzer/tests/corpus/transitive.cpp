// transitive-blocking-call: plain functions of this translation unit that reach a blocking call, through
// any depth, constructors and destructors included; recursion terminates.
#include "coro.hpp"

#include <chrono>
#include <thread>
#include <unistd.h>

using namespace std::chrono_literals;

namespace util {
void inner() { std::this_thread::sleep_for(5ms); }
void middle() { inner(); }
void outer() { middle(); }
int pure(int x) { return x * 2; }
void recursive(int n) {
  if (n > 0) recursive(n - 1);
}
void recursive_blocking(int n) {
  if (n > 0) recursive_blocking(n - 1);
  usleep(1);
}
}  // namespace util

struct Flusher {
  Flusher() { util::inner(); }
  ~Flusher() { sleep(1); }
};

struct Client {
  void fetch() { util::middle(); }
};

corpus::Task<> worker(Client& c) {
  co_await corpus::tick();
  util::outer();  // expect: transitive-blocking-call
  (void)util::pure(2);
  util::recursive(3);
  util::recursive_blocking(3);  // expect: transitive-blocking-call
  c.fetch();  // expect: transitive-blocking-call
  Flusher f;  // expect: transitive-blocking-call
  auto later = [] { util::inner(); };
  later();  // expect: transitive-blocking-call
}

// A helper that is itself a coroutine is checked on its own, not through its callers.
corpus::Task<> sub() {
  co_await corpus::tick();
  util::inner();  // expect: transitive-blocking-call
}

corpus::Task<> caller() { co_await sub(); }

struct Closer {
  ~Closer() { sleep(1); }  // runs at the end of the scope that owns the object
};

corpus::Task<> closes() {
  co_await corpus::tick();
  Closer c;  // expect: transitive-blocking-call
  Closer& alias = c;  // a reference destroys nothing
  (void)alias;
}
