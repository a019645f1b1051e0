#include <coroscope/queues.hpp>

// CPython 3.11.7's Lib/asyncio/queues.py, the parts that do not depend on the item type.
namespace coroscope::detail {

queue_core::queue_core(int max) : maxsize(max) { finished.set(); }

void queue_core::item_added() {
  ++unfinished;
  finished.clear();
  wake_up_next(getters);
}

void queue_core::task_done() {
  if (unfinished == 0) throw std::invalid_argument("task_done() called too many times");
  if (--unfinished == 0) finished.set();
}

namespace {

// Queue.get/put's loop: one wait in `line` at a time until `blocked` turns false, with their cleanup on any
// exception: if our node had been woken and the queue can serve someone, the wake-up goes to the next in
// line instead of being lost with us (Q-005). The node is reused: each wait is a fresh place at the back.
task<void> wait_in(queue_core& q, waiter_line& line, bool (queue_core::*blocked)() const noexcept) {
  waiter_node node;
  while ((q.*blocked)()) {
    std::exception_ptr error = co_await line_wait{line, node};  // out of line again, whatever happened
    if (!error) continue;  // woken: check again, a get_nowait may have taken the item first
    node.mark_cancelled();  // getter.cancel(), in case the exception came from elsewhere
    if (!(q.*blocked)() && !node.cancelled()) queue_core::wake_up_next(line);
    co_await raise(std::move(error));
  }
}

}  // namespace

task<void> wait_until_not_empty(queue_core& q) { return wait_in(q, q.getters, &queue_core::empty); }

task<void> wait_until_not_full(queue_core& q) { return wait_in(q, q.putters, &queue_core::full); }

task<void> queue_join(rc_ptr<queue_core> q) {
  if (q->unfinished > 0) co_await q->finished.wait();
}

}  // namespace coroscope::detail
