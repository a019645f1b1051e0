// Does not parse: the linter must say so, exit 2, and still analyse and report the other files.
#include "coro.hpp"

corpus::Task<> broken() {
  co_await corpus::tick();
  this is not C++;
}
