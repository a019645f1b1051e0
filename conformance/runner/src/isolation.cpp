// conform::run_scenario: one scenario on one runtime, in a forked child so that a crash, a hang or a runaway
// allocation of the runtime under test becomes that scenario's status instead of the end of the run.
#include <conform/report.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <new>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CONFORM_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define CONFORM_SANITIZED 1
#endif
#endif

namespace conform {

namespace {

using clock_type = std::chrono::steady_clock;

// What a run produced, in the form the child sends to the runner: {"actual": [...]}, {"unsupported":
// feature}, {"scenario_error": what}, {"budget": what} or {"crash": reason}.
json attempt(adapter& a, const scenario& s, const run_options& o) {
  try {
    json trace = json::array();
    for (const auto& e : a.run(s, o)) trace.push_back(to_json(e));
    return {{"actual", std::move(trace)}};
  } catch (const unsupported_error& e) {
    return {{"unsupported", e.feature()}};
  } catch (const scenario_error& e) {
    return {{"scenario_error", e.what()}};
  } catch (const budget_error& e) {
    return {{"budget", e.what()}};
  } catch (const std::bad_alloc&) {
    return {{"crash", o.memory_limit_mb ? "out of memory (std::bad_alloc) under the memory limit of " +
                                              std::to_string(o.memory_limit_mb) + " MiB"
                                        : std::string("out of memory (std::bad_alloc)")}};
  } catch (const std::exception& e) {
    return {{"crash", std::string("the adapter threw an exception: ") + e.what()}};
  } catch (...) {
    return {{"crash", "the adapter threw a non-standard exception"}};
  }
}

std::string signal_text(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  const char* desc = sigdescr_np(sig);
  return "killed by signal " + std::to_string(sig) + (abbrev ? std::string(" (SIG") + abbrev + ")" : "") +
         (desc ? std::string(": ") + desc : "");
}

void write_all(int fd, const std::string& out) {
  for (std::size_t done = 0; done < out.size();) {
    ssize_t n = ::write(fd, out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) ::_exit(3);
    done += static_cast<std::size_t>(n);
  }
}

void apply_limits(const run_options& o) {
  rlimit no_core{0, 0};
  ::setrlimit(RLIMIT_CORE, &no_core);
#ifndef CONFORM_SANITIZED  // the sanitizers reserve terabytes of address space: no cap under them
  if (o.memory_limit_mb) {
    rlim_t bytes = static_cast<rlim_t>(o.memory_limit_mb) << 20;
    rlimit as{bytes, bytes};
    ::setrlimit(RLIMIT_AS, &as);
  }
#else
  (void)o;
#endif
}

// The worker: reads scenario indexes, one a line, and answers attempt()'s JSON, one a line, until its
// input closes. _exit: the runtime's leftovers (threads, static destructors) are not the runner's business.
[[noreturn]] void worker(int in, int out, adapter& a, const std::vector<const scenario*>& scenarios,
                         const run_options& o) {
  apply_limits(o);
  std::string line;
  char c;
  for (;;) {
    ssize_t n = ::read(in, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) ::_exit(0);
    if (c != '\n') {
      line += c;
      continue;
    }
    std::size_t i = std::stoul(line);
    line.clear();
    write_all(out, attempt(a, *scenarios.at(i), o).dump() + "\n");
  }
}

std::string signal_reason(int status, const run_options& o) {
  std::string why = signal_text(WTERMSIG(status));
#ifndef CONFORM_SANITIZED
  if (o.memory_limit_mb && (WTERMSIG(status) == SIGABRT || WTERMSIG(status) == SIGSEGV))
    why += " (the memory limit is " + std::to_string(o.memory_limit_mb) + " MiB)";
#else
  (void)o;
#endif
  return why;
}

constexpr int k_scenarios_per_worker = 48;

}  // namespace

const std::vector<std::string>& all_statuses() {
  static const std::vector<std::string> s{"pass", "fail", "unsupported", "note", "crash", "timeout"};
  return s;
}

bool is_failure(const std::string& status) { return status == "fail" || status == "crash" || status == "timeout"; }

scenario_runner::scenario_runner(adapter& a, const run_options& options, std::vector<const scenario*> scenarios)
    : a_(a), o_(options), scenarios_(std::move(scenarios)) {}

scenario_runner::~scenario_runner() { stop(false); }

void scenario_runner::start() {
  int to[2], from[2];
  if (::pipe2(to, O_CLOEXEC) != 0 || ::pipe2(from, O_CLOEXEC) != 0)
    throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::close(to[1]);
    ::close(from[0]);
    worker(to[0], from[1], a_, scenarios_, o_);
  }
  ::close(to[0]);
  ::close(from[1]);
  pid_ = pid;
  to_worker_ = to[1];
  from_worker_ = from[0];
  served_ = 0;
  pending_.clear();
}

void scenario_runner::stop(bool kill) {
  if (pid_ < 0) return;
  ::close(to_worker_);  // the worker's cue to exit
  ::close(from_worker_);
  if (kill) ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

json scenario_runner::attempt_isolated(std::size_t index) {
  if (pid_ < 0 || served_ >= k_scenarios_per_worker) {
    stop(false);
    start();
  }
  ++served_;
  {
    // A worker that died between scenarios closed its end: writing must not raise SIGPIPE here.
    std::string line = std::to_string(index) + "\n";
    ::signal(SIGPIPE, SIG_IGN);
    if (::write(to_worker_, line.data(), line.size()) != static_cast<ssize_t>(line.size())) pending_.clear();
  }
  const auto deadline = clock_type::now() + std::chrono::duration<double, std::milli>(o_.time_limit_ms);
  char buf[65536];
  for (;;) {
    auto nl = pending_.find('\n');
    if (nl != std::string::npos) {
      json got = json::parse(pending_.substr(0, nl), nullptr, false);
      pending_.erase(0, nl + 1);
      if (got.is_discarded()) break;
      return got;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now()).count();
    if (left <= 0) {
      stop(true);
      char limit[32];
      std::snprintf(limit, sizeof limit, "%g", o_.time_limit_ms);
      return {{"timeout", std::string("no result within the wall-clock limit of ") + limit +
                              " ms (a hang, a deadlock the runtime does not detect, or a livelock): killed"}};
    }
    pollfd p{from_worker_, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    ssize_t n = ::read(from_worker_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the worker died
    pending_.append(buf, static_cast<std::size_t>(n));
  }
  // The worker ended without answering: reap it and say how it died.
  ::close(to_worker_);
  ::close(from_worker_);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  if (WIFSIGNALED(status)) return {{"crash", signal_reason(status, o_)}};
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
    return {{"crash", "the scenario's process exited with status " + std::to_string(WEXITSTATUS(status)) +
                          " before reporting a result"}};
  return {{"crash", "the scenario's process ended without reporting a result"}};
}

scenario_result scenario_runner::run(std::size_t index) {
  const scenario& s = *scenarios_.at(index);
  scenario_result r;
  r.s = &s;
  for (const auto& f : s.features)
    if (!a_.supports(f)) r.missing.push_back(f);
  if (!r.missing.empty()) {
    r.status = "unsupported";
    for (const auto& f : r.missing) r.message += (r.message.empty() ? "needs " : ", ") + f;
    return r;
  }
  auto t0 = clock_type::now();
  json got;
  if (!o_.isolate) {
    got = attempt(a_, s, o_);
  } else {
    const bool shared = pid_ >= 0 && served_ > 0 && served_ < k_scenarios_per_worker;
    got = attempt_isolated(index);
    // A worker that served other scenarios first may have died of their leftovers: blame this scenario
    // only if it crashes a fresh worker too.
    if (shared && got.contains("crash")) {
      t0 = clock_type::now();
      got = attempt_isolated(index);
    }
  }
  r.duration_ms = std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
  if (got.contains("actual")) {
    r.actual = trace_from_json(got["actual"], s.file);
    auto cmp = compare_traces(s, s.expected, r.actual, a_.time_tolerance_ms(o_));
    r.status = cmp.same ? "pass" : (s.informative() ? "note" : "fail");
    r.message = cmp.first_difference;
  } else if (got.contains("unsupported")) {
    r.status = "unsupported";
    r.missing.push_back(got["unsupported"]);
    r.message = "needs " + got["unsupported"].get<std::string>();
  } else if (got.contains("budget")) {
    // The run-time budget of limits.hpp: the runtime ran more than the program asks for. Never a note.
    r.status = "fail";
    r.message = got["budget"].get<std::string>();
  } else if (got.contains("scenario_error")) {
    // A malformed step is the scenario's fault, not the runtime's: the run stops with exit 2.
    throw std::runtime_error(got["scenario_error"].get<std::string>());
  } else {
    r.status = got.contains("timeout") ? "timeout" : "crash";
    r.message = got.begin().value().get<std::string>();
  }
  return r;
}

scenario_result run_scenario(adapter& a, const scenario& s, const run_options& options) {
  scenario_runner runner(a, options, {&s});
  return runner.run(0);
}

}  // namespace conform
