#pragma once
// asyncio.create_subprocess_exec, create_subprocess_shell and asyncio.subprocess.Process.
//
//   coroscope::subprocess_options opts;
//   opts.std_in = opts.std_out = coroscope::stdio::pipe;
//   auto spawn = coroscope::create_subprocess_exec("sort", {"-r"}, opts);
//   coroscope::process p = co_await std::move(spawn);
//   auto talk = p.communicate("a\nb\n");
//   auto [out, err] = co_await std::move(talk);   // out == "b\na\n", err == "", p.returncode() == 0
//
// The child is started with posix_spawnp (PATH is searched, as execvp does) and is never waited for with
// a blocking waitpid: its exit is watched through a pidfd (pidfd_open, Linux 5.3+) registered with the
// loop's add_reader, or, where the kernel lacks pidfd_open (ENOSYS), through a SIGCHLD handler of
// signals.hpp (then the caveat there applies: SIGCHLD must be blocked in every thread, and the loop owns
// SIGCHLD while it has children). The child is reaped as soon as the loop sees its exit, even when the
// process object is gone by then; a child still running when its loop is closed is left to the parent
// process (reaped if it has exited by then, otherwise never by coroscope).
//
// The child starts with the signal mask the program had before signals.hpp blocked anything, SIGPIPE and
// SIGXFSZ at their default action (Python's restore_signals), and only fds 0, 1 and 2 from the parent
// (Python's close_fds=True).
//
// Differences from asyncio, on purpose:
// - `stdin`, `stdout`, `stderr` are C macros, so the options and accessors are std_in / std_out / std_err,
//   and asyncio.subprocess.STDOUT is stdio::to_stdout.
// - wait() returns as soon as the child has been reaped; it does not also wait for the pipes to be read
//   to their end (asyncio's wait() does, which is how it deadlocks with a full stdout pipe).
// - communicate() closes stdin even without input (as Python 3.12 does), so a child reading its stdin to
//   the end, like cat, finishes.
#include <coroscope/event_loop.hpp>
#include <coroscope/streams.hpp>
#include <coroscope/task.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace coroscope {

// Where one of the child's standard streams goes: asyncio's None, PIPE, DEVNULL and STDOUT.
enum class stdio {
  inherit,   // the parent's own fd
  pipe,      // a pipe to this process: a stream on the process object
  devnull,   // /dev/null
  to_stdout  // stderr only: wherever stdout goes
};

struct subprocess_options {
  stdio std_in = stdio::inherit;
  stdio std_out = stdio::inherit;
  stdio std_err = stdio::inherit;
  std::optional<std::string> cwd;               // working directory of the child; nullopt: ours
  std::optional<std::vector<std::string>> env;  // "NAME=value" entries; nullopt: our environment
  std::size_t limit = default_stream_limit;     // buffer limit of the stdout/stderr readers (asyncio's limit=)
};

namespace detail {
struct process_state;
task<int> process_wait(std::shared_ptr<process_state> s);
task<std::pair<std::string, std::string>> process_communicate(std::shared_ptr<process_state> s,
                                                              std::string input);

// Tests only: watch children through SIGCHLD even where pidfd_open works, to exercise the fallback.
void force_sigchld_child_watcher(bool on) noexcept;
}  // namespace detail

// asyncio.subprocess.Process: a cheap, copyable handle (copies are the same child). Used on the loop's
// thread. The child is reaped by the loop whether or not a handle is left.
class process {
public:
  explicit process(std::shared_ptr<detail::process_state> s) noexcept : state_(std::move(s)) {}

  int pid() const noexcept;
  // The exit status once the child has been reaped: its exit code, or -N when signal N killed it.
  std::optional<int> returncode() const noexcept;
  // Waits for the child to exit and returns returncode() (at once when it has already been reaped).
  task<int> wait() { return detail::process_wait(state_); }
  // The pipes (asyncio's proc.stdin, proc.stdout, proc.stderr): null when that stream is not stdio::pipe.
  // They live as long as the child's state: while a process handle exists or the child runs.
  stream_writer* std_in() noexcept;
  stream_reader* std_out() noexcept;
  stream_reader* std_err() noexcept;
  // Writes input to stdin (when piped) and closes it, reads stdout and stderr (when piped) to their end
  // concurrently, then waits for the exit. Returns (stdout, stderr); a stream that is not piped reads as
  // "". A child that stops reading its stdin early is not an error (the broken pipe is ignored).
  task<std::pair<std::string, std::string>> communicate(std::string input = {}) {
    return detail::process_communicate(state_, std::move(input));
  }
  // Sends signum to the child. Once the child has been reaped its pid may belong to another process, so
  // this throws std::system_error(ESRCH) instead, as asyncio raises ProcessLookupError.
  void send_signal(int signum);
  void terminate();  // SIGTERM
  void kill();       // SIGKILL

private:
  std::shared_ptr<detail::process_state> state_;
};

// asyncio.create_subprocess_exec(program, *args, stdin=, stdout=, stderr=, cwd=, env=, limit=). argv is
// program followed by args. A program that cannot be started throws std::system_error with the errno
// (ENOENT when it does not exist, EACCES when it is not executable), as Python raises FileNotFoundError
// or PermissionError; invalid options (to_stdout for stdin or stdout) throw std::invalid_argument.
task<process> create_subprocess_exec(std::string program, std::vector<std::string> args = {},
                                     subprocess_options options = {});

// asyncio.create_subprocess_shell(cmd, ...): /bin/sh -c cmd. Quoting whatever goes into cmd is the caller's
// job, as in Python.
task<process> create_subprocess_shell(std::string cmd, subprocess_options options = {});

}  // namespace coroscope
