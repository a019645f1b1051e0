#include "../coro.hpp"
#include "log.hpp"

corpus::Task<> serve() {
  co_await corpus::tick();
  open_log("/tmp/server.log");  // expect: transitive-blocking-call
  (void)parse_config("x = 1");
}
