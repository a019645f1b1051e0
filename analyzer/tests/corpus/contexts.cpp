// Which code is "in a coroutine": recognised by body (co_await/co_yield/co_return) whatever the return type;
// lambdas (plain, coroutine, invoked on the spot), generators, members, namespaces, templates, macros.
#include "coro.hpp"

#include <chrono>
#include <thread>
#include <unistd.h>

using namespace std::chrono_literals;

#define NAP() std::this_thread::sleep_for(1ms)
#define AWAIT_AND_NAP()    \
  do {                     \
    co_await corpus::tick(); \
    sleep(1);              \
  } while (false)

namespace app::net {

struct Connection {
  corpus::Task<> serve();
  static corpus::Task<> accept_loop();
  void sync_helper() { sleep(1); }  // not a coroutine
};

corpus::Task<> Connection::serve() {
  co_await corpus::tick();
  sleep(1);  // expect: blocking-call
}

corpus::Task<> Connection::accept_loop() {
  usleep(1);  // expect: blocking-call
  co_return;
}

}  // namespace app::net

// The Asio-like awaitable has no promise_type of its own; the body makes it a coroutine.
asio::awaitable<void> asio_style() {
  co_await corpus::tick();
  sleep(1);  // expect: blocking-call
}

corpus::Task<> lambdas() {
  co_await corpus::tick();
  auto plain = [] { sleep(1); };  // runs wherever it is called: not in the coroutine
  auto coro = []() -> corpus::Task<> {
    co_await corpus::tick();
    sleep(2);  // expect: blocking-call
  };
  [&] { sleep(3); }();  // expect: blocking-call
  [&]() {
    usleep(4);  // expect: blocking-call
  }();
  std::thread t([] { sleep(5); });  // a thread's body is not the coroutine
  t.detach();
  (void)plain;
  (void)coro;
}

// Generators (co_yield, no co_await) are synchronous: blocking there is the caller's concern.
corpus::Generator<int> numbers() {
  sleep(1);
  co_yield 1;
}

template <typename T>
corpus::Task<> templated(T value) {
  co_await corpus::tick();
  sleep(1);  // expect: blocking-call
  (void)value;
}

corpus::Task<> instantiate() {
  co_await templated(1);
  co_await templated(2.0);
  co_await templated('c');
}

// A template that is never instantiated is still checked where its calls do not depend on T.
template <typename T>
corpus::Task<> never_instantiated(T) {
  co_await corpus::tick();
  usleep(1);  // expect: blocking-call
}

corpus::Task<> macros() {
  co_await corpus::tick();
  NAP();  // expect: blocking-call
  AWAIT_AND_NAP();  // expect: blocking-call
}

corpus::Task<> local_class() {
  struct Helper {
    static void run() { sleep(1); }  // a local class's method runs where it is called
  };
  co_await corpus::tick();
}

void not_a_coroutine() {
  sleep(1);
  [] { sleep(1); }();
}
