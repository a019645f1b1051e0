// The coroscope-conform command line (conform::main): runs the asyncio conformance scenarios against
// coroutine runtimes. Every flag is parsed here, once, for coroscope-conform and for every third-party
// runner built on conform::main.
#include <conform/fuzz.hpp>
#include <conform/main.hpp>
#include <conform/report.hpp>

#include <unistd.h>

#include <coroscope/support/files.hpp>
#include <coroscope/support/json.hpp>

#include <charconv>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

namespace conform {
namespace {

const char* const k_help = R"(coroscope-conform: asyncio conformance for coroutine runtimes

usage:
  coroscope-conform list [--scenarios DIR] [--filter GLOB]
  coroscope-conform runtimes
  coroscope-conform features
  coroscope-conform run --runtime NAME[,NAME...] [--filter GLOB] [--format text|json|junit|markdown]
                        [--out FILE] [--scenarios DIR] [--time-scale X] [--expect FILE] [--write-expect FILE]
                        [--time-limit MS] [--memory-limit MB] [--no-isolation]
  coroscope-conform fuzz --seed S --count N [--runtime NAME] [--save DIR] [--python PATH] [--oracle PATH] [--emit]
                         [--time-limit MS] [--memory-limit MB] [--no-isolation]
  coroscope-conform --help

commands:
  list       print every scenario: id, group, authority, title
  features   print every feature name a scenario can need, with its meaning
  runtimes   print the runtimes of this executable, with the features each one lacks
  run        run the scenarios on one or more runtimes and report (several runtimes make the Markdown
             report a matrix of scenarios x runtimes)
  fuzz       differential fuzzing: N random well-formed programs from seed S, each run on the CPython
             oracle and on the runtime; divergences are minimised, printed and saved

options:
  --runtime NAME[,NAME]  runtimes to run (see `runtimes`); fuzz uses one (default: reference)
  --filter GLOB          only scenarios whose id matches (e.g. 'CAN-*', 'TMO-00?'); default all
  --format F             text (default), json, junit or markdown
  --out FILE             write the report to FILE instead of standard output (written whole or not at
                         all; never over a scenario file or the --expect file)
  --scenarios DIR        the scenario tree (default: share/coroscope/scenarios of the installed kit)
  --time-scale X         real-time runtimes: wall-clock ms per scenario ms (default 2; greater than 0, at
                         most 1000)
  --expect FILE          compare each scenario's status with FILE ({"ID": "STATUS"}, STATUS one of pass,
                         fail, unsupported, note, crash, timeout; an ID not in FILE must pass);
                         exit 0 if all match (known failures of a third-party runtime), 1 otherwise
  --write-expect FILE    write the statuses of this run (one runtime) in --expect's format
  --time-limit MS        wall-clock limit of one scenario (default 10000); past it the scenario is killed
                         and reported "timeout"
  --memory-limit MB      address-space limit of one scenario in MiB (default 2048, 0: none; not applied
                         under ASan/TSan); an allocation failing under it reports "crash"
  --no-isolation         run the scenarios in this process, not in forked worker processes (for a
                         debugger; a crash or hang then ends the run)
  --seed S, --count N    fuzz: the generator's seed (0 to 2^64-1) and the number of programs that must run
                         (1 to 2^31-1, e.g. 1e9; drawn from the runtime's features; ambiguous or
                         unsupported ones are replaced, up to 4N). Programs go 100 at a time: memory does
                         not grow with N; SIGINT/SIGTERM stop the run with its summary (exit 128+signal)
  --save DIR             fuzz: where minimised divergences are written (default: fuzz-divergences)
  --python PATH          fuzz: the python3 that runs the oracle (default: python3, or the one found at build time)
  --oracle PATH          fuzz: oracle.py (default: share/coroscope/oracle/oracle.py of the installed kit)
  --emit                 fuzz: print the generated programs as JSON lines (the oracle's --batch input)

statuses: pass; fail (the trace differs); note (an observed-only or version-specific scenario differs);
unsupported (needs a feature the runtime lacks; not run); crash (a signal, the memory limit, an exception
out of the adapter); timeout (no result within --time-limit). Scenarios run in forked worker processes,
so a crash or a hang is that scenario's status and the run goes on.

exit codes: 0 every required scenario passed (unsupported and notes are not failures), 1 a fail, crash,
timeout or divergence (or a fuzz run in which no program ran), 2 usage error or bad scenario file (the
message names the file and the field) or an output that cannot be written. Limits (conformance/README.md):
a scenario file of at most 4 MiB, JSON nested at most 100 deep, 10000 steps, coroutines started at most
100 deep and never recursively, at most 100000 steps executed, time values within +-10 hours: beyond
them the file is refused (exit 2). A run past its step or trace budget fails (exit 1).
)";

struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct options {
  std::string command;
  std::string runtimes = "reference";
  std::string filter = "*";
  std::string format = "text";
  std::string out;
  std::string scenarios;  // empty: the default data directory's
  std::string expect, write_expect;
  run_options run;
  fuzz_options fuzz;
};

// A finite number (std::stod alone takes "nan", "inf" and leading blanks).
double number(const std::string& flag, const std::string& v) {
  double d = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size() || !std::isfinite(d))
    throw usage_error(flag + " expects a finite number, got \"" + v + "\"");
  return d;
}

// A whole number in [lo, hi], written as digits or as a number such as 1e9.
std::uint64_t whole(const std::string& flag, const std::string& v, std::uint64_t lo, std::uint64_t hi) {
  auto bad = [&] {
    return usage_error(flag + " must be a whole number from " + std::to_string(lo) + " to " + std::to_string(hi) +
                       ", got \"" + v + "\"");
  };
  const char* const first = v.data();
  const char* const last = v.data() + v.size();
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(first, last, n);
  if (v.empty() || ec == std::errc::result_out_of_range) throw bad();
  if (ec != std::errc() || end != last) {
    double d = 0;
    auto [dend, dec] = std::from_chars(first, last, d);
    // Below 2^63: exactly representable as a whole number of that size.
    if (dec != std::errc() || dend != last || !std::isfinite(d) || d != std::floor(d) || d < 0 || d >= 9.2e18)
      throw bad();
    n = static_cast<std::uint64_t>(d);
  }
  if (n < lo || n > hi) throw bad();
  return n;
}

// The scenarios and the oracle: <exe>/../share/coroscope when this executable is installed next to the
// kit's data; else the directory named by <exe dir>/coroscope-conform-data (coroscope's build tree writes it
// next to its runners, pointing at the source tree); else the caller's default (the installed package's).
std::string data_dir(const main_defaults& d) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    fs::path installed = exe.parent_path().parent_path() / "share" / "coroscope";
    if (fs::is_directory(installed / "scenarios", ec)) return installed.string();
    std::ifstream marker(exe.parent_path() / "coroscope-conform-data");
    std::string line;
    if (marker && std::getline(marker, line) && fs::is_directory(fs::path(line) / "scenarios", ec)) return line;
  }
  return d.data_dir;
}

options parse(int argc, char** argv, const main_defaults& defaults) {
  options o;
  const std::string data = data_dir(defaults);
  o.fuzz.python = defaults.python.empty() ? "python3" : defaults.python;
  o.fuzz.oracle = data.empty() ? std::string() : data + "/oracle/oracle.py";
  if (argc < 2) throw usage_error("missing command");
  o.command = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw usage_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--runtime") o.runtimes = value();
    else if (a == "--filter") o.filter = value();
    else if (a == "--format") o.format = value();
    else if (a == "--out") o.out = value();
    else if (a == "--scenarios") o.scenarios = value();
    else if (a == "--time-scale") o.run.time_scale = number(a, value());
    else if (a == "--time-limit") o.run.time_limit_ms = number(a, value());
    else if (a == "--memory-limit") {
      double mb = number(a, value());
      if (mb < 0 || mb != static_cast<double>(static_cast<std::size_t>(mb)))
        throw usage_error("--memory-limit expects a whole number of MiB (0: none)");
      o.run.memory_limit_mb = static_cast<std::size_t>(mb);
    } else if (a == "--no-isolation") o.run.isolate = false;
    else if (a == "--expect") o.expect = value();
    else if (a == "--write-expect") o.write_expect = value();
    else if (a == "--seed") o.fuzz.seed = whole(a, value(), 0, UINT64_MAX);
    else if (a == "--count") o.fuzz.count = static_cast<int>(whole(a, value(), 1, INT32_MAX));
    else if (a == "--save") o.fuzz.save_dir = value();
    else if (a == "--python") o.fuzz.python = value();
    else if (a == "--oracle") o.fuzz.oracle = value();
    else if (a == "--emit") o.fuzz.emit = true;
    else throw usage_error("unknown option " + a);
  }
  if (o.format != "text" && o.format != "json" && o.format != "junit" && o.format != "markdown")
    throw usage_error("--format must be text, json, junit or markdown");
  if (!(o.run.time_scale > 0 && o.run.time_scale <= limits::max_time_scale))
    throw usage_error("--time-scale must be greater than 0 and at most " +
                      std::to_string(static_cast<int>(limits::max_time_scale)) + " (limits::max_time_scale)");
  if (o.run.time_limit_ms <= 0) throw usage_error("--time-limit must be positive");
  if (o.scenarios.empty() && !data.empty()) o.scenarios = data + "/scenarios";
  return o;
}

std::vector<scenario> scenarios_of(const options& o) {
  if (o.scenarios.empty())
    throw usage_error("this executable knows no scenario directory: pass --scenarios DIR");
  return load_scenarios(o.scenarios);
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string part; std::getline(in, part, ',');)
    if (!part.empty()) out.push_back(part);
  return out;
}

adapter& find_adapter(std::vector<std::unique_ptr<adapter>>& all, const std::string& name) {
  for (auto& a : all)
    if (a->name() == name) return *a;
  std::string known;
  for (auto& a : all) known += (known.empty() ? "" : ", ") + a->name();
  throw usage_error("unknown runtime \"" + name + "\" (known: " + known + ")");
}

// Written whole or not at all (support::write_file); a failed write is an error.
void write_to(const std::string& path, const std::string& text) {
  if (path.empty()) return coroscope::support::write_stdout(text);
  auto parent = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);  // e.g. reports/out/
  coroscope::support::write_file(path, text);
}

void write_output(const options& o, const std::string& text) { write_to(o.out, text); }

// The --expect file, checked before anything runs (within the limits of a scenario file).
json read_expectations(const options& o) {
  json expected = coroscope::support::read_json_file(o.expect, {limits::max_file_bytes, limits::max_json_depth});
  if (!expected.is_object()) throw usage_error(o.expect + ": must be an object {\"ID\": \"status\", ...}");
  for (const auto& [id, st] : expected.items()) {
    std::string known;
    for (const auto& k : all_statuses()) known += (known.empty() ? "" : ", ") + k;
    if (!st.is_string() ||
        std::find(all_statuses().begin(), all_statuses().end(), st.get<std::string>()) == all_statuses().end())
      throw usage_error(o.expect + ": field " + id + ": " + st.dump() + " is not a status (" + known + ")");
  }
  return expected;
}

int check_expectations(const options& o, const json& expected, const std::vector<runtime_result>& runs) {
  int mismatches = 0;
  for (const auto& run : runs)
    for (const auto& r : run.results) {
      std::string want = expected.value(r.s->id, std::string("pass"));
      if (want != r.status) {
        std::cerr << "status of " << run.runtime << " " << r.s->id << " is " << r.status << ", " << o.expect
                  << " says " << want << (r.message.empty() ? "" : ": " + r.message) << "\n";
        ++mismatches;
      }
    }
  std::cerr << "coroscope-conform: " << mismatches << " status(es) differ from " << o.expect << "\n";
  return mismatches ? 1 : 0;
}

int cmd_run(const options& o, std::vector<std::unique_ptr<adapter>>& all) {
  std::vector<adapter*> chosen;
  for (const auto& n : split(o.runtimes)) chosen.push_back(&find_adapter(all, n));
  if (chosen.empty()) throw usage_error("--runtime names no runtime");
  auto scenarios = scenarios_of(o);
  // Everything is read and every output checked before anything runs: a run never ends in a refused write,
  // and never overwrites what it reads.
  json expected = o.expect.empty() ? json() : read_expectations(o);
  if (!o.write_expect.empty() && chosen.size() != 1) throw usage_error("--write-expect needs exactly one runtime");
  std::vector<std::filesystem::path> inputs;
  for (const auto& s : scenarios) inputs.push_back(s.file);
  if (!o.expect.empty()) inputs.push_back(o.expect);
  for (const auto& out : {o.out, o.write_expect})
    if (!out.empty()) coroscope::support::refuse_output_over_inputs(out, inputs);
  std::vector<const scenario*> selected;
  for (const auto& s : scenarios)
    if (glob_match(o.filter, s.id)) selected.push_back(&s);
  if (selected.empty()) throw usage_error("--filter " + o.filter + " matches no scenario");
  std::vector<runtime_result> runs;
  for (auto* a : chosen) {
    std::cerr << "coroscope-conform: running " << selected.size() << " scenarios on " << a->name() << "\n";
    runtime_result rr{a->name(), a->description(), {}};
    scenario_runner runner(*a, o.run, selected);
    for (std::size_t i = 0; i < selected.size(); ++i) rr.results.push_back(runner.run(i));
    runs.push_back(std::move(rr));
  }
  if (o.format == "json") write_output(o, report_json(runs).dump(2) + "\n");
  else if (o.format == "junit") write_output(o, report_junit(runs));
  else if (o.format == "markdown") write_output(o, report_markdown(runs));
  else write_output(o, report_text(runs));
  // The side-by-side failures and the summary always reach a human, whatever the report format.
  if (o.format != "text" || !o.out.empty()) std::cerr << report_text(runs);
  if (!o.write_expect.empty()) {
    json statuses = json::object();
    for (const auto& r : runs[0].results) statuses[r.s->id] = r.status;
    write_to(o.write_expect, statuses.dump(2) + "\n");
  }
  if (!o.expect.empty()) return check_expectations(o, expected, runs);
  for (const auto& run : runs)
    for (const auto& r : run.results)
      if (is_failure(r.status)) return 1;
  return 0;
}

int cmd_list(const options& o) {
  for (const auto& s : scenarios_of(o))
    if (glob_match(o.filter, s.id))
      std::cout << s.id << "\t" << s.group << "\t" << s.authority << (s.version_specific() ? ",VER" : "") << "\t"
                << s.title << "\n";
  return 0;
}

int cmd_features() {
  for (const auto& f : feature_catalogue()) std::cout << f.name << "\t" << f.meaning << "\n";
  return 0;
}

int cmd_runtimes(const std::vector<std::unique_ptr<adapter>>& all) {
  for (const auto& a : all) {
    std::vector<std::string> lacks;
    for (const auto& f : feature_catalogue())
      if (!a->supports(f.name)) lacks.push_back(f.name);
    std::cout << a->name() << "\t" << a->description() << "\n";
    if (lacks.empty()) {
      std::cout << "  supports all " << feature_catalogue().size() << " features\n";
      continue;
    }
    std::cout << "  lacks " << lacks.size() << " of " << feature_catalogue().size() << " features:";
    for (const auto& f : lacks) std::cout << " " << f;
    std::cout << "\n";
  }
  return 0;
}

}  // namespace

int main_with_defaults(int argc, char** argv, std::vector<std::unique_ptr<adapter>> extra,
                       const main_defaults& defaults) {
  try {
    if (argc >= 2 && (std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h" ||
                      std::string(argv[1]) == "help")) {
      std::cout << k_help;
      return 0;
    }
    std::vector<std::unique_ptr<adapter>> all;
    all.push_back(make_reference_adapter());
    for (auto& a : extra) {
      if (!a) throw usage_error("an extra adapter is null");
      for (const auto& b : all)
        if (b->name() == a->name()) throw usage_error("two adapters are named \"" + a->name() + "\"");
      all.push_back(std::move(a));
    }
    options o = parse(argc, argv, defaults);
    // list and runtimes print with std::cout: a failed write must not pass for success.
    auto flushed = [](int code) {
      std::cout.flush();
      if (!std::cout) throw coroscope::support::io_error("standard output: cannot write");
      return code;
    };
    if (o.command == "run") return flushed(cmd_run(o, all));
    if (o.command == "list") return flushed(cmd_list(o));
    if (o.command == "runtimes") return flushed(cmd_runtimes(all));
    if (o.command == "features") return flushed(cmd_features());
    if (o.command == "fuzz") {
      auto names = split(o.runtimes);
      if (names.size() != 1) throw usage_error("fuzz takes one --runtime");
      if (o.fuzz.count <= 0) throw usage_error("fuzz needs --count N (N > 0)");
      if (o.fuzz.oracle.empty() && !o.fuzz.emit)
        throw usage_error("this executable knows no oracle: pass --oracle PATH/oracle.py");
      return run_fuzz(find_adapter(all, names[0]), o.fuzz, o.run);
    }
    throw usage_error("unknown command \"" + o.command + "\"");
  } catch (const usage_error& e) {
    std::cerr << "coroscope-conform: " << e.what() << "\n(see coroscope-conform --help)\n";
    return 2;
  } catch (const scenario_error& e) {
    std::cerr << "coroscope-conform: bad scenario: " << e.what() << "\n";
    return 2;
  } catch (const coroscope::support::input_error& e) {
    std::cerr << "coroscope-conform: bad input: " << e.what() << "\n";
    return 2;
  } catch (const json::exception& e) {
    // Every input is validated before use: reaching this is a defect of coroscope-conform.
    std::cerr << "coroscope-conform: internal error (please report it with the input): " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "coroscope-conform: " << e.what() << "\n";
    return 2;
  }
}

}  // namespace conform
