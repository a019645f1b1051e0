// One translation unit of the compile-database test (run with -j 2).
#include "shared.hpp"

corpus::Task<> worker_b() {
  co_await shared_worker();
  usleep(1);  // expect: blocking-call
}
