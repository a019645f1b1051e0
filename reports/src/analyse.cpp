#include "report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace coroscope::report {

std::optional<cell_value> value_of(const bench_case& c, metric m) {
  if (c.error) return std::nullopt;
  if (auto it = c.counters.find("bytes_per_task"); it != c.counters.end())  // NaN/Infinity: nothing to show
    return std::isfinite(it->second) ? std::optional(cell_value{it->second, true}) : std::nullopt;
  const double v = c.median(m);
  if (!std::isfinite(v)) return std::nullopt;
  return cell_value{v, false};
}

std::optional<double> report_data::ratio_to_floor(const bench_run& run, const std::string& workload) const {
  if (!floor) return std::nullopt;
  const bench_case* base = floor->find(workload);
  const bench_case* mine = run.find(workload);
  if (!base || !mine) return std::nullopt;
  const auto b = value_of(*base, options.compare.which), v = value_of(*mine, options.compare.which);
  if (!b || !v || b->value <= 0) return std::nullopt;
  const double ratio = v->value / b->value;
  return std::isfinite(ratio) && ratio > 0 ? std::optional(ratio) : std::nullopt;  // no ratio of extremes
}

std::optional<double> report_data::instructions_per_op(const std::string& runtime, const std::string& workload) const {
  auto r = instructions.find(runtime);
  if (r == instructions.end()) return std::nullopt;
  auto w = r->second.find(workload);
  if (w == r->second.end()) return std::nullopt;
  return w->second;
}

std::string format_instructions(double per_op) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.0f instr", per_op);
  return buf;
}

report_data analyse(const report_input& input, const report_options& options) {
  report_data d;
  d.input = &input;
  d.options = options;
  d.runs = latest_runs(input.bench);
  std::map<std::string, std::string> instruction_dates;
  for (const auto& r : input.bench) {
    if (!r.instruction_counts || r.date < instruction_dates[r.runtime]) continue;
    instruction_dates[r.runtime] = r.date;
    auto& per_workload = d.instructions[r.runtime];
    per_workload.clear();
    for (const auto& c : r.cases)
      if (auto it = c.counters.find("instructions_per_op"); it != c.counters.end() && std::isfinite(it->second))
        per_workload[c.name] = it->second;
  }
  for (const auto* r : d.runs) {
    if (r->runtime == "floor") d.floor = r;
    for (const auto& c : r->cases) {
      if (std::find(d.workloads.begin(), d.workloads.end(), c.name) == d.workloads.end()) d.workloads.push_back(c.name);
      if (c.error) d.errors.push_back(r->runtime + ": " + c.name + ": " + *c.error);
    }
  }
  for (const auto* r : d.runs)
    for (const auto& [name, why] : r->skipped)
      if (std::find(d.workloads.begin(), d.workloads.end(), name) == d.workloads.end()) d.workloads.push_back(name);

  if (!input.baseline.empty()) d.comparison = compare_runs(input.baseline, input.bench, options.compare);

  auto fails_on = [&](const char* what) { return options.fail_on.count(what) > 0; };
  if (d.comparison) {
    const int regressed = d.comparison->count(verdict::regressed);
    if (regressed > 0 && fails_on("regression"))
      d.reasons.push_back(std::to_string(regressed) + " benchmark(s) regressed");
    if (!d.comparison->missing.empty() && fails_on("missing"))
      d.reasons.push_back(std::to_string(d.comparison->missing.size()) + " baseline benchmark(s) missing");
  }
  int conformance_failures = 0;
  for (const auto& c : input.conformance) conformance_failures += c.failures();
  if (conformance_failures > 0 && fails_on("conformance"))
    d.reasons.push_back(std::to_string(conformance_failures) + " conformance scenario(s) failed");
  std::size_t findings = 0;
  for (const auto& l : input.lint) findings += l.findings.size();
  if (findings > 0 && fails_on("lint")) d.reasons.push_back(std::to_string(findings) + " lint finding(s)");
  if (!d.reasons.empty()) {
    d.status = "fail";
    d.exit_code = 1;
  }
  // An errored benchmark makes the numbers untrustworthy: that is an input problem, not a slowdown.
  if (!d.errors.empty()) {
    d.reasons.insert(d.reasons.begin(), std::to_string(d.errors.size()) + " benchmark(s) errored");
    d.status = "error";
    d.exit_code = 2;
  }
  return d;
}

namespace {
std::string printf_string(const char* fmt, double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, x);
  return buf;
}

// Three significant digits: enough to read a ratio, few enough that noise does not look like signal.
std::string three_digits(double x) {
  if (x >= 100) return printf_string("%.0f", x);
  if (x >= 10) return printf_string("%.1f", x);
  return printf_string("%.2f", x);
}
}  // namespace

std::string format_time(double ns) {
  if (!std::isfinite(ns)) return "n/a";
  if (ns < 1e3) return three_digits(ns) + " ns";
  if (ns < 1e6) return three_digits(ns / 1e3) + " µs";
  if (ns < 1e9) return three_digits(ns / 1e6) + " ms";
  return three_digits(ns / 1e9) + " s";
}

std::string format_bytes(double bytes) {
  if (!std::isfinite(bytes)) return "n/a";
  if (bytes < 1024) return printf_string("%.0f", bytes) + " B";
  return three_digits(bytes / 1024) + " KiB";
}

std::string format_ratio(double ratio) {
  if (!std::isfinite(ratio)) return "n/a";
  return three_digits(ratio) + "×";
}

std::string format_percent(double fraction) { return printf_string("%+.1f%%", fraction * 100); }

std::string format_p(double p) {
  if (p < 0.0001) return "<0.0001";
  return printf_string("%.4f", p);
}

std::string format_number(double x) { return printf_string("%g", x); }

std::vector<std::pair<std::string, std::vector<std::string>>> added_by_runtime(const report_data& data) {
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  if (!data.comparison) return out;
  for (const auto& a : data.comparison->added) {
    if (out.empty() || out.back().first != a.runtime) {
      const bool known = std::any_of(data.input->baseline.begin(), data.input->baseline.end(),
                                     [&](const bench_run& r) { return r.runtime == a.runtime; });
      out.push_back({a.runtime, {}});
      if (!known) continue;
    } else if (out.back().second.empty()) {
      continue;  // runtime without baseline: already summarised
    }
    out.back().second.push_back(a.name);
  }
  return out;
}

std::string html_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string markdown_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '|': out += "\\|"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '*': case '_': case '`': case '[': case ']': case '\\':
        out += '\\';
        out += c;
        break;
      case '\n': case '\r': out += ' '; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace coroscope::report
