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

void queue_core::wake_up_next(waiter_queue& line) {
  // Popped, not just completed: the woken waiter is out of line whatever happens next, and a cancelled
  // one (done already) is simply dropped.
  while (!line.empty()) {
    future<void> waiter = std::move(line.front());
    line.pop_front();
    if (!waiter.done()) {
      waiter.set_result();
      return;
    }
  }
}

namespace {

// One wait in `line` until `blocked` turns false, with Queue.get/put's cleanup on any exception: if our
// future had been completed (we were woken) and the queue can serve someone, the wake-up goes to the next
// in line instead of being lost with us.
task<void> wait_in(queue_core& q, waiter_queue& line, bool (queue_core::*blocked)() const noexcept) {
  while ((q.*blocked)()) {
    waiter_ticket t(line);
    std::exception_ptr error;
    try {
      co_await t.fut();
    } catch (...) {
      error = std::current_exception();
    }
    if (!error) {
      t.forget();  // wake_up_next popped it already
      continue;    // woken: check again, a get_nowait may have taken the item first
    }
    t.fut().cancel();  // in case it is still pending (the exception came from elsewhere)
    t.leave();         // still in line unless a wake_up_next popped it
    if (!(q.*blocked)() && !t.fut().cancelled()) queue_core::wake_up_next(line);
    std::rethrow_exception(error);
  }
}

}  // namespace

task<void> wait_until_not_empty(queue_core& q) { return wait_in(q, q.getters, &queue_core::empty); }

task<void> wait_until_not_full(queue_core& q) { return wait_in(q, q.putters, &queue_core::full); }

task<void> queue_join(rc_ptr<queue_core> q) {
  if (q->unfinished > 0) co_await q->finished.wait();
}

}  // namespace coroscope::detail
