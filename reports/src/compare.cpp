#include "compare.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <map>

namespace coroscope::report {
namespace {

std::string percent(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.1f%%", x * 100);
  return buf;
}

std::string fixed(double x, int digits) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, x);
  return buf;
}

// The smallest number of repetitions a side at which the exact test can reach alpha.
int repetitions_needed(double alpha) {
  for (int n = 2; n < 100; ++n)
    if (smallest_exact_p(n, n) < alpha) return n;
  return 100;
}

std::string family_of(const std::string& name) { return name.substr(0, name.find('/')); }

}  // namespace

const char* to_string(verdict v) {
  switch (v) {
    case verdict::improved: return "improved";
    case verdict::regressed: return "regressed";
    case verdict::unchanged: return "unchanged";
    case verdict::inconclusive: return "inconclusive";
    case verdict::error: return "error";
  }
  return "?";
}

int comparison_set::count(verdict v) const {
  return static_cast<int>(std::count_if(rows.begin(), rows.end(), [v](const comparison& c) { return c.outcome == v; }));
}

comparison compare_case(const bench_case& baseline, const bench_case& current, const compare_options& opt) {
  comparison c;
  c.name = current.name;
  if (baseline.error || current.error) {
    c.outcome = verdict::error;
    c.note = current.error ? "current run errored: " + *current.error : "baseline errored: " + *baseline.error;
    return c;
  }
  const auto& a = baseline.samples(opt.which);
  const auto& b = current.samples(opt.which);
  c.n_baseline = static_cast<int>(a.size());
  c.n_current = static_cast<int>(b.size());
  c.baseline_ns = baseline.median(opt.which);
  c.current_ns = current.median(opt.which);
  c.change = c.baseline_ns > 0 ? c.current_ns / c.baseline_ns - 1 : 0;
  c.test = mann_whitney(a, b);
  const bool big = std::abs(c.change) >= opt.min_effect;

  if (c.test.smallest_p >= opt.alpha) {
    c.outcome = verdict::inconclusive;
    const int need = repetitions_needed(opt.alpha);
    c.note = "too few repetitions (" + std::to_string(c.n_baseline) + " vs " + std::to_string(c.n_current) +
             "): the U test cannot reach p < " + fixed(opt.alpha, 2) + " below " + std::to_string(need) +
             " a side; run with --benchmark_repetitions=9";
    if (baseline.aggregates_only || current.aggregates_only)
      c.note += " and without --benchmark_report_aggregates_only";
    return c;
  }
  const std::string stats = "median " + percent(c.change) + ", p = " + fixed(c.test.p, 4);
  if (c.test.p < opt.alpha) {
    if (!big) {
      c.outcome = verdict::unchanged;
      c.note = stats + ": significant but below the " + fixed(opt.min_effect * 100, 0) + "% minimum effect";
    } else {
      c.outcome = c.change > 0 ? verdict::regressed : verdict::improved;
      c.note = stats;
    }
  } else if (!big) {
    c.outcome = verdict::unchanged;
    c.note = stats;
  } else {
    c.outcome = verdict::inconclusive;
    c.note = stats + ": a large change that the repetitions do not confirm (noisy); rerun with more repetitions";
  }
  return c;
}

int runtime_rank(const std::string& runtime) {
  static constexpr std::array<const char*, 5> order = {"floor", "coroscope", "asio", "asyncio", "uvloop"};
  for (std::size_t i = 0; i < order.size(); ++i)
    if (runtime == order[i]) return static_cast<int>(i);
  return static_cast<int>(order.size());
}

std::vector<const bench_run*> latest_runs(const std::vector<bench_run>& runs) {
  std::map<std::string, const bench_run*> latest;
  for (const auto& r : runs) {
    if (r.instruction_counts) continue;
    auto& slot = latest[r.runtime];
    if (!slot || r.date >= slot->date) slot = &r;  // ties: the later argument wins
  }
  std::vector<const bench_run*> out;
  for (const auto& [name, run] : latest) out.push_back(run);
  std::stable_sort(out.begin(), out.end(), [](const bench_run* x, const bench_run* y) {
    const int rx = runtime_rank(x->runtime), ry = runtime_rank(y->runtime);
    return rx != ry ? rx < ry : x->runtime < y->runtime;
  });
  return out;
}

comparison_set compare_runs(const std::vector<bench_run>& baseline, const std::vector<bench_run>& current,
                            const compare_options& opt) {
  comparison_set set;
  const auto base_runs = latest_runs(baseline);
  const auto cur_runs = latest_runs(current);
  auto find_run = [](const std::vector<const bench_run*>& runs, const std::string& runtime) -> const bench_run* {
    for (const auto* r : runs)
      if (r->runtime == runtime) return r;
    return nullptr;
  };
  for (const auto* cur : cur_runs) {
    const bench_run* base = find_run(base_runs, cur->runtime);
    for (const auto& c : cur->cases) {
      const bench_case* b = base ? base->find(c.name) : nullptr;
      if (!b) {
        if (c.error) {  // an errored benchmark is never silently "new"
          comparison row;
          row.runtime = cur->runtime;
          row.name = c.name;
          row.outcome = verdict::error;
          row.note = "current run errored: " + *c.error;
          set.rows.push_back(std::move(row));
        } else {
          set.added.push_back({cur->runtime, c.name, {}});
        }
        continue;
      }
      comparison row = compare_case(*b, c, opt);
      row.runtime = cur->runtime;
      set.rows.push_back(std::move(row));
    }
  }
  for (const auto* base : base_runs) {
    const bench_run* cur = find_run(cur_runs, base->runtime);
    for (const auto& b : base->cases) {
      if (cur && cur->find(b.name)) continue;
      set.missing.push_back({base->runtime, b.name, {}});
    }
  }
  // A missing and an added benchmark of the same runtime and family, one each, are probably a rename.
  for (auto& m : set.missing) {
    const unmatched* candidate = nullptr;
    int candidates = 0, siblings = 0;
    for (const auto& a : set.added)
      if (a.runtime == m.runtime && family_of(a.name) == family_of(m.name)) { candidate = &a; ++candidates; }
    for (const auto& other : set.missing)
      if (other.runtime == m.runtime && family_of(other.name) == family_of(m.name)) ++siblings;
    if (candidates == 1 && siblings == 1) m.maybe_renamed_to = candidate->name;
  }
  return set;
}

}  // namespace coroscope::report
