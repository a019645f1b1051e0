// dangling-task-reference: a spawned coroutine keeps a reference to a local or temporary of its caller that
// dies before the task is awaited. Only the spawned-and-outlived shape is reported: awaiting on the spot,
// keeping the spawn's handle, by-value parameters and globals are fine.
#include "coro.hpp"

#include <string>
#include <vector>

namespace coroscope {
template <typename T>
struct task_handle {};
struct event_loop {
  template <typename T>
  task_handle<T> create_task(corpus::Task<T> t) {
    (void)t;
    return {};
  }
};
}  // namespace coroscope

corpus::Task<> greet(const std::string& name) {
  co_await corpus::tick();
  (void)name.size();
}
corpus::Task<> greet_copy(std::string name) {
  co_await corpus::tick();
  (void)name.size();
}

std::string global_name = "world";

void spawn_local(coroscope::event_loop& loop) {
  std::string name = "x";
  loop.create_task(greet(name));  // expect: dangling-task-reference
}

void spawn_temporary(coroscope::event_loop& loop) {
  auto h = loop.create_task(greet(std::string("tmp")));  // expect: dangling-task-reference
  (void)h;
}

coroscope::task_handle<void> spawn_and_return(coroscope::event_loop& loop, std::string name) {
  return loop.create_task(greet(name));  // expect: dangling-task-reference
}

void spawn_lambda(coroscope::event_loop& loop) {
  int n = 1;
  loop.create_task([&n]() -> corpus::Task<> {  // expect: dangling-task-reference
    co_await corpus::tick();
    (void)n;
  }());
  loop.create_task([n]() -> corpus::Task<> {  // expect: dangling-task-reference
    co_await corpus::tick();
    (void)n;
  }());
}

corpus::Task<> fine(coroscope::event_loop& loop) {
  std::string name = "x";
  co_await greet(name);                       // awaited on the spot
  co_await greet(std::string("tmp"));         // the temporary outlives the await
  auto kept = loop.create_task(greet(name));  // the caller keeps the handle (may await it)
  (void)kept;
  loop.create_task(greet_copy(name));         // the frame owns a copy
  loop.create_task(greet(global_name));       // outlives everything
  std::vector<corpus::Task<>> later;
  later.push_back(greet(name));               // stored, not spawned
  co_await corpus::tick();
}
