#include <coroscope/detail/loop_anchor.hpp>
#include <coroscope/event_loop.hpp>

#include <cerrno>
#include <cstdint>
#include <ctime>
#include <system_error>

#include <linux/futex.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace coroscope::detail {

namespace {
// std::atomic<std::uint32_t> is a plain 32-bit word (always lock-free), which is what a futex needs.
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);
static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));

std::uint32_t* futex_word(std::atomic<std::uint32_t>& a) noexcept { return reinterpret_cast<std::uint32_t*>(&a); }
}  // namespace

loop_anchor::loop_anchor() {
  wakefd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wakefd < 0) throw std::system_error(errno, std::generic_category(), "coroscope: eventfd");
}

loop_anchor::~loop_anchor() {
  for (auto* n : pending) n->release();
  if (wakefd >= 0) ::close(wakefd);
}

void loop_anchor::post(handle_node* n) {
  {
    std::lock_guard<std::mutex> g(m);
    if (!open) {
      n->release();
      throw loop_closed_error("coroscope: Event loop is closed");
    }
    pending.push_back(n);
    ever_posted.store(true, std::memory_order_relaxed);
    has_pending.store(true, std::memory_order_seq_cst);
  }
  // The loop drains everything when it wakes, so one wake per sleep is enough: the post that takes the
  // state back to awake makes it. The fd and the word live as long as the anchor, which the poster holds.
  if (sleeping.load(std::memory_order_seq_cst) == awake) return;
  switch (sleeping.exchange(awake, std::memory_order_seq_cst)) {
    case in_epoll: {
      const std::uint64_t one = 1;
      [[maybe_unused]] auto w = ::write(wakefd, &one, sizeof one);
      break;
    }
    case in_futex:
      ::syscall(SYS_futex, futex_word(sleeping), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
      break;
    default:
      break;
  }
}

void loop_anchor::sleep_on_futex(std::int64_t timeout_ns) noexcept {
  timespec ts{};
  timespec* limit = nullptr;
  if (timeout_ns >= 0) {
    ts.tv_sec = static_cast<time_t>(timeout_ns / 1'000'000'000);
    ts.tv_nsec = static_cast<long>(timeout_ns % 1'000'000'000);
    limit = &ts;
  }
  // Returns at once (EAGAIN) if a post already took the word back to awake; a spurious or interrupted
  // return is harmless: the loop checks what is pending and comes back.
  ::syscall(SYS_futex, futex_word(sleeping), FUTEX_WAIT_PRIVATE, static_cast<std::uint32_t>(in_futex), limit,
            nullptr, 0);
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
