// The end of a loop: close() drops what is scheduled; destruction also destroys every pending task's frame
// and detaches every future still alive, so that no frame outlives its loop and nothing reaches freed memory.
#include <coroscope/detail/task_core.hpp>
#include <coroscope/event_loop.hpp>
#include <coroscope/executor.hpp>

#include <stdexcept>
#include <vector>

#include <unistd.h>

namespace coroscope {

void event_loop::close() {
  if (running_) throw std::runtime_error("coroscope: Cannot close a running event loop");
  if (closed_) return;
  // Like asyncio's close(): the default executor's threads are joined (without waiting for the loop).
  if (default_executor_) default_executor_->shutdown(true);
  closed_ = true;
  anchor_->close();
  for (auto& [fd, w] : fds_) {
    w.reader.cancel();
    w.writer.cancel();
  }
  fds_.clear();
  while (!ready_.empty()) {
    auto it = ready_.pop();
    it.cb.fn(it.cb.ctx, it.fut, detail::cb_op::discard);
    if (it.fut) it.fut->release();
  }
  for (auto& e : timers_) {
    e.node->heap_loop = nullptr;
    e.node->release();
  }
  timers_.clear();
  cancelled_timers_ = 0;
}

void event_loop::teardown() noexcept {
  try {
    close();
  } catch (...) {
  }
  // Frames must not outlive their loop: destroy every task that is still pending. Their locals may hold
  // references to other tasks, so collect first and let the refcounts decide the order.
  std::vector<detail::task_core*> pending;
  for (auto* f = futures_head_; f; f = f->next_)
    if (f->is_task() && !f->done() && static_cast<detail::task_core*>(f)->owned_by_loop()) {
      f->add_ref();
      pending.push_back(static_cast<detail::task_core*>(f));
    }
  for (auto* t : pending) {
    exception_context ctx;
    ctx.message = "Task was destroyed but it is pending!";
    ctx.task = t->name();
    call_exception_handler(ctx);
    t->abandon();
  }
  for (auto* t : pending) {
    t->owned_by_loop_ = false;
    t->release();  // the loop's reference
  }
  for (auto* t : pending) t->release();  // ours: the frame goes now unless a handle keeps it
  // Whatever is still alive (a handle kept past the loop, a future nobody resolved) is detached: it keeps
  // its outcome if it has one, its callbacks can never run, and whatever needs the loop raises
  // loop_closed_error instead of reaching freed memory.
  std::vector<detail::future_core*> left;
  for (auto* f = futures_head_; f; f = f->next_) {
    f->add_ref();
    left.push_back(f);
  }
  for (auto* f : left) {
    f->loop_ = nullptr;
    f->prev_ = f->next_ = nullptr;
  }
  futures_head_ = nullptr;
  for (auto* f : left) f->discard_callbacks();
  for (auto* f : left) f->release();
  if (epfd_ >= 0) ::close(epfd_);
  epfd_ = -1;
}

}  // namespace coroscope
