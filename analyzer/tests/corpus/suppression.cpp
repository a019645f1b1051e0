// Every suppression form; a NOLINT naming another rule does not suppress.
#include "coro.hpp"

#include <unistd.h>

corpus::Task<int> make() { co_return; }

corpus::Task<> suppressed() {
  co_await corpus::tick();
  sleep(1);  // NOLINT
  sleep(2);  // NOLINT(blocking-call)
  sleep(3);  // NOLINT(coroscope-blocking-call)
  sleep(4);  // NOLINT(discarded-task, blocking-call)
  sleep(5);  // NOLINT(*)
  sleep(6);  // NOLINT(discarded-task) expect: blocking-call
  // NOLINTNEXTLINE(blocking-call)
  sleep(7);
  // NOLINTNEXTLINE(lock-held-across-await)
  sleep(8);  // expect: blocking-call
  // NOLINTNEXTLINE
  make();
  // NOLINTBEGIN(blocking-call)
  sleep(9);
  usleep(10);
  make();  // expect: discarded-task
  // NOLINTEND(blocking-call)
  sleep(11);  // expect: blocking-call
  // NOLINTBEGIN
  sleep(12);
  make();
  // NOLINTEND
  make();  // expect: discarded-task
}
