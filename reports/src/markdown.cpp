// report.md: fits a CI step summary / PR comment (GitHub cuts both at 65,536 characters), so long lists are
// capped and the full detail is left to report.html.
#include "limits.hpp"
#include "report.hpp"

#include <algorithm>
#include <limits>
#include <sstream>

namespace coroscope::report {
namespace {

constexpr std::size_t unlimited = std::numeric_limits<std::size_t>::max();

// Text longer than `max` bytes shows its start (whole UTF-8 characters) and " …"; report.html has the whole.
std::string md_cut(const std::string& s, std::size_t max) {
  if (s.size() <= max) return markdown_escape(s);
  std::size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return markdown_escape(s.substr(0, cut)) + " …";
}

// Every name goes through here, so no single name can outgrow the summary limit and empty a table.
std::string md(const std::string& s) { return md_cut(s, limits::max_markdown_name); }
std::string md_cell(const std::string& s) { return md_cut(s, limits::max_markdown_cell); }

std::string cell(const report_data& d, const bench_run& run, const std::string& workload) {
  if (auto it = run.skipped.find(workload); it != run.skipped.end()) return "skipped";
  const bench_case* c = run.find(workload);
  if (!c) return "—";
  if (c->error) return "**error**";
  const auto v = value_of(*c, d.options.compare.which);
  if (!v) return "n/a";
  std::string text = v->bytes ? format_bytes(v->value) : format_time(v->value);
  if (&run != d.floor)
    if (auto r = d.ratio_to_floor(run, workload)) text += " (" + format_ratio(*r) + ")";
  if (auto i = d.instructions_per_op(run.runtime, workload)) text += ", " + format_instructions(*i);
  return text;
}

void benchmarks_section(std::ostringstream& out, const report_data& d) {
  if (d.runs.empty()) return;
  const char* which = d.options.compare.which == metric::cpu ? "CPU" : "wall";
  out << "## Benchmarks\n\n";
  out << "Median " << which << " time per iteration";
  if (d.floor) out << "; in parentheses, the ratio to the floor (the hand-written minimum) of the same run";
  if (!d.instructions.empty()) out << "; \"instr\": instructions per iteration, counted by callgrind (run.sh instructions)";
  out << ". Memory rows are bytes per suspended task.\n\n";
  out << "| workload |";
  for (const auto* r : d.runs) out << ' ' << md(r->runtime) << " |";
  out << "\n|---|";
  for (std::size_t i = 0; i < d.runs.size(); ++i) out << "---:|";
  out << '\n';
  for (const auto& w : d.workloads) {
    out << "| " << md(w) << " |";
    for (const auto* r : d.runs) out << ' ' << cell(d, *r, w) << " |";
    out << '\n';
  }
  out << '\n';
  bool any_skip = false;
  for (const auto* r : d.runs)
    for (const auto& [name, why] : r->skipped) {
      if (!any_skip) out << "Skipped workloads:\n\n";
      any_skip = true;
      out << "- " << md(r->runtime) << ", " << md(name) << ": " << md(why) << '\n';
    }
  if (any_skip) out << '\n';
  if (!d.errors.empty()) {
    out << "Benchmarks that errored:\n\n";
    for (const auto& e : d.errors) out << "- " << md(e) << '\n';
    out << '\n';
  }
}

// Rows a reader must see first: errors and regressions, then improvements and doubts, then the rest.
int severity(verdict v) {
  switch (v) {
    case verdict::error: return 0;
    case verdict::regressed: return 1;
    case verdict::improved: return 2;
    case verdict::inconclusive: return 3;
    case verdict::unchanged: return 4;
  }
  return 5;
}

void comparison_section(std::ostringstream& out, const report_data& d, std::size_t max_rows) {
  if (!d.comparison) return;
  const auto& set = *d.comparison;
  out << "## Comparison with the baseline\n\n";
  out << set.rows.size() << " compared: " << set.count(verdict::regressed) << " regressed, "
      << set.count(verdict::improved) << " improved, " << set.count(verdict::unchanged) << " unchanged, "
      << set.count(verdict::inconclusive) << " inconclusive, " << set.count(verdict::error) << " errored. ";
  out << "A change is called only when the two-sided Mann-Whitney U test gives p < "
      << format_number(d.options.compare.alpha) << " and the median moved by at least "
      << static_cast<int>(d.options.compare.min_effect * 100 + 0.5) << "%.\n\n";
  std::vector<const comparison*> rows;
  for (const auto& r : set.rows) rows.push_back(&r);
  std::stable_sort(rows.begin(), rows.end(),
                   [](const comparison* a, const comparison* b) { return severity(a->outcome) < severity(b->outcome); });
  if (!rows.empty()) {
    out << "| verdict | runtime | benchmark | baseline | current | change | p | reps | note |\n";
    out << "|---|---|---|---:|---:|---:|---:|---:|---|\n";
    std::size_t shown = 0;
    for (const auto* r : rows) {
      if (shown == max_rows) break;
      ++shown;
      out << "| " << to_string(r->outcome) << " | " << md(r->runtime) << " | " << md(r->name) << " | ";
      if (r->outcome == verdict::error) {
        out << "| | | | | " << md(r->note) << " |\n";
        continue;
      }
      out << format_time(r->baseline_ns) << " | " << format_time(r->current_ns) << " | "
          << format_percent(r->change) << " | " << format_p(r->test.p) << (r->test.exact ? "" : "*") << " | "
          << r->n_baseline << "/" << r->n_current << " | " << md(r->note) << " |\n";
    }
    out << '\n';
    if (shown < rows.size()) out << "… " << rows.size() - shown << " more rows in report.html.\n\n";
    out << "p marked * comes from the normal approximation (ties or more than 20 repetitions); the others are exact.\n\n";
  }
  if (!set.missing.empty()) {
    out << "In the baseline but not in this run:\n\n";
    for (const auto& m : set.missing) {
      out << "- " << md(m.runtime) << ", " << md(m.name);
      if (!m.maybe_renamed_to.empty()) out << " (renamed to " << md(m.maybe_renamed_to) << "?)";
      out << '\n';
    }
    out << '\n';
  }
  if (!set.added.empty()) {
    out << "New in this run (no baseline):\n\n";
    for (const auto& [runtime, names] : added_by_runtime(d)) {
      if (names.empty()) {
        out << "- " << md(runtime) << ": every benchmark (the baseline has no run of this runtime)\n";
        continue;
      }
      for (const auto& name : names) out << "- " << md(runtime) << ", " << md(name) << '\n';
    }
    out << '\n';
  }
}

void conformance_section(std::ostringstream& out, const report_data& d, std::size_t max_rows) {
  if (d.input->conformance.empty()) return;
  out << "## Conformance\n\n| runtime | pass | fail | unsupported | note |\n|---|---:|---:|---:|---:|\n";
  for (const auto& c : d.input->conformance)
    out << "| " << md(c.runtime) << " | " << c.counts.at("pass") << " | " << c.counts.at("fail") << " | "
        << c.counts.at("unsupported") << " | " << c.counts.at("note") << " |\n";
  out << '\n';
  std::size_t failures = 0, shown = 0;
  for (const auto& c : d.input->conformance)
    for (const auto& s : c.scenarios) {
      if (s.status != "fail") continue;
      if (failures++ == 0) out << "Failures:\n\n| runtime | id | group | expected | actual |\n|---|---|---|---|---|\n";
      if (shown == max_rows) continue;
      ++shown;
      out << "| " << md(c.runtime) << " | " << md(s.id) << " | " << md(s.group) << " | " << md_cell(s.expected) << " | "
          << md_cell(s.actual) << " |\n";
    }
  if (failures) out << '\n';
  if (shown < failures) out << "… " << failures - shown << " more failures in report.html.\n\n";
}

void lint_section(std::ostringstream& out, const report_data& d, std::size_t max_rows) {
  if (d.input->lint.empty()) return;
  out << "## Lint\n\n";
  for (const auto& l : d.input->lint) {
    out << md(l.tool) << " (" << l.format << "): " << l.findings.size() << " finding(s)";
    const auto rules = l.by_rule();
    if (!rules.empty()) {
      out << " — ";
      bool first = true;
      for (const auto& [rule, n] : rules) {
        out << (first ? "" : ", ") << md(rule) << " " << n;
        first = false;
      }
    }
    out << ".\n\n";
    if (l.findings.empty()) continue;
    out << "| location | rule | message |\n|---|---|---|\n";
    std::size_t shown = 0;
    for (const auto& f : l.findings) {
      if (shown == max_rows) break;
      ++shown;
      out << "| " << md(f.file) << ':' << f.line << ':' << f.column << " | " << md(f.rule) << " | " << md(f.message)
          << " |\n";
    }
    out << '\n';
    if (shown < l.findings.size()) out << "… " << l.findings.size() - shown << " more findings in report.html.\n\n";
  }
}

void context_section(std::ostringstream& out, const report_data& d) {
  if (d.runs.empty()) return;
  static const char* keys[] = {"date", "git_revision", "compiler", "cxx_flags", "runtime_version",
                               "python_version", "library_build_type", "host_name", "num_cpus", "mhz_per_cpu"};
  out << "<details><summary>Run context</summary>\n\n| |";
  for (const auto* r : d.runs) out << ' ' << md(r->runtime) << " |";
  out << "\n|---|";
  for (std::size_t i = 0; i < d.runs.size(); ++i) out << "---|";
  out << '\n';
  for (const char* k : keys) {
    bool any = false;
    for (const auto* r : d.runs) any = any || r->context.count(k);
    if (!any) continue;
    out << "| " << md(k) << " |";
    for (const auto* r : d.runs) {
      auto it = r->context.find(k);
      out << ' ' << (it == r->context.end() ? "" : md(it->second)) << " |";
    }
    out << '\n';
  }
  out << "\n</details>\n";
}

std::string render(const report_data& d, std::size_t max_rows) {
  std::ostringstream out;
  out << markdown_marker << "\n";
  out << "# " << md(d.options.title) << "\n\n";
  out << "**Verdict: " << d.status << "**";
  if (!d.reasons.empty()) {
    out << " — ";
    for (std::size_t i = 0; i < d.reasons.size(); ++i) out << (i ? "; " : "") << md(d.reasons[i]);
  }
  out << ".\n\n";
  benchmarks_section(out, d);
  comparison_section(out, d, max_rows);
  conformance_section(out, d, max_rows);
  lint_section(out, d, max_rows);
  context_section(out, d);
  return out.str();
}

// Lengths are counted in bytes, which is never less than GitHub's character count.
std::string fit(const std::string& text, std::size_t limit) {
  if (text.size() < limit) return text;
  const std::string tail = "\n\n… truncated to fit the summary limit; see report.html.\n";
  std::size_t cut = limit - tail.size() - 1;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // keep UTF-8 whole
  cut = text.rfind('\n', cut);
  return text.substr(0, cut == std::string::npos ? 0 : cut) + tail;
}

}  // namespace

std::string render_markdown(const report_data& d) {
  for (std::size_t rows : {unlimited, std::size_t{200}, std::size_t{50}, std::size_t{10}}) {
    std::string text = render(d, rows);
    if (text.size() < d.options.markdown_limit) return text;
  }
  return fit(render(d, 0), d.options.markdown_limit);
}

std::string render_comparison_markdown(const report_data& d, std::size_t max_rows) {
  std::ostringstream out;
  comparison_section(out, d, max_rows);
  return out.str();
}

}  // namespace coroscope::report
