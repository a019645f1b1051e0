#include <conform/fuzz.hpp>
#include <conform/report.hpp>

#include <coroscope/support/files.hpp>
#include <coroscope/support/json.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <cstdlib>
#include <functional>
#include <initializer_list>
#include <filesystem>
#include <iostream>
#include <sstream>

extern char** environ;

namespace conform {

namespace {

// splitmix64: tiny, and the same numbers on every platform.
class rng {
public:
  explicit rng(std::uint64_t seed) : s_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  int below(int n) { return static_cast<int>(next() % static_cast<std::uint64_t>(n)); }
  bool chance(int percent) { return below(100) < percent; }

private:
  std::uint64_t s_;
};

json log_step(const std::string& m) { return {{"op", "log"}, {"msg", m}}; }
json sleep_step(int ms) { return {{"op", "sleep"}, {"ms", ms}}; }
json log_kind() { return {{"op", "log"}, {"msg", "caught"}, {"value", {{"exc_kind", "e"}}}}; }
json try_any(json body) {
  return {{"op", "try"}, {"body", std::move(body)},
          {"except", json::array({{{"kind", "BaseException"}, {"as", "e"}, {"body", json::array({log_kind()})}}})}};
}
std::string tname(int i) {
  // Appending (not "t" + to_string) sidesteps g++ 12's false -Wrestrict on operator+(const char*, string&&).
  std::string s = "t";
  s += std::to_string(i);
  return s;
}

// The runtime's feature set, as the generator asks it. A step whose features the runtime lacks is replaced
// by a plainer one (a log or a sleep) after the same draws, so a runtime that supports everything gets the
// same programs as before this existed.
using feature_test = std::function<bool(const std::string&)>;
bool can_all(const feature_test& can, std::initializer_list<const char*> features) {
  for (const char* f : features)
    if (!can(f)) return false;
  return true;
}

json worker(rng& r, int i, int ntasks, const feature_test& can) {
  json body = json::array();
  int n = 1 + r.below(5);
  for (int k = 0; k < n; ++k) {
    std::string tag = tname(i) + "." + std::to_string(k);
    int choice = r.below(6);
    if ((choice == 3 && !can_all(can, {"op:try", "op:raise", "op:sleep"})) ||
        (choice == 4 && !can_all(can, {"op:try", "op:await", "await:task"})) ||
        (choice == 5 && !can_all(can, {"op:call", "self", "call:task.cancelling"})))
      choice = 0;
    switch (choice) {
      case 0: body.push_back(log_step(tag)); break;
      case 1: body.push_back(sleep_step(r.below(60))); break;
      case 2: body.push_back({{"op", "yield"}}); break;
      case 3: {
        json handler = json::array({log_step(tag + " caught cancel")});
        if (r.chance(60)) handler.push_back({{"op", "raise"}});
        else if (r.chance(50)) handler.push_back(sleep_step(r.below(20)));
        body.push_back({{"op", "try"},
                        {"body", json::array({sleep_step(1 + r.below(80))})},
                        {"except", json::array({{{"kind", "CancelledError"}, {"body", handler}}})}});
        break;
      }
      case 4:
        if (i + 1 < ntasks) {  // only later tasks: no cycles, no deadlock
          body.push_back(try_any(json::array({{{"op", "await"}, {"target", tname(i + 1 + r.below(ntasks - i - 1))}}})));
        } else {
          body.push_back(log_step(tag));
        }
        break;
      default:
        body.push_back({{"op", "call"}, {"target", "self"}, {"method", "cancelling"}});
    }
  }
  if (r.chance(20) && can_all(can, {"op:raise", "raise:value_error"}))
    body.push_back({{"op", "raise"}, {"kind", "ValueError"}, {"msg", "e" + std::to_string(i)}});
  else body.push_back({{"op", "return"}, {"value", "r" + std::to_string(i)}});
  return body;
}

json subset(rng& r, int ntasks) {
  json items = json::array();
  for (int i = 0; i < ntasks; ++i)
    if (r.chance(60)) items.push_back(tname(i));
  if (items.empty()) items.push_back(tname(r.below(ntasks)));
  return items;
}

json main_action(rng& r, int ntasks, int& ngather, const feature_test& can) {
  std::string t = tname(r.below(ntasks));
  int choice = r.below(10);
  const bool can_await = can_all(can, {"op:try", "op:await", "await:task"});
  if ((choice == 2 && !can_all(can, {"op:call", "call:task.cancel"})) ||
      (choice == 3 && !can_all(can, {"op:call", "call:task.done", "call:task.cancelled", "call:task.cancelling"})) ||
      (choice == 4 && !can_await) ||
      (choice == 5 && !(can_await && can_all(can, {"op:gather", "arg:task", "await:gather", "gather:return_exceptions"}))) ||
      (choice == 6 && !can_all(can, {"op:wait", "arg:task", "wait:all_completed", "wait:first_completed",
                                     "wait:first_exception", "wait:timeout"})) ||
      (choice == 7 && !can_all(can, {"op:try", "op:wait_for", "arg:task"})) ||
      (choice == 8 && !(can_await && can("op:timeout"))) ||
      (choice == 9 && !(can_await && can_all(can, {"op:shield", "arg:task", "await:shield"}))))
    choice = 0;
  switch (choice) {
    case 0: return sleep_step(r.below(50));
    case 1: return {{"op", "yield"}};
    case 2: {
      json c = {{"op", "call"}, {"target", t}, {"method", "cancel"}};
      if (r.chance(40)) c["args"] = json::array({"m" + std::to_string(r.below(9))});
      return c;
    }
    case 3: {
      static const char* const probes[] = {"done", "cancelled", "cancelling"};
      return {{"op", "call"}, {"target", t}, {"method", probes[r.below(3)]}};
    }
    case 4: return try_any(json::array({{{"op", "await"}, {"target", t}}}));
    case 5: {
      std::string g = "g" + std::to_string(ngather++);
      json items = subset(r, ntasks);
      return try_any(json::array({{{"op", "gather"}, {"name", g}, {"items", items}, {"return_exceptions", r.chance(50)}},
                                  {{"op", "await"}, {"target", g}}}));
    }
    case 6: {
      static const char* const rw[] = {"ALL_COMPLETED", "FIRST_COMPLETED", "FIRST_EXCEPTION"};
      json w = {{"op", "wait"}, {"items", subset(r, ntasks)}, {"return_when", rw[r.below(3)]}};
      if (r.chance(50)) w["timeout_ms"] = r.below(60);
      return w;
    }
    case 7:
      return try_any(json::array({{{"op", "wait_for"}, {"target", t}, {"timeout_ms", r.below(60)}}}));
    case 8:
      return try_any(json::array({{{"op", "timeout"},
                                   {"ms", r.below(60)},
                                   {"body", json::array({{{"op", "await"}, {"target", t}}})}}}));
    default: {
      std::string g = "s" + std::to_string(ngather++);
      return try_any(json::array({{{"op", "shield"}, {"name", g}, {"target", t}}, {{"op", "await"}, {"target", g}}}));
    }
  }
}

struct oracle_result {
  bool ok = false;
  bool ambiguous = false;
  std::string error;
  std::vector<event> trace;
};

// SIGINT / SIGTERM ask fuzz to stop: it finishes the program at hand, stops the oracle, removes its
// temporary files (their destructors run as it returns) and reports what it checked.
volatile std::sig_atomic_t g_stop_signal = 0;
extern "C" void on_stop_signal(int sig) { g_stop_signal = sig; }

class stop_signals {
public:
  stop_signals() {
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: waiting for the oracle returns early
    ::sigaction(SIGINT, &sa, &old_int_);
    ::sigaction(SIGTERM, &sa, &old_term_);
    g_stop_signal = 0;
  }
  ~stop_signals() {
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::sigaction(SIGTERM, &old_term_, nullptr);
  }
  stop_signals(const stop_signals&) = delete;
  stop_signals& operator=(const stop_signals&) = delete;

private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

struct interrupted {};

// One python process per batch: the oracle reads JSON lines and answers one line per program. Both files
// are private temporary files (support::temp_file: unpredictable names, O_EXCL) that the oracle gets as
// its standard input and output, with no shell in between; they are removed on every way out.
std::vector<oracle_result> oracle_batch(const fuzz_options& o, const std::vector<json>& programs) {
  namespace support = coroscope::support;
  support::temp_file in("coroscope-fuzz-in"), out("coroscope-fuzz-out");
  std::string text;
  for (const auto& p : programs) text += p.dump() + "\n";
  support::write_file(in.path(), text);  // replaces the file: reopen it below, by its path

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, in.path().c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out.fd(), 1);
  std::vector<std::string> args{o.python, o.oracle, "--batch"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = ::posix_spawnp(&pid, o.python.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) throw std::runtime_error("cannot start the oracle " + o.python + ": " + std::strerror(spawned));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw std::runtime_error(std::string("waiting for the oracle: ") + std::strerror(errno));
    if (g_stop_signal) ::kill(pid, SIGTERM);  // then reap it
  }
  if (g_stop_signal) throw interrupted{};
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error("the oracle failed (" + o.python + " " + o.oracle + " --batch " +
                             (WIFEXITED(status) ? "exited with code " + std::to_string(WEXITSTATUS(status))
                                                : "was killed by signal " + std::to_string(WTERMSIG(status))) +
                             ")");
  const std::string answer = support::read_file(out.path(), std::size_t{256} << 20);
  std::vector<oracle_result> results;
  std::istringstream lines(answer);
  for (std::string line; std::getline(lines, line);) {
    const std::string where = "the oracle's answer to program " + std::to_string(results.size());
    json j = support::parse_json(line, where, {limits::max_file_bytes, limits::max_json_depth});
    oracle_result r;
    if (j.contains("error")) {
      r.error = j["error"].is_string() ? j["error"].get<std::string>() : j["error"].dump();
    } else {
      r.ok = true;
      r.ambiguous = j.contains("ambiguous") && j["ambiguous"].is_boolean() && j["ambiguous"].get<bool>();
      r.trace = trace_from_json(j.contains("trace") ? j["trace"] : json(), where);
    }
    results.push_back(std::move(r));
  }
  if (results.size() != programs.size()) throw std::runtime_error("the oracle answered " + std::to_string(results.size()) +
                                                                  " of " + std::to_string(programs.size()) + " programs");
  return results;
}

scenario as_scenario(const json& program, const std::vector<event>& expected) {
  scenario s;
  s.doc = program;
  s.id = program["id"];
  s.group = "FUZZ";
  s.file = s.id;
  s.title = program["title"];
  s.authority = program["authority"];
  s.expected = expected;
  s.features = features_of(program, s.id);
  return s;
}

// diverges: the runtime supports the program and its trace differs from the oracle's.
struct verdict {
  bool ran = false;  // false: the runtime lacks a feature of the program
  bool diverges = false;
  std::vector<event> actual;
  std::string message;
};

verdict check(adapter& a, const json& program, const oracle_result& orc, const run_options& ro) {
  verdict v;
  if (!orc.ok || orc.ambiguous) return v;
  scenario s;
  try {
    s = as_scenario(program, orc.trace);
  } catch (const scenario_error&) {
    return v;
  }
  // Isolated like `run`: a program that crashes or hangs the runtime is a divergence, not the end of fuzzing.
  scenario_result r;
  try {
    r = run_scenario(a, s, ro);
  } catch (const std::runtime_error&) {
    return v;  // a step the interpreter rejects
  }
  if (r.status == "unsupported") return v;
  v.ran = true;
  v.actual = r.actual;
  v.diverges = r.status != "pass";
  v.message = r.status == "crash" || r.status == "timeout" ? r.status + ": " + r.message : r.message;
  return v;
}

// Every program with one step less (in main, in a coroutine body, or in a nested body).
void removals(const json& node, json& root, const json::json_pointer& at, std::vector<json>& out) {
  if (node.is_array()) {
    bool steps = !node.empty() && node[0].is_object() && node[0].contains("op");
    for (std::size_t i = 0; i < node.size(); ++i) {
      if (steps) {
        json copy = root;
        copy[at].erase(i);
        out.push_back(std::move(copy));
      }
      removals(node[i], root, at / i, out);
    }
  } else if (node.is_object()) {
    for (auto& [k, v] : node.items())
      if (k != "expected") removals(v, root, at / k, out);
  }
}

json minimise(adapter& a, const fuzz_options& o, json program, const run_options& ro) {
  for (int round = 0; round < 60 && !g_stop_signal; ++round) {
    std::vector<json> candidates;
    json root = program;
    removals(root, root, json::json_pointer(), candidates);
    if (candidates.empty()) break;
    auto results = oracle_batch(o, candidates);
    bool smaller = false;
    for (std::size_t i = 0; i < candidates.size(); ++i)
      if (check(a, candidates[i], results[i], ro).diverges) {
        program = candidates[i];
        smaller = true;
        break;
      }
    if (!smaller) break;
  }
  return program;
}

}  // namespace

json generate_program(std::uint64_t seed, int index) {
  return generate_program(seed, index, [](const std::string&) { return true; });
}

json generate_program(std::uint64_t seed, int index, const std::function<bool(const std::string&)>& can) {
  rng r(seed * 0x100000001B3ull + static_cast<std::uint64_t>(index));
  int ntasks = 1 + r.below(4);
  json coros = json::object();
  json main = json::array();
  for (int i = 0; i < ntasks; ++i) {
    coros["c" + std::to_string(i)] = worker(r, i, ntasks, can);
    main.push_back({{"op", "create_task"}, {"name", tname(i)}, {"coro", "c" + std::to_string(i)}});
  }
  int ngather = 0;
  int actions = 2 + r.below(7);
  for (int k = 0; k < actions; ++k) main.push_back(main_action(r, ntasks, ngather, can));
  // Finish every task in a fixed order: asyncio.run's shutdown cancels leftovers in set order. Without
  // cancellation, awaiting each is enough: tasks only await later tasks, so every one finishes.
  const bool cancel = can_all(can, {"op:call", "call:task.cancel"});
  for (int i = 0; i < ntasks; ++i) {
    if (cancel) main.push_back({{"op", "call"}, {"target", tname(i)}, {"method", "cancel"}});
    main.push_back(try_any(json::array({{{"op", "await"}, {"target", tname(i)}}})));
  }
  std::string id = "FUZZ-" + std::to_string(seed) + "-" + std::to_string(index);
  return {{"id", id},
          {"group", "FUZZ"},
          {"title", "random program " + std::to_string(index) + " of seed " + std::to_string(seed)},
          {"authority", "tested"},
          {"source", "differential fuzzing against CPython asyncio (coroscope-conform fuzz --seed " +
                         std::to_string(seed) + ")"},
          {"coros", coros},
          {"main", main}};
}

namespace {

void report_divergence(adapter& a, const fuzz_options& o, const run_options& ro, const json& program) {
  json small = minimise(a, o, program, ro);
  auto orc = oracle_batch(o, {small}).front();
  auto sv = check(a, small, orc, ro);
  small["expected"] = {{"python", "oracle"}, {"trace", json::array()}};
  for (const auto& e : orc.trace) small["expected"]["trace"].push_back(to_json(e));
  namespace fs = std::filesystem;
  fs::create_directories(fs::path(o.save_dir) / "FUZZ");
  auto path = fs::path(o.save_dir) / "FUZZ" / (small["id"].get<std::string>() + ".json");
  coroscope::support::write_file(path, small.dump(2) + "\n");
  std::cerr << "DIVERGENCE " << small["id"].get<std::string>() << " on " << a.name() << " (minimised, saved to "
            << path.string() << "): " << sv.message << "\n"
            << small["main"].dump() << "\n"
            << side_by_side(orc.trace, sv.actual) << "\n";
}

}  // namespace

int run_fuzz(adapter& a, const fuzz_options& o, const run_options& ro) {
  const feature_test can = [&a](const std::string& f) { return a.supports(f); };
  stop_signals signals;
  // Programs are generated, answered and checked limits::fuzz_batch at a time: memory does not grow with
  // --count, and a run of a billion goes on until done or interrupted.
  if (o.emit) {
    for (int first = 0; first < o.count && !g_stop_signal; first += limits::fuzz_batch) {
      std::string lines;
      for (int i = first; i < first + std::min(limits::fuzz_batch, o.count - first); ++i)
        lines += generate_program(o.seed, i, can).dump() + "\n";
      coroscope::support::write_stdout(lines);
    }
    return g_stop_signal ? 128 + g_stop_signal : 0;
  }
  std::cerr << "coroscope-fuzz: " << o.count << " programs (seed " << o.seed << ") for " << a.name()
            << " on the oracle\n";
  // `count` programs should run: one the oracle finds ambiguous (equal timer deadlines, an order asyncio
  // leaves undefined) or the runtime cannot run is replaced by the next index, up to 4 x count in all.
  int divergences = 0, ran = 0, ambiguous = 0, unsupported = 0, generated = 0;
  const int budget = static_cast<int>(std::min<long long>(4LL * o.count, INT32_MAX));
  try {
    while (ran < o.count && generated < budget && !g_stop_signal) {
      std::vector<json> programs;
      const int n = std::min(limits::fuzz_batch, o.count - ran);
      for (int k = 0; k < n && generated < budget; ++k) programs.push_back(generate_program(o.seed, generated++, can));
      auto results = oracle_batch(o, programs);
      for (std::size_t i = 0; i < programs.size() && !g_stop_signal; ++i) {
        if (!results[i].ok)
          throw std::runtime_error("generated program " + programs[i]["id"].get<std::string>() +
                                   " is malformed: " + results[i].error);
        if (results[i].ambiguous) {
          ++ambiguous;
          continue;
        }
        auto v = check(a, programs[i], results[i], ro);
        if (!v.ran) {
          ++unsupported;
          continue;
        }
        if (++ran % 100 == 0) std::cerr << "coroscope-fuzz: " << ran << "/" << o.count << " ran\n";
        if (!v.diverges) continue;
        ++divergences;
        report_divergence(a, o, ro, programs[i]);
      }
    }
  } catch (const interrupted&) {
  }
  if (g_stop_signal) std::cerr << "coroscope-fuzz: stopped by signal " << g_stop_signal << "\n";
  std::cerr << "coroscope-fuzz: " << ran << " of " << o.count << " requested programs ran on " << a.name() << " ("
            << generated << " generated: " << ambiguous << " skipped for equal timer deadlines, " << unsupported
            << " unsupported), " << divergences << " divergence(s)\n";
  if (g_stop_signal) return 128 + g_stop_signal;
  if (ran == 0) {
    std::cerr << "coroscope-fuzz: no program ran: " << a.name()
              << " lacks features every generated program needs (see `coroscope-conform runtimes`); nothing was "
                 "compared\n";
    return 1;
  }
  if (ran < o.count)
    std::cerr << "coroscope-fuzz: only " << ran << " of " << o.count << " requested programs ran\n";
  return divergences ? 1 : 0;
}

}  // namespace conform
