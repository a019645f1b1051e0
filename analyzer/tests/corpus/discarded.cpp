// discarded-task: a coroutine's task created and thrown away, in coroutines and plain functions alike.
#include "coro.hpp"

#include <vector>

corpus::Task<int> compute() {
  co_await corpus::tick();
}

asio::awaitable<void> asio_op() { co_return; }

corpus::Task<> declared_elsewhere();  // no body here: its task type says it is a coroutine

struct Loop {
  // A plain function returning a task may schedule it; create_task-like helpers are not reported.
  corpus::Task<> create_task(corpus::Task<> t) { return t; }
};

namespace svc {
struct Server {
  corpus::Task<> handle() { co_return; }
};
}  // namespace svc

corpus::Task<> caller(Loop& loop, svc::Server& server) {
  compute();  // expect: discarded-task
  co_await compute();
  auto kept = compute();
  (void)compute();  // discarded on purpose
  declared_elsewhere();  // expect: discarded-task
  server.handle();  // expect: discarded-task
  loop.create_task(declared_elsewhere());
  asio_op();  // expect: discarded-task
  if (kept.await_ready()) compute();  // expect: discarded-task
  std::vector<corpus::Task<int>> all;
  all.push_back(compute());
  []() -> corpus::Task<> { co_return; }();  // expect: discarded-task
}

void plain_function() {
  compute();  // expect: discarded-task
}
