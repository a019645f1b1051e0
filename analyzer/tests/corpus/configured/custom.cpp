// Blocking functions, allowed functions, offload hops, task types and categories from the config here.
#include "coro.hpp"

#include <chrono>
#include <fcntl.h>
#include <thread>
#include <unistd.h>

using namespace std::chrono_literals;

namespace mylib {
int fetch(const char* url);
struct Client {
  int query();
};
void fast_log() { usleep(1); }
struct Job {};
Job start_job();
}  // namespace mylib

corpus::Task<> uses_config(mylib::Client& client) {
  co_await corpus::tick();
  (void)mylib::fetch("http://example.org");  // expect: blocking-call
  (void)client.query();  // expect: blocking-call
  std::this_thread::sleep_for(5ms);  // expect: blocking-call
  usleep(1);  // allowed
  mylib::fast_log();  // allowed, so not followed either
  (void)open("/tmp/x", O_RDONLY);  // file-io is switched off
  mylib::start_job();  // expect: discarded-task
  co_await corpus::to_thread();
  sleep(1);  // after an offload hop: intended
}

// generators-are-async: a generator counts as an async context here.
corpus::Generator<int> gen() {
  sleep(1);  // expect: blocking-call
  co_yield 1;
}
