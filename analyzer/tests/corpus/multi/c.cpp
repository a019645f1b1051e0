// One translation unit of the compile-database test (run with -j 2).
#include "shared.hpp"

corpus::Task<> worker_c() {
  co_await shared_worker();
  usleep(1);  // expect: blocking-call
}

#ifdef COROSCOPE_EXTRA  // defined through --extra-arg by the compile-database test
corpus::Task<> extra() {
  co_await corpus::tick();
  sleep(2);  // expect: blocking-call
}
#endif
