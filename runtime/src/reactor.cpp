// The loop's I/O half, CPython's selector loop: epoll for add_reader/add_writer (level-triggered, like
// asyncio's selectors), and the wait between iterations, real or on the virtual clock.
#include <coroscope/event_loop.hpp>

#include <cerrno>
#include <ctime>
#include <stdexcept>
#include <string>
#include <system_error>

#include <sys/epoll.h>
#include <unistd.h>

namespace coroscope {

void event_loop::wait_for_events(std::int64_t timeout_ns) {
  // Callbacks from other threads are drained at the top of every iteration (has_pending), so a zero
  // timeout needs the kernel only when file descriptors are watched.
  const bool fds = !fds_.empty();
  if (clock_ == clock_kind::virtual_time) {
    // Virtual time: real I/O is polled without waiting, then the clock jumps to the next timer. With no
    // timer, only something real can make progress: wait for it, or report the deadlock.
    if (timeout_ns < 0) {
      if (!fds && external_pending_ == 0 && !anchor_->ever_posted.load(std::memory_order_relaxed))
        throw std::runtime_error(
            "coroscope: deadlock: nothing is ready, no timer is pending and nothing can wake the loop");
      poll_io(-1);
      return;
    }
    // Work on another thread takes no virtual time: the clock stands still until it comes back, as it
    // does in CPython's loop, whose select() returns when the worker writes to the self-pipe.
    if (timeout_ns > 0 && external_pending_ > 0) {
      poll_io(-1);
      return;
    }
    if (fds) poll_io(0);
    if (timeout_ns > 0 && ready_.empty()) virtual_now_ += timeout_ns;
    return;
  }
  // Real time: like asyncio, wait for whatever may come (another thread may call call_soon_threadsafe).
  if (timeout_ns == 0 && !fds) return;
  poll_io(timeout_ns);
}

void event_loop::poll_io(std::int64_t timeout_ns) {
  using anchor = detail::loop_anchor;
  // With no fd watched only another thread can wake the loop, and a futex is the cheapest way to wait.
  if (fds_.empty()) {
    if (timeout_ns != 0 && anchor_->about_to_sleep(anchor::in_futex)) anchor_->sleep_on_futex(timeout_ns);
    anchor_->woke();
    drain_threadsafe();
    return;
  }
  if (timeout_ns != 0 && !anchor_->about_to_sleep(anchor::in_epoll)) timeout_ns = 0;
  epoll_event evs[128];
  int n;
  if (timeout_ns < 0) {
    n = ::epoll_pwait2(epfd_, evs, 128, nullptr, nullptr);
  } else {
    timespec ts{static_cast<time_t>(timeout_ns / 1'000'000'000), static_cast<long>(timeout_ns % 1'000'000'000)};
    n = ::epoll_pwait2(epfd_, evs, 128, &ts, nullptr);
  }
  anchor_->woke();
  if (n < 0) {
    if (errno == EINTR) return;
    throw std::system_error(errno, std::generic_category(), "coroscope: epoll_pwait2");
  }
  // Callbacks posted by other threads while we slept were queued first, as asyncio appends them to
  // _ready at call time; then the I/O callbacks, in the order the kernel reported them.
  drain_threadsafe();
  for (int i = 0; i < n; ++i) {
    const int fd = evs[i].data.fd;
    if (fd == anchor_->wakefd) continue;
    auto it = fds_.find(fd);
    if (it == fds_.end()) continue;
    const std::uint32_t e = evs[i].events;
    auto queue = [this](const handle& h) {
      auto* node = h.node();
      if (!node || node->cancelled) return;
      node->add_ref();
      ready_.push({{&detail::handle_trampoline, node}, nullptr});
    };
    if (e & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) queue(it->second.reader);
    if (e & (EPOLLOUT | EPOLLHUP | EPOLLERR)) queue(it->second.writer);
  }
}

void event_loop::watch(int fd, bool read, detail::handle_node* cb) {
  handle h(cb);
  cb->release();  // h holds it now
  if (closed_) throw loop_closed_error("coroscope: Event loop is closed");
  if (fd < 0) throw std::invalid_argument("coroscope: invalid file descriptor " + std::to_string(fd));
  auto [it, inserted] = fds_.try_emplace(fd);
  auto& w = it->second;
  handle& slot = read ? w.reader : w.writer;
  slot.cancel();  // a second reader replaces the first
  slot = std::move(h);
  const std::uint32_t want = w.events | (read ? EPOLLIN : EPOLLOUT);
  if (want != w.events || inserted) {
    epoll_event ev{};
    ev.events = want;
    ev.data.fd = fd;
    if (::epoll_ctl(epfd_, inserted ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev) != 0) {
      const int err = errno;
      if (inserted) fds_.erase(it);
      else slot = handle();
      throw std::system_error(err, std::generic_category(), "coroscope: cannot watch fd " + std::to_string(fd));
    }
    w.events = want;
  }
}

bool event_loop::unwatch(int fd, bool read) {
  auto it = fds_.find(fd);
  if (it == fds_.end()) return false;
  auto& w = it->second;
  handle& slot = read ? w.reader : w.writer;
  if (!slot) return false;
  slot.cancel();
  slot = handle();
  w.events &= ~static_cast<std::uint32_t>(read ? EPOLLIN : EPOLLOUT);
  if (w.events == 0) {
    ::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);  // the fd may be closed already: nothing to undo
    fds_.erase(it);
  } else {
    epoll_event ev{};
    ev.events = w.events;
    ev.data.fd = fd;
    ::epoll_ctl(epfd_, EPOLL_CTL_MOD, fd, &ev);
  }
  return true;
}

}  // namespace coroscope
