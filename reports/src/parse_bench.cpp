// Google Benchmark JSON (1.7.x): {"context":{...},"benchmarks":[{...}]}, one entry per repetition
// (run_type "iteration") plus aggregates (run_type "aggregate") when repetitions were asked for.
#include "json_input.hpp"
#include "limits.hpp"
#include "model.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

namespace coroscope::report {
namespace {

double unit_to_ns(const field& entry) {
  const std::string unit = string_or(entry, "time_unit", "ns");
  if (unit == "ns") return 1;
  if (unit == "us") return 1e3;
  if (unit == "ms") return 1e6;
  if (unit == "s") return 1e9;
  entry.at("time_unit").fail("unknown time unit '" + unit + "' (expected ns, us, ms or s)");
}

// A time in nanoseconds; the median aggregate is checked as strictly as each repetition.
double time_ns(const field& entry, const char* key, double scale) {
  const double t = entry.at(key).number() * scale;
  if (!std::isfinite(t) || t < 0) entry.at(key).fail("not a finite, non-negative time");
  return t;
}

// Members of a benchmark entry that are not user counters.
const std::set<std::string, std::less<>> known_keys = {
    "name", "family_index", "per_family_instance_index", "run_name", "run_type", "repetitions",
    "repetition_index", "threads", "iterations", "real_time", "cpu_time", "time_unit", "aggregate_name",
    "aggregate_unit", "error_occurred", "error_message", "label", "big_o", "rms", "complexity"};

// "date=...;a=b" style values are not used; skipped workloads come as "name=reason;name=reason".
std::map<std::string, std::string> parse_skipped(const std::string& value) {
  std::map<std::string, std::string> out;
  std::size_t start = 0;
  while (start < value.size()) {
    std::size_t end = value.find(';', start);
    if (end == std::string::npos) end = value.size();
    const std::string item = value.substr(start, end - start);
    if (const auto eq = item.find('='); eq != std::string::npos) out[item.substr(0, eq)] = item.substr(eq + 1);
    else if (!item.empty()) out[item] = "not implemented for this runtime";
    start = end + 1;
  }
  return out;
}

}  // namespace

double bench_case::median(metric m) const {
  std::vector<double> v = samples(m);
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

const bench_case* bench_run::find(const std::string& name) const {
  for (const auto& c : cases)
    if (c.name == name) return &c;
  return nullptr;
}

namespace {

bench_run parse_bench_doc(const nlohmann::json& doc, const std::string& file) {
  const field root(doc, file);
  root.expect_object();
  bench_run run;
  run.file = file;
  if (root.has("context")) {
    const field ctx = root.at("context");
    ctx.expect_object();
    for (const auto& [key, value] : ctx.json().items())
      if (!value.is_structured()) run.context[key] = ctx.at(key).text();
  }
  run.runtime = run.context.count("runtime") ? run.context["runtime"]
                                             : std::filesystem::path(file).stem().string();
  run.date = run.context.count("date") ? run.context["date"] : "";
  run.instruction_counts = run.context.count("mode") && run.context["mode"] == "instructions";
  if (run.context.count("skipped_workloads")) run.skipped = parse_skipped(run.context["skipped_workloads"]);

  const field list = root.at("benchmarks");
  const std::size_t n = list.size();
  // Aggregates are used only when a benchmark has no per-repetition entries at all.
  std::map<std::string, std::size_t> index;
  std::map<std::string, std::map<std::string, double>> counter_sums;
  std::map<std::string, int> counter_counts;
  auto case_for = [&](const std::string& name) -> bench_case& {
    auto [it, inserted] = index.try_emplace(name, run.cases.size());
    if (inserted) {
      run.cases.emplace_back();
      run.cases.back().name = name;
    }
    return run.cases[it->second];
  };
  for (std::size_t i = 0; i < n; ++i) {
    const field entry = list.at(i);
    entry.expect_object();
    const std::string name = entry.has("run_name") ? entry.at("run_name").string() : entry.at("name").string();
    if (name.empty()) entry.at("name").fail("empty benchmark name");
    const std::string run_type = string_or(entry, "run_type", "iteration");
    bench_case& c = case_for(name);
    if (entry.has("error_occurred") && entry.at("error_occurred").boolean()) {
      c.error = string_or(entry, "error_message", "error (no message)");
      continue;
    }
    if (run_type == "aggregate") {
      if (string_or(entry, "aggregate_name", "") != "median") continue;
      if (!c.cpu_ns.empty() && !c.aggregates_only) continue;
      const double scale = unit_to_ns(entry);
      c.cpu_ns = {time_ns(entry, "cpu_time", scale)};
      c.real_ns = {time_ns(entry, "real_time", scale)};
      c.aggregates_only = true;
      continue;
    }
    if (run_type != "iteration") entry.at("run_type").fail("unknown run_type '" + run_type + "'");
    if (c.aggregates_only) {  // per-repetition entries win over a median seen first
      c.cpu_ns.clear();
      c.real_ns.clear();
      c.aggregates_only = false;
    }
    const double scale = unit_to_ns(entry);
    c.cpu_ns.push_back(time_ns(entry, "cpu_time", scale));
    c.real_ns.push_back(time_ns(entry, "real_time", scale));
    if (c.iterations == 0 && entry.has("iterations")) c.iterations = entry.at("iterations").integer(0, limits::max_iterations);
    for (const auto& [key, value] : entry.json().items()) {
      if (known_keys.count(key) || !(value.is_number() || value.is_string())) continue;
      const field counter = entry.at(key);
      if (value.is_string() && !(value == "N" || value == "Inf+ty" || value == "-Inf+ty")) continue;
      counter_sums[name][key] += counter.number();
    }
    ++counter_counts[name];
  }
  for (auto& c : run.cases) {
    if (!counter_counts.count(c.name)) continue;
    for (const auto& [key, sum] : counter_sums[c.name]) c.counters[key] = sum / counter_counts[c.name];
  }
  return run;
}

}  // namespace

bench_run parse_bench_text(const std::string& text, const std::string& file) {
  return parse_bench_doc(parse_json_text(text, file), file);
}

bench_run parse_bench_json(const std::string& file) { return parse_bench_doc(load_json_file(file), file); }

}  // namespace coroscope::report
