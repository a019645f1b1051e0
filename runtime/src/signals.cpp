#include <coroscope/signals.hpp>

#include <array>
#include <cerrno>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <unordered_map>

#include <pthread.h>
#include <sys/signalfd.h>
#include <unistd.h>

namespace coroscope {

namespace detail {

namespace {

void check_signal_number(int signum) {
  sigset_t probe;
  sigemptyset(&probe);
  // sigaddset also rejects the signals glibc keeps for its threads (Python's valid_signals() does too).
  if (signum < 1 || signum >= NSIG || sigaddset(&probe, signum) != 0)
    throw std::invalid_argument("coroscope: invalid signal number " + std::to_string(signum));
}

// Per thread: how many registries want each signal blocked, and whether it was blocked before the first
// one did (then the last one leaves it blocked). Two loops of one thread may handle the same signal.
struct thread_claims {
  std::array<int, NSIG> count{};
  std::array<bool, NSIG> was_blocked{};
  sigset_t ours;  // signals blocked by this module, not by the program
  thread_claims() { sigemptyset(&ours); }
};
thread_local thread_claims claims;

void claim(int signum) {
  if (claims.count[static_cast<std::size_t>(signum)]++ > 0) return;
  sigset_t one, old;
  sigemptyset(&one);
  sigaddset(&one, signum);
  if (int e = pthread_sigmask(SIG_BLOCK, &one, &old); e != 0) {
    --claims.count[static_cast<std::size_t>(signum)];
    throw std::system_error(e, std::generic_category(), "coroscope: pthread_sigmask");
  }
  const bool before = sigismember(&old, signum) == 1;
  claims.was_blocked[static_cast<std::size_t>(signum)] = before;
  if (!before) sigaddset(&claims.ours, signum);
}

void unclaim(int signum) noexcept {
  if (--claims.count[static_cast<std::size_t>(signum)] > 0) return;
  if (claims.was_blocked[static_cast<std::size_t>(signum)]) return;
  sigset_t one;
  sigemptyset(&one);
  sigaddset(&one, signum);
  // A delivery nobody read yet would hit the default action (usually death) the moment it is unblocked:
  // the handler is gone, so the signal is dropped instead.
  const timespec zero{0, 0};
  while (sigtimedwait(&one, nullptr, &zero) == signum) {
  }
  pthread_sigmask(SIG_UNBLOCK, &one, nullptr);
  sigdelset(&claims.ours, signum);
}

class signal_registry;
// The registry of each loop of this thread. A registry removes itself when it goes.
thread_local std::unordered_map<event_loop*, signal_registry*> registries;

class signal_registry {
public:
  explicit signal_registry(event_loop& loop) : loop_(&loop) {
    sigemptyset(&watched_);
    fd_ = ::signalfd(-1, &watched_, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "coroscope: signalfd");
    registries[loop_] = this;
  }
  signal_registry(const signal_registry&) = delete;
  signal_registry& operator=(const signal_registry&) = delete;
  ~signal_registry() {
    detach();
    for (auto& [signum, h] : handlers_) unclaim(signum);
    ::close(fd_);
  }

  int fd() const noexcept { return fd_; }
  bool empty() const noexcept { return handlers_.empty(); }

  void set(int signum, handle h) {
    auto it = handlers_.find(signum);
    if (it != handlers_.end()) {
      it->second = std::move(h);
      return;
    }
    claim(signum);
    sigaddset(&watched_, signum);
    if (::signalfd(fd_, &watched_, 0) < 0) {
      const int e = errno;
      sigdelset(&watched_, signum);
      unclaim(signum);
      throw std::system_error(e, std::generic_category(), "coroscope: signalfd");
    }
    handlers_.emplace(signum, std::move(h));
  }

  bool erase(int signum) noexcept {
    auto it = handlers_.find(signum);
    if (it == handlers_.end()) return false;
    handlers_.erase(it);
    sigdelset(&watched_, signum);
    ::signalfd(fd_, &watched_, 0);  // only narrows the set: cannot fail on a valid signalfd
    unclaim(signum);
    return true;
  }

  // The loop no longer watches us (last handler removed): a new registration must start a new registry
  // even while the loop still holds this one's reader callback in its ready queue.
  void detach() noexcept {
    if (!loop_) return;
    auto it = registries.find(loop_);
    if (it != registries.end() && it->second == this) registries.erase(it);
    loop_ = nullptr;
  }
  event_loop* loop() const noexcept { return loop_; }

  // The loop's reader callback: queue each arrived signal's handler, as asyncio's _handle_signal does.
  void dispatch() {
    std::array<signalfd_siginfo, 16> infos;
    for (;;) {
      const ssize_t n = ::read(fd_, infos.data(), sizeof infos);
      if (n <= 0) return;  // EAGAIN: all read
      const auto count = static_cast<std::size_t>(n) / sizeof(signalfd_siginfo);
      for (std::size_t i = 0; i < count; ++i) {
        auto it = handlers_.find(static_cast<int>(infos[i].ssi_signo));
        if (it == handlers_.end() || !loop_) continue;
        handle_node* node = it->second.node();
        if (node->cancelled) continue;
        node->add_ref();  // the ready queue's reference
        loop_->push_ready({{&handle_trampoline, node}, nullptr});
      }
    }
  }

private:
  sigset_t watched_;  // the signals with a handler: what the signalfd reports
  event_loop* loop_;
  int fd_ = -1;
  std::map<int, handle> handlers_;
};

// What the loop holds as the signalfd's reader: owning the registry ties its life to the loop's watch,
// so closing the loop releases the fd and the mask too.
struct signal_reader {
  std::unique_ptr<signal_registry> registry;
  void operator()() const { registry->dispatch(); }
};

signal_registry* find_registry(event_loop& loop) noexcept {
  auto it = registries.find(&loop);
  return it == registries.end() ? nullptr : it->second;
}

}  // namespace

void add_signal_handler_node(event_loop& loop, int signum, handle_node* n) {
  handle h(n);
  n->release();  // h holds it now
  check_signal_number(signum);
  if (signum == SIGKILL || signum == SIGSTOP)
    throw std::system_error(EINVAL, std::generic_category(),
                            "coroscope: sig " + std::to_string(signum) + " cannot be caught");
  if (loop.is_closed()) throw loop_closed_error("coroscope: Event loop is closed");
  signal_registry* reg = find_registry(loop);
  if (!reg) {
    auto owned = std::make_unique<signal_registry>(loop);
    reg = owned.get();
    loop.add_reader(reg->fd(), signal_reader{std::move(owned)});  // if this throws, the registry goes
  }
  try {
    reg->set(signum, std::move(h));
  } catch (...) {
    if (reg->empty()) {
      reg->detach();
      loop.remove_reader(reg->fd());
    }
    throw;
  }
}

sigset_t mask_before_signal_handlers() {
  sigset_t mask;
  pthread_sigmask(SIG_SETMASK, nullptr, &mask);
  for (int s = 1; s < NSIG; ++s)
    if (sigismember(&claims.ours, s) == 1) sigdelset(&mask, s);
  return mask;
}

}  // namespace detail

bool remove_signal_handler(event_loop& loop, int signum) {
  detail::check_signal_number(signum);
  detail::signal_registry* reg = detail::find_registry(loop);
  if (!reg || !reg->erase(signum)) return false;
  if (reg->empty()) {
    const int fd = reg->fd();
    reg->detach();
    loop.remove_reader(fd);  // may destroy reg
  }
  return true;
}

}  // namespace coroscope
