#include <coroscope/detail/loop_anchor.hpp>
#include <coroscope/event_loop.hpp>

#include <cerrno>
#include <cstdint>
#include <system_error>

#include <sys/eventfd.h>
#include <unistd.h>

namespace coroscope::detail {

loop_anchor::loop_anchor() {
  wakefd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wakefd < 0) throw std::system_error(errno, std::generic_category(), "coroscope: eventfd");
}

loop_anchor::~loop_anchor() {
  for (auto* n : pending) n->release();
  if (wakefd >= 0) ::close(wakefd);
}

void loop_anchor::post(handle_node* n) {
  bool first;
  {
    std::lock_guard<std::mutex> g(m);
    if (!open) {
      n->release();
      throw loop_closed_error("coroscope: Event loop is closed");
    }
    pending.push_back(n);
    first = pending.size() == 1;
    ever_posted.store(true, std::memory_order_relaxed);
    has_pending.store(true, std::memory_order_release);
  }
  // One write per batch: the loop drains everything when it wakes. The fd lives as long as the anchor.
  if (first) {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto w = ::write(wakefd, &one, sizeof one);
  }
}

void loop_anchor::close() {
  std::vector<handle_node*> dropped;
  {
    std::lock_guard<std::mutex> g(m);
    open = false;
    dropped.swap(pending);
    has_pending.store(false, std::memory_order_relaxed);
  }
  for (auto* n : dropped) n->release();
}

}  // namespace coroscope::detail
