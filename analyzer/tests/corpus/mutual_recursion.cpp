// transitive-blocking-call through mutual recursion: whichever function of the cycle is visited first, every
// function of the cycle that reaches the blocking call is found (a function still being summarised never
// counts as non-blocking).
#include "coro.hpp"

#include <unistd.h>

void drain(int n);
void flush_all(int n) {
  if (n > 0) drain(n - 1);
  usleep(10);
}
void drain(int n) {
  if (n > 0) flush_all(n - 1);
}

void pong(int n);
void ping(int n) {
  if (n > 0) pong(n - 1);
}
void pong(int n) {
  if (n > 0) ping(n - 1);
}

corpus::Task<> flush_first() {
  co_await corpus::tick();
  flush_all(3);  // expect: transitive-blocking-call
  drain(3);  // expect: transitive-blocking-call
  ping(2);  // a cycle that never blocks
}

corpus::Task<> drain_first() {
  co_await corpus::tick();
  drain(3);  // expect: transitive-blocking-call
  flush_all(3);  // expect: transitive-blocking-call
}
