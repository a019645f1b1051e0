// Everything one report shows, computed once and rendered three ways (Markdown, HTML, verdict JSON).
#pragma once

#include "compare.hpp"
#include "model.hpp"

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace coroscope::report {

struct report_options {
  std::string title = "coroscope report";
  compare_options compare;
  // What turns the verdict into a failure (exit 1): "regression", "conformance", "lint", "missing".
  std::set<std::string> fail_on = {"regression", "conformance"};
  std::size_t markdown_limit = 65536;  // GitHub's step summary and PR comment limit, in characters
};

struct report_input {
  std::vector<bench_run> bench;     // several runs of one runtime form its history
  std::vector<bench_run> baseline;  // compared against when not empty
  std::vector<conformance_run> conformance;
  std::vector<lint_run> lint;
};

// What a benchmark row shows: a time, or a size when the benchmark reports bytes per task.
struct cell_value {
  double value = 0;
  bool bytes = false;
};
std::optional<cell_value> value_of(const bench_case& c, metric m);

struct report_data {
  const report_input* input = nullptr;
  report_options options;
  std::vector<const bench_run*> runs;  // latest run of each runtime, in display order
  std::vector<std::string> workloads;  // every benchmark name, catalogue order
  const bench_run* floor = nullptr;    // the run named "floor", if any
  std::optional<comparison_set> comparison;
  std::vector<std::string> errors;      // "runtime: benchmark: message"
  std::vector<std::string> reasons;     // why the verdict is not "pass"
  std::string status = "pass";          // pass | fail | error
  int exit_code = 0;

  // value / floor's value for the same workload, when both exist.
  std::optional<double> ratio_to_floor(const bench_run& run, const std::string& workload) const;
};

report_data analyse(const report_input& input, const report_options& options);

std::string render_markdown(const report_data& data);
// Only the comparison section (what `compare` prints on stdout).
std::string render_comparison_markdown(const report_data& data, std::size_t max_rows);
std::string render_html(const report_data& data);
std::string render_verdict_json(const report_data& data);

// Text helpers shared by the renderers.
std::string format_time(double ns);
std::string format_bytes(double bytes);
std::string format_ratio(double ratio);
std::string format_percent(double fraction);
std::string format_p(double p);
std::string format_number(double x);  // shortest form: 0.05, 12, 1e-06

// Benchmarks new in this run, by runtime in display order; an empty list means the baseline has no run of
// that runtime at all (so listing every name would only be noise).
std::vector<std::pair<std::string, std::vector<std::string>>> added_by_runtime(const report_data& data);
std::string html_escape(const std::string& s);
std::string markdown_escape(const std::string& s);

}  // namespace coroscope::report
