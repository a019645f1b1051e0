// What the report is made of: benchmark runs, conformance runs and lint findings, read from files.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace coroscope::report {

enum class metric { cpu, real };

// One benchmark (a Google Benchmark run_name) of one run, with a sample per repetition.
struct bench_case {
  std::string name;
  std::vector<double> cpu_ns;
  std::vector<double> real_ns;
  std::map<std::string, double> counters;  // mean over repetitions
  std::int64_t iterations = 0;             // of the first repetition
  bool aggregates_only = false;            // only mean/median were written: one sample, no test possible
  std::optional<std::string> error;

  const std::vector<double>& samples(metric m) const { return m == metric::cpu ? cpu_ns : real_ns; }
  double median(metric m) const;
};

// One Google Benchmark JSON file: one runtime, one point in time.
struct bench_run {
  std::string file;
  std::string runtime;  // context.runtime, else the file name without directory and extension
  std::string date;     // context.date
  std::map<std::string, std::string> context;  // scalar context entries, printed as text
  std::vector<bench_case> cases;               // in file order
  std::map<std::string, std::string> skipped;  // workload name -> why this runtime does not run it
  // context.mode "instructions" (benchmarks/run.sh instructions): counters only, no times. Shown beside
  // the same runtime's times, never compared or charted as a run of its own.
  bool instruction_counts = false;

  const bench_case* find(const std::string& name) const;
};

bench_run parse_bench_json(const std::string& file);
// Parses from text already read (tests use it); `file` names the source in errors.
bench_run parse_bench_text(const std::string& text, const std::string& file);

// Conformance: one scenario per row. One runtime per document (version 1):
//   {"version":1, "runtime":"coroscope",
//    "scenarios":[{"id":"T-3","group":"tasks","status":"pass|fail|unsupported|note",
//                  "expected":<any>,"actual":<any>,"duration":<seconds>,"message":"..."}],
//    "summary":{"pass":n,"fail":n,"unsupported":n,"note":n}}
// or several, as coroscope-conform --format json writes them (schema 1):
//   {"tool":"coroscope-conform","schema":1,"runs":[{"runtime":..., "scenarios":[...], "summary":{...}}]}
struct scenario {
  std::string id, group, status, expected, actual, message;
  double duration = 0;
};

struct conformance_run {
  std::string file;
  std::string runtime;
  std::vector<scenario> scenarios;
  std::map<std::string, int> counts;  // status -> number of scenarios
  int failures() const;
};

std::vector<conformance_run> parse_conformance_json(const std::string& file);
std::vector<conformance_run> parse_conformance_text(const std::string& text, const std::string& file);

// Lint findings, from coroscope-lint JSON (version 1) or SARIF 2.1.0:
//   {"version":1,"findings":[{"rule","file","line","column","message","function","callee","category",
//    "notes":[...]}],"summary":{...}}
struct lint_finding {
  std::string rule, file, message, function, callee, category;
  int line = 0, column = 0;
  std::vector<std::string> notes;
};

struct lint_run {
  std::string file;
  std::string tool;    // "coroscope-lint" or the SARIF driver name
  std::string format;  // "json" or "sarif"
  std::vector<lint_finding> findings;
  std::map<std::string, int> by_rule() const;
};

lint_run parse_lint_json(const std::string& file);
lint_run parse_lint_text(const std::string& text, const std::string& file);

}  // namespace coroscope::report
