#include <coroscope/gather.hpp>
#include <coroscope/locks.hpp>
#include <coroscope/signals.hpp>
#include <coroscope/sockets.hpp>
#include <coroscope/streams.hpp>
#include <coroscope/subprocess.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <stdexcept>
#include <system_error>
#include <unordered_map>

#include <fcntl.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace coroscope {

namespace detail {

namespace {

[[noreturn]] void throw_errno(int err, const std::string& what) {
  throw std::system_error(err, std::generic_category(), "coroscope: " + what);
}

// A descriptor that is 0, 1 or 2 (the program closed its own stdio) would be overwritten by the child's
// dup2 sequence before it is used: move it above them.
unique_fd above_stdio(unique_fd fd) {
  if (fd.get() > 2) return fd;
  const int moved = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, 3);
  if (moved < 0) throw_errno(errno, "fcntl");
  return unique_fd(moved);
}

struct pipe_ends {
  unique_fd read;
  unique_fd write;
};
pipe_ends make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw_errno(errno, "pipe2");
  return {above_stdio(unique_fd(fds[0])), above_stdio(unique_fd(fds[1]))};
}

int pidfd_open(pid_t pid) noexcept {
#ifdef SYS_pidfd_open
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#else
  (void)pid;
  errno = ENOSYS;
  return -1;
#endif
}

int pidfd_send_signal(int pidfd, int signum) noexcept {
#ifdef SYS_pidfd_send_signal
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, signum, nullptr, 0));
#else
  (void)pidfd;
  (void)signum;
  errno = ENOSYS;
  return -1;
#endif
}

std::atomic<bool> forced_sigchld{false};

// Probed once with our own pid: only ENOSYS means the kernel predates pidfd_open.
bool kernel_has_pidfd() noexcept {
  static const bool has = [] {
    const int fd = pidfd_open(::getpid());
    if (fd >= 0) {
      ::close(fd);
      return true;
    }
    return errno != ENOSYS;
  }();
  return has;
}

}  // namespace

struct process_state {
  process_state(event_loop& l, pid_t p) : loop(&l), pid(p) {}
  process_state(const process_state&) = delete;
  process_state& operator=(const process_state&) = delete;
  ~process_state() {
    // Only when the loop was closed while the child ran: nothing watches it any more. Reap it if it has
    // exited meanwhile; a child still running stays the parent process's business.
    if (pidfd >= 0) ::close(pidfd);
    if (!returncode) {
      int status = 0;
      ::waitpid(pid, &status, WNOHANG);
    }
  }

  // Reaps the child if it has exited (never blocks). True once it has been reaped.
  bool poll_exit() {
    if (returncode) return true;
    int status = 0;
    pid_t r;
    do {
      r = ::waitpid(pid, &status, WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == 0) return false;
    if (r < 0) {
      // ECHILD: reaped behind our back (SIGCHLD set to SIG_IGN, or a waitpid(-1) elsewhere). asyncio
      // reports 255 in that case too.
      loop->log("Unknown child process pid " + std::to_string(pid) + ", will report returncode 255");
      finish(255);
    } else {
      finish(WIFSIGNALED(status) ? -WTERMSIG(status) : WEXITSTATUS(status));
    }
    return true;
  }

  void finish(int code) {
    returncode = code;
    if (pidfd >= 0) {
      loop->remove_reader(pidfd);
      ::close(pidfd);
      pidfd = -1;
    }
    exited.set();
  }

  event_loop* loop;
  pid_t pid;
  int pidfd = -1;
  std::optional<int> returncode;
  event exited;
  std::optional<stream_writer> std_in;
  std::optional<stream_reader> std_out;
  std::optional<stream_reader> std_err;
};

namespace {

// The loop's reader of a child's pidfd: it keeps the state alive until the child is reaped.
struct pidfd_watch {
  std::shared_ptr<process_state> state;
  void operator()() const {
    auto keep = state;  // finish() drops this watch while it runs
    keep->poll_exit();
  }
};

// The fallback: one SIGCHLD handler per loop polls every child of that loop (SIGCHLD deliveries merge).
// It exists while the loop has children, so SIGCHLD is blocked only meanwhile.
class sigchld_watcher {
public:
  explicit sigchld_watcher(event_loop& loop) noexcept : loop_(&loop) {}
  void add(std::shared_ptr<process_state> s) { children_.push_back(std::move(s)); }
  void reap() {
    std::erase_if(children_, [](const std::shared_ptr<process_state>& c) { return c->poll_exit(); });
    release_if_idle();
  }
  // Dropping the handler drops this watcher (the handler owns it).
  void release_if_idle() {
    if (children_.empty()) remove_signal_handler(*loop_, SIGCHLD);
  }

private:
  event_loop* loop_;
  std::vector<std::shared_ptr<process_state>> children_;
};

thread_local std::unordered_map<event_loop*, std::weak_ptr<sigchld_watcher>> sigchld_watchers;

std::shared_ptr<sigchld_watcher> sigchld_watcher_for(event_loop& loop) {
  auto& slot = sigchld_watchers[&loop];
  if (auto w = slot.lock()) return w;
  std::erase_if(sigchld_watchers, [](const auto& kv) { return kv.second.expired(); });
  auto w = std::make_shared<sigchld_watcher>(loop);
  add_signal_handler(loop, SIGCHLD, [w] { w->reap(); });
  sigchld_watchers[&loop] = w;
  return w;
}

// What the child's fds 0, 1, 2 become, and our ends of its pipes.
struct child_stdio {
  posix_spawn_file_actions_t actions;
  unique_fd devnull;
  unique_fd child_ends[3];
  unique_fd our_ends[3];

  child_stdio() {
    if (int e = posix_spawn_file_actions_init(&actions); e != 0) throw_errno(e, "posix_spawn_file_actions_init");
  }
  child_stdio(const child_stdio&) = delete;
  child_stdio& operator=(const child_stdio&) = delete;
  ~child_stdio() { posix_spawn_file_actions_destroy(&actions); }

  void dup_onto(int from, int target) {
    if (int e = posix_spawn_file_actions_adddup2(&actions, from, target); e != 0)
      throw_errno(e, "posix_spawn_file_actions_adddup2");
  }

  void set(int target, stdio mode) {
    switch (mode) {
      case stdio::inherit:
        return;
      case stdio::devnull:
        if (devnull.get() < 0) {
          const int fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
          if (fd < 0) throw_errno(errno, "open /dev/null");
          devnull = above_stdio(unique_fd(fd));
        }
        dup_onto(devnull.get(), target);
        return;
      case stdio::pipe: {
        auto p = make_pipe();
        const bool child_reads = target == 0;
        child_ends[target] = std::move(child_reads ? p.read : p.write);
        our_ends[target] = std::move(child_reads ? p.write : p.read);
        dup_onto(child_ends[target].get(), target);
        return;
      }
      case stdio::to_stdout:
        dup_onto(1, target);  // applied after fd 1 was set up: the actions run in order
        return;
    }
  }
};

struct spawn_attributes {
  posix_spawnattr_t attr;
  spawn_attributes() {
    if (int e = posix_spawnattr_init(&attr); e != 0) throw_errno(e, "posix_spawnattr_init");
    sigset_t mask = mask_before_signal_handlers();
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGXFSZ);
    posix_spawnattr_setsigmask(&attr, &mask);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  }
  spawn_attributes(const spawn_attributes&) = delete;
  spawn_attributes& operator=(const spawn_attributes&) = delete;
  ~spawn_attributes() { posix_spawnattr_destroy(&attr); }
};

std::vector<char*> c_strings(std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (auto& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

void check_options(const subprocess_options& o) {
  if (o.std_in == stdio::to_stdout) throw std::invalid_argument("coroscope: stdin cannot be stdio::to_stdout");
  if (o.std_out == stdio::to_stdout) throw std::invalid_argument("coroscope: stdout cannot be stdio::to_stdout");
}

std::shared_ptr<process_state> spawn(event_loop& loop, std::string program, std::vector<std::string> args,
                                     const subprocess_options& o) {
  check_options(o);
  child_stdio io;
  io.set(0, o.std_in);
  io.set(1, o.std_out);
  io.set(2, o.std_err);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
  // Python's close_fds=True: descriptors the program opened without close-on-exec stay out of the child.
  if (int e = posix_spawn_file_actions_addclosefrom_np(&io.actions, 3); e != 0)
    throw_errno(e, "posix_spawn_file_actions_addclosefrom_np");
#endif
  if (o.cwd) {
    if (int e = posix_spawn_file_actions_addchdir_np(&io.actions, o.cwd->c_str()); e != 0)
      throw_errno(e, "posix_spawn_file_actions_addchdir_np");
  }
  spawn_attributes attrs;

  std::vector<std::string> argv_storage;
  argv_storage.reserve(args.size() + 1);
  argv_storage.push_back(program);
  for (auto& a : args) argv_storage.push_back(std::move(a));
  std::vector<char*> argv = c_strings(argv_storage);
  std::vector<std::string> env_storage = o.env.value_or(std::vector<std::string>{});
  std::vector<char*> envp = c_strings(env_storage);

  // The SIGCHLD fallback blocks SIGCHLD before the child exists, so its exit cannot slip through.
  const bool use_pidfd = kernel_has_pidfd() && !forced_sigchld.load(std::memory_order_relaxed);
  std::shared_ptr<sigchld_watcher> watcher;
  if (!use_pidfd) watcher = sigchld_watcher_for(loop);

  pid_t pid = -1;
  const int err = posix_spawnp(&pid, program.c_str(), &io.actions, &attrs.attr, argv.data(),
                               o.env ? envp.data() : environ);
  for (auto& fd : io.child_ends) fd.reset();
  io.devnull.reset();
  if (err != 0) {
    if (watcher) watcher->release_if_idle();
    throw std::system_error(err, std::generic_category(), "coroscope: cannot run '" + program + "'");
  }

  auto state = std::make_shared<process_state>(loop, pid);
  if (use_pidfd) {
    state->pidfd = pidfd_open(pid);
    if (state->pidfd >= 0) {
      try {
        loop.add_reader(state->pidfd, pidfd_watch{state});
      } catch (...) {
        ::close(std::exchange(state->pidfd, -1));
      }
    }
    if (state->pidfd < 0) {
      // No pidfd for this child (EMFILE, say): watch it through SIGCHLD. Its SIGCHLD may already be gone,
      // so poll once from the loop as well.
      watcher = sigchld_watcher_for(loop);
      loop.call_soon([w = watcher] { w->reap(); });
    }
  }
  if (watcher) watcher->add(state);

  stream_options sopts;
  sopts.limit = o.limit;
  if (io.our_ends[0].get() >= 0) state->std_in = make_fd_streams(loop, -1, io.our_ends[0].release(), sopts).writer;
  if (io.our_ends[1].get() >= 0) state->std_out = make_fd_streams(loop, io.our_ends[1].release(), -1, sopts).reader;
  if (io.our_ends[2].get() >= 0) state->std_err = make_fd_streams(loop, io.our_ends[2].release(), -1, sopts).reader;
  return state;
}

task<void> feed_stdin(stream_writer w, std::string input) {
  std::exception_ptr error;
  try {
    if (!input.empty()) {
      w.write(input);
      co_await w.drain();
    }
  } catch (const std::system_error& e) {
    // The child closed its stdin (or exited) before reading everything: not communicate()'s problem.
    if (e.code() != std::errc::broken_pipe && e.code() != std::errc::connection_reset) error = std::current_exception();
  }
  w.close();
  if (error) std::rethrow_exception(error);
}

task<std::string> read_to_end(std::optional<stream_reader> r) {
  if (!r) co_return std::string();
  co_return co_await r->read(-1);
}

}  // namespace

task<int> process_wait(std::shared_ptr<process_state> s) {
  if (!s->returncode) co_await s->exited.wait();
  co_return *s->returncode;
}

task<std::pair<std::string, std::string>> process_communicate(std::shared_ptr<process_state> s,
                                                              std::string input) {
  task<void> feed = s->std_in ? feed_stdin(*s->std_in, std::move(input)) : []() -> task<void> { co_return; }();
  auto all = gather(std::move(feed), read_to_end(s->std_out), read_to_end(s->std_err));
  auto results = co_await all;
  co_await process_wait(s);
  co_return std::pair<std::string, std::string>(std::move(std::get<1>(results)), std::move(std::get<2>(results)));
}

void force_sigchld_child_watcher(bool on) noexcept { forced_sigchld.store(on, std::memory_order_relaxed); }

}  // namespace detail

int process::pid() const noexcept { return state_->pid; }

std::optional<int> process::returncode() const noexcept { return state_->returncode; }

stream_writer* process::std_in() noexcept { return state_->std_in ? &*state_->std_in : nullptr; }
stream_reader* process::std_out() noexcept { return state_->std_out ? &*state_->std_out : nullptr; }
stream_reader* process::std_err() noexcept { return state_->std_err ? &*state_->std_err : nullptr; }

void process::send_signal(int signum) {
  if (state_->returncode)
    throw std::system_error(ESRCH, std::generic_category(),
                            "coroscope: process " + std::to_string(state_->pid) + " has already exited");
  // Through the pidfd when there is one: it names this child even if the pid were reused.
  const int r = state_->pidfd >= 0 ? detail::pidfd_send_signal(state_->pidfd, signum) : ::kill(state_->pid, signum);
  if (r != 0) detail::throw_errno(errno, "cannot signal process " + std::to_string(state_->pid));
}

void process::terminate() { send_signal(SIGTERM); }
void process::kill() { send_signal(SIGKILL); }

task<process> create_subprocess_exec(std::string program, std::vector<std::string> args, subprocess_options options) {
  co_return process(detail::spawn(get_running_loop(), std::move(program), std::move(args), options));
}

task<process> create_subprocess_shell(std::string cmd, subprocess_options options) {
  std::vector<std::string> args{"-c", std::move(cmd)};
  co_return process(detail::spawn(get_running_loop(), "/bin/sh", std::move(args), options));
}

}  // namespace coroscope
