// verdict.json: what a CI step reads to decide, and what the next run may use as its record.
#include "report.hpp"

#include <nlohmann/json.hpp>

namespace coroscope::report {

std::string render_verdict_json(const report_data& d) {
  using nlohmann::json;
  json v;
  v["version"] = 1;
  v["status"] = d.status;
  v["exit_code"] = d.exit_code;
  v["reasons"] = d.reasons;
  v["metric"] = d.options.compare.which == metric::cpu ? "cpu_time" : "real_time";

  json bench;
  bench["runtimes"] = json::array();
  for (const auto* r : d.runs) bench["runtimes"].push_back(r->runtime);
  bench["workloads"] = d.workloads.size();
  bench["errors"] = d.errors;
  if (d.floor) {
    json ratios = json::object();
    for (const auto* r : d.runs) {
      if (r == d.floor) continue;
      for (const auto& w : d.workloads)
        if (auto ratio = d.ratio_to_floor(*r, w)) ratios[r->runtime][w] = *ratio;
    }
    bench["ratio_to_floor"] = ratios;
  }
  v["benchmarks"] = bench;

  if (d.comparison) {
    const auto& set = *d.comparison;
    json cmp;
    cmp["alpha"] = d.options.compare.alpha;
    cmp["min_effect"] = d.options.compare.min_effect;
    for (verdict k : {verdict::regressed, verdict::improved, verdict::unchanged, verdict::inconclusive, verdict::error})
      cmp["counts"][to_string(k)] = set.count(k);
    cmp["results"] = json::array();
    for (const auto& r : set.rows)
      cmp["results"].push_back({{"runtime", r.runtime}, {"name", r.name}, {"verdict", to_string(r.outcome)},
                                {"baseline_ns", r.baseline_ns}, {"current_ns", r.current_ns}, {"change", r.change},
                                {"p", r.test.p}, {"exact", r.test.exact}, {"repetitions", {r.n_baseline, r.n_current}},
                                {"note", r.note}});
    cmp["missing"] = json::array();
    for (const auto& m : set.missing) {
      json item = {{"runtime", m.runtime}, {"name", m.name}};
      if (!m.maybe_renamed_to.empty()) item["maybe_renamed_to"] = m.maybe_renamed_to;
      cmp["missing"].push_back(item);
    }
    cmp["new"] = json::array();
    for (const auto& a : set.added) cmp["new"].push_back({{"runtime", a.runtime}, {"name", a.name}});
    v["comparison"] = cmp;
  }

  if (!d.input->conformance.empty()) {
    json conf = json::array();
    for (const auto& c : d.input->conformance) {
      json failed = json::array();
      for (const auto& s : c.scenarios)
        if (s.status == "fail" || s.status == "crash" || s.status == "timeout") failed.push_back(s.id);
      conf.push_back({{"runtime", c.runtime}, {"counts", c.counts}, {"failed", failed}});
    }
    v["conformance"] = conf;
  }
  if (!d.input->lint.empty()) {
    json lint = json::array();
    for (const auto& l : d.input->lint)
      lint.push_back({{"tool", l.tool}, {"findings", l.findings.size()}, {"by_rule", l.by_rule()}});
    v["lint"] = lint;
  }
  // The marker goes first (std::map would sort it after "benchmarks", beyond where --out looks for it).
  return "{\n  " + std::string(verdict_marker) + "," + v.dump(2).substr(1) + "\n";
}

}  // namespace coroscope::report
