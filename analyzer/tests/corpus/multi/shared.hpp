// Included by a.cpp, b.cpp and c.cpp: its finding must be reported once, not once per translation unit.
#pragma once

#include "coro.hpp"

#include <unistd.h>

inline corpus::Task<> shared_worker() {
  co_await corpus::tick();
  sleep(1);  // expect: blocking-call
}
