// Baseline comparison: a verdict per benchmark from the U test and a minimum effect size.
#pragma once

#include "model.hpp"
#include "stats.hpp"

#include <string>
#include <vector>

namespace coroscope::report {

enum class verdict { improved, regressed, unchanged, inconclusive, error };
const char* to_string(verdict v);

struct compare_options {
  metric which = metric::cpu;
  double alpha = 0.05;       // significance level of the two-sided U test
  double min_effect = 0.05;  // relative change of the median below which nothing is called a change
};

struct comparison {
  std::string runtime, name;
  verdict outcome = verdict::inconclusive;
  double baseline_ns = 0, current_ns = 0;  // medians
  double change = 0;                       // current / baseline - 1: positive is slower
  u_test test;
  int n_baseline = 0, n_current = 0;
  std::string note;  // why, in words
};

struct unmatched {
  std::string runtime, name;
  std::string maybe_renamed_to;  // a new benchmark of the same family, when exactly one candidate exists
};

struct comparison_set {
  std::vector<comparison> rows;
  std::vector<unmatched> missing;  // in the baseline, not in the current run
  std::vector<unmatched> added;    // in the current run, not in the baseline
  int count(verdict v) const;
};

// One comparison. Public for the unit tests.
comparison compare_case(const bench_case& baseline, const bench_case& current, const compare_options& opt);

// Matches runs by runtime (the latest run of each runtime on either side) and benchmarks by name.
comparison_set compare_runs(const std::vector<bench_run>& baseline, const std::vector<bench_run>& current,
                            const compare_options& opt);

// The latest run of each runtime (by context.date, then by the order given), in a stable runtime order:
// floor first, then coroscope, asio, asyncio, uvloop, then the rest by name.
std::vector<const bench_run*> latest_runs(const std::vector<bench_run>& runs);
int runtime_rank(const std::string& runtime);

}  // namespace coroscope::report
