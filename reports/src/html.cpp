// report.html: one self-contained file (inline CSS and SVG, no script, no network) so it opens from a CI
// artifact anywhere. Every name that came from an input file goes through html_escape.
#include "report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

namespace coroscope::report {
namespace {

std::string h(const std::string& s) { return html_escape(s); }

std::string num(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", x);
  return buf;
}

const char* runtime_color(const std::string& runtime) {
  static const std::map<std::string, const char*> known = {{"floor", "#57534e"},
                                                           {"coroscope", "#2563eb"},
                                                           {"asio", "#ea580c"},
                                                           {"asyncio", "#0d9488"},
                                                           {"uvloop", "#9333ea"}};
  static const char* others[] = {"#0891b2", "#be123c", "#a16207", "#4d7c0f", "#7c3aed", "#db2777"};
  if (auto it = known.find(runtime); it != known.end()) return it->second;
  return others[std::hash<std::string>{}(runtime) % std::size(others)];
}

const char* series_color(std::size_t i) {
  static const char* palette[] = {"#2563eb", "#ea580c", "#16a34a", "#9333ea", "#0891b2", "#be123c",
                                  "#a16207", "#4d7c0f", "#db2777", "#475569"};
  return palette[i % std::size(palette)];
}

const char* verdict_color(verdict v) {
  switch (v) {
    case verdict::regressed: return "#dc2626";
    case verdict::improved: return "#16a34a";
    case verdict::unchanged: return "#9ca3af";
    case verdict::inconclusive: return "#d97706";
    case verdict::error: return "#7f1d1d";
  }
  return "#000";
}

// A log10 axis covering [lo, hi], widened to whole powers of ten.
struct log_axis {
  // Decades are clamped to 1e-40..1e40: a time that underflows to 0 or a ratio that overflows to infinity
  // (hostile input) would otherwise make the grid loops run forever (log10(0) is -inf) or draw thousands of
  // lines; values beyond the clamp are drawn at the edge.
  static constexpr double max_exp = 40;
  static double exponent(double v) {
    return std::isnan(v) ? 0 : std::clamp(std::log10(v), -max_exp, max_exp);
  }
  double lo_exp, hi_exp, pixel_lo, pixel_hi;
  log_axis(double lo, double hi, double p0, double p1)
      : lo_exp(std::floor(exponent(lo))), hi_exp(std::ceil(exponent(hi))), pixel_lo(p0), pixel_hi(p1) {
    if (hi_exp <= lo_exp) hi_exp = lo_exp + 1;
  }
  double operator()(double v) const {
    const double e = std::clamp(exponent(v), lo_exp, hi_exp);
    return pixel_lo + (e - lo_exp) / (hi_exp - lo_exp) * (pixel_hi - pixel_lo);
  }
};

std::string legend(const std::vector<std::pair<std::string, std::string>>& items, double x, double y) {
  std::ostringstream s;
  for (const auto& [label, color] : items) {
    s << "<rect x=\"" << num(x) << "\" y=\"" << num(y - 9) << "\" width=\"10\" height=\"10\" fill=\"" << color
      << "\"/><text x=\"" << num(x + 14) << "\" y=\"" << num(y) << "\">" << h(label) << "</text>";
    x += 24 + 7.0 * static_cast<double>(label.size());
  }
  return s.str();
}

std::string power_label(double exponent, const char* suffix) {
  const double v = std::pow(10.0, exponent);
  char buf[32];
  if (exponent >= 0) std::snprintf(buf, sizeof buf, "%.0f%s", v, suffix);
  else std::snprintf(buf, sizeof buf, "%g%s", v, suffix);
  return buf;
}

// Horizontal grouped bars, log scale: how many times the floor each runtime costs, per workload.
std::string ratio_chart(const report_data& d) {
  std::vector<const bench_run*> others;
  for (const auto* r : d.runs)
    if (r != d.floor) others.push_back(r);
  struct bar { std::string workload; const bench_run* run; double ratio; };
  std::vector<bar> bars;
  std::vector<std::string> rows;
  double lo = 1, hi = 10;
  for (const auto& w : d.workloads) {
    bool any = false;
    for (const auto* r : others)
      if (auto ratio = d.ratio_to_floor(*r, w); ratio && *ratio > 0) {
        bars.push_back({w, r, *ratio});
        lo = std::min(lo, *ratio);
        hi = std::max(hi, *ratio);
        any = true;
      }
    if (any) rows.push_back(w);
  }
  if (bars.empty()) return "<p>No workload ran on both the floor and another runtime.</p>";
  const double label_w = 260, plot_w = 560, bar_h = 9, top = 40;
  const double group_h = bar_h * static_cast<double>(others.size()) + 8;
  const double height = top + group_h * static_cast<double>(rows.size()) + 30;
  const log_axis x(lo, hi, label_w, label_w + plot_w);
  std::ostringstream s;
  s << "<svg class=\"chart\" id=\"ratio-chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" << num(label_w + plot_w + 80)
    << "\" height=\"" << num(height) << "\" role=\"img\" aria-label=\"ratio of each runtime to the floor\">";
  std::vector<std::pair<std::string, std::string>> items;
  for (const auto* r : others)
    if (std::any_of(bars.begin(), bars.end(), [&](const bar& b) { return b.run == r; }))
      items.emplace_back(r->runtime, runtime_color(r->runtime));
  s << legend(items, label_w, 16);
  for (double e = x.lo_exp; e <= x.hi_exp; ++e) {
    const double px = x(std::pow(10.0, e));
    s << "<line class=\"grid\" x1=\"" << num(px) << "\" x2=\"" << num(px) << "\" y1=\"" << num(top - 6) << "\" y2=\""
      << num(height - 24) << "\"/><text class=\"tick\" x=\"" << num(px) << "\" y=\"" << num(height - 10)
      << "\" text-anchor=\"middle\">" << power_label(e, "×") << "</text>";
  }
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const double gy = top + group_h * static_cast<double>(i);
    s << "<text x=\"" << num(label_w - 8) << "\" y=\"" << num(gy + group_h / 2) << "\" text-anchor=\"end\">"
      << h(rows[i]) << "</text>";
    for (std::size_t k = 0; k < others.size(); ++k) {
      auto it = std::find_if(bars.begin(), bars.end(),
                             [&](const bar& b) { return b.workload == rows[i] && b.run == others[k]; });
      if (it == bars.end()) continue;
      const double y = gy + bar_h * static_cast<double>(k);
      const double x0 = x(std::pow(10.0, x.lo_exp)), x1 = std::max(x(it->ratio), x0 + 1);
      s << "<rect class=\"bar\" x=\"" << num(x0) << "\" y=\"" << num(y) << "\" width=\"" << num(x1 - x0)
        << "\" height=\"" << num(bar_h - 1) << "\" fill=\"" << runtime_color(it->run->runtime) << "\"><title>"
        << h(it->run->runtime + " " + rows[i] + ": " + format_ratio(it->ratio) + " the floor") << "</title></rect>";
      s << "<text class=\"value\" x=\"" << num(x1 + 3) << "\" y=\"" << num(y + bar_h - 1) << "\">"
        << h(format_ratio(it->ratio)) << "</text>";
    }
  }
  s << "</svg>";
  return s.str();
}

// "BM_Gather/fanout:1000" -> family "BM_Gather/fanout", n 1000. Names without a trailing number: no family.
bool split_scaling(const std::string& name, std::string& family, double& n) {
  const auto slash = name.rfind('/');
  if (slash == std::string::npos) return false;
  std::string tail = name.substr(slash + 1);
  std::string key;
  if (const auto colon = tail.find(':'); colon != std::string::npos) {
    key = tail.substr(0, colon);
    tail = tail.substr(colon + 1);
  }
  // At most 15 digits: every such N is exact as a double, and a longer run of digits is no scale anyone
  // benchmarks (std::stod would throw out_of_range on a few hundred of them).
  if (tail.empty() || tail.size() > 15 || tail.find_first_not_of("0123456789") != std::string::npos) return false;
  n = std::stod(tail);
  family = name.substr(0, slash) + (key.empty() ? "" : "/" + key);
  return n > 0;
}

struct point { double n, per_item; };

// One line per runtime: time per element against N, both log scales. Flat is O(1) per element.
std::string scaling_chart(const std::string& family,
                          const std::vector<std::pair<const bench_run*, std::vector<point>>>& lines) {
  double nlo = 1e300, nhi = 0, ylo = 1e300, yhi = 0;
  for (const auto& [run, pts] : lines)
    for (const auto& p : pts) {
      nlo = std::min(nlo, p.n); nhi = std::max(nhi, p.n);
      ylo = std::min(ylo, p.per_item); yhi = std::max(yhi, p.per_item);
    }
  const double left = 70, plot_w = 380, top = 30, plot_h = 200;
  const log_axis x(nlo, nhi, left, left + plot_w);
  const log_axis y(ylo, yhi, top + plot_h, top);
  std::ostringstream s;
  s << "<svg class=\"chart scaling\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" << num(left + plot_w + 30)
    << "\" height=\"" << num(top + plot_h + 50) << "\" role=\"img\" aria-label=\"" << h(family) << " scaling\">";
  s << "<text class=\"title\" x=\"" << num(left) << "\" y=\"16\">" << h(family) << ": time per element</text>";
  for (double e = x.lo_exp; e <= x.hi_exp; ++e) {
    const double px = x(std::pow(10.0, e));
    s << "<line class=\"grid\" x1=\"" << num(px) << "\" x2=\"" << num(px) << "\" y1=\"" << num(top) << "\" y2=\""
      << num(top + plot_h) << "\"/><text class=\"tick\" x=\"" << num(px) << "\" y=\"" << num(top + plot_h + 16)
      << "\" text-anchor=\"middle\">" << power_label(e, "") << "</text>";
  }
  for (double e = y.lo_exp; e <= y.hi_exp; ++e) {
    const double py = y(std::pow(10.0, e));
    s << "<line class=\"grid\" x1=\"" << num(left) << "\" x2=\"" << num(left + plot_w) << "\" y1=\"" << num(py)
      << "\" y2=\"" << num(py) << "\"/><text class=\"tick\" x=\"" << num(left - 6) << "\" y=\"" << num(py + 4)
      << "\" text-anchor=\"end\">" << h(format_time(std::pow(10.0, e))) << "</text>";
  }
  std::vector<std::pair<std::string, std::string>> items;
  for (const auto& [run, pts] : lines) {
    const char* color = runtime_color(run->runtime);
    items.emplace_back(run->runtime, color);
    s << "<polyline class=\"line\" fill=\"none\" stroke-width=\"2.5\" stroke=\"" << color << "\" points=\"";
    for (const auto& p : pts) s << num(x(p.n)) << ',' << num(y(p.per_item)) << ' ';
    s << "\"/>";
    for (const auto& p : pts)
      s << "<circle class=\"dot\" cx=\"" << num(x(p.n)) << "\" cy=\"" << num(y(p.per_item)) << "\" r=\"4\" fill=\""
        << color << "\"><title>" << h(run->runtime + " N=" + std::to_string(static_cast<long long>(p.n)) + ": " +
                                      format_time(p.per_item) + " per element")
        << "</title></circle>";
  }
  s << legend(items, left, top + plot_h + 40) << "</svg>";
  return s.str();
}

std::string scaling_charts(const report_data& d) {
  std::vector<std::string> families;
  for (const auto& w : d.workloads) {
    std::string family;
    double n = 0;
    if (split_scaling(w, family, n) && std::find(families.begin(), families.end(), family) == families.end())
      families.push_back(family);
  }
  std::ostringstream s;
  for (const auto& family : families) {
    std::vector<std::pair<const bench_run*, std::vector<point>>> lines;
    for (const auto* r : d.runs) {
      std::vector<point> pts;
      for (const auto& c : r->cases) {
        std::string f;
        double n = 0;
        if (!split_scaling(c.name, f, n) || f != family) continue;
        const auto v = value_of(c, d.options.compare.which);
        if (v && !v->bytes && v->value > 0) pts.push_back({n, v->value / n});
      }
      std::sort(pts.begin(), pts.end(), [](const point& a, const point& b) { return a.n < b.n; });
      if (pts.size() >= 2) lines.emplace_back(r, std::move(pts));
    }
    if (!lines.empty()) s << scaling_chart(family, lines);
  }
  const std::string out = s.str();
  return out.empty() ? "<p>No workload family was run at two or more sizes.</p>" : out;
}

// Each runtime given several runs: every workload's value relative to its first run, run by run.
std::string history_charts(const report_data& d) {
  std::map<std::string, std::vector<const bench_run*>> by_runtime;
  for (const auto& r : d.input->bench)
    if (!r.instruction_counts) by_runtime[r.runtime].push_back(&r);
  std::ostringstream s;
  for (auto& [runtime, runs] : by_runtime) {
    if (runs.size() < 2) continue;
    std::stable_sort(runs.begin(), runs.end(), [](const bench_run* a, const bench_run* b) { return a->date < b->date; });
    struct series { std::string name; std::vector<std::pair<std::size_t, double>> pts; };
    std::vector<series> all;
    double lo = 0.5, hi = 1.5;
    for (const auto& c : runs.back()->cases) {
      const bench_case* first = nullptr;
      std::size_t first_index = 0;
      series line{c.name, {}};
      for (std::size_t i = 0; i < runs.size(); ++i) {
        const bench_case* here = runs[i]->find(c.name);
        if (!here) continue;
        const auto v = value_of(*here, d.options.compare.which);
        if (!v) continue;
        if (!first) { first = here; first_index = i; }
        const auto base = value_of(*first, d.options.compare.which);
        if (!base || base->value <= 0) continue;
        const double rel = v->value / base->value;
        line.pts.emplace_back(i, rel);
        lo = std::min(lo, rel);
        hi = std::max(hi, rel);
      }
      (void)first_index;
      if (line.pts.size() >= 2) all.push_back(std::move(line));
    }
    if (all.empty()) continue;
    const double left = 60, plot_w = 520, top = 30, plot_h = 200;
    auto px = [&](std::size_t i) { return left + plot_w * static_cast<double>(i) / static_cast<double>(runs.size() - 1); };
    auto py = [&](double v) { return top + plot_h - (v - lo) / (hi - lo) * plot_h; };
    s << "<svg class=\"chart history\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" << num(left + plot_w + 220)
      << "\" height=\"" << num(top + plot_h + 40) << "\" role=\"img\" aria-label=\"" << h(runtime) << " history\">";
    s << "<text class=\"title\" x=\"" << num(left) << "\" y=\"16\">" << h(runtime)
      << ": each workload relative to its first run</text>";
    for (double v : {lo, 1.0, hi}) {
      s << "<line class=\"grid\" x1=\"" << num(left) << "\" x2=\"" << num(left + plot_w) << "\" y1=\"" << num(py(v))
        << "\" y2=\"" << num(py(v)) << "\"/><text class=\"tick\" x=\"" << num(left - 6) << "\" y=\"" << num(py(v) + 4)
        << "\" text-anchor=\"end\">" << h(format_ratio(v)) << "</text>";
    }
    for (std::size_t i = 0; i < runs.size(); ++i)
      s << "<text class=\"tick\" x=\"" << num(px(i)) << "\" y=\"" << num(top + plot_h + 16) << "\" text-anchor=\"middle\">"
        << h(runs[i]->date.substr(0, 10)) << "</text>";
    for (std::size_t k = 0; k < all.size(); ++k) {
      const char* color = series_color(k);
      s << "<polyline class=\"line\" fill=\"none\" stroke-width=\"2\" stroke=\"" << color << "\" points=\"";
      for (const auto& [i, v] : all[k].pts) s << num(px(i)) << ',' << num(py(v)) << ' ';
      s << "\"><title>" << h(all[k].name) << "</title></polyline>";
      s << "<text x=\"" << num(left + plot_w + 8) << "\" y=\"" << num(top + 12 + 14 * static_cast<double>(k))
        << "\" fill=\"" << color << "\">" << h(all[k].name) << "</text>";
    }
    s << "</svg>";
  }
  return s.str();
}

std::string comparison_chart(const report_data& d) {
  const auto& rows = d.comparison->rows;
  double span = 0.1;
  for (const auto& r : rows)
    if (r.outcome != verdict::error) span = std::max(span, std::abs(r.change));
  span = std::min(span, 2.0);
  const double label_w = 320, plot_w = 400, row_h = 14, top = 10;
  const double mid = label_w + plot_w / 2;
  std::ostringstream s;
  s << "<svg class=\"chart\" id=\"compare-chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" << num(label_w + plot_w + 70)
    << "\" height=\"" << num(top + row_h * static_cast<double>(rows.size()) + 30)
    << "\" role=\"img\" aria-label=\"change against the baseline\">";
  const double bottom = top + row_h * static_cast<double>(rows.size());
  s << "<line class=\"axis\" x1=\"" << num(mid) << "\" x2=\"" << num(mid) << "\" y1=\"" << num(top) << "\" y2=\""
    << num(bottom) << "\"/>";
  for (double f : {-span, span})
    s << "<text class=\"tick\" x=\"" << num(mid + f / span * plot_w / 2) << "\" y=\"" << num(bottom + 16)
      << "\" text-anchor=\"middle\">" << h(format_percent(f)) << "</text>";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    const double y = top + row_h * static_cast<double>(i);
    s << "<text x=\"" << num(label_w - 8) << "\" y=\"" << num(y + row_h - 3) << "\" text-anchor=\"end\">"
      << h(r.runtime + " " + r.name) << "</text>";
    if (r.outcome == verdict::error) continue;
    const double w = std::max(1.0, std::min(std::abs(r.change), span) / span * plot_w / 2);
    const double x0 = r.change >= 0 ? mid : mid - w;
    s << "<rect class=\"bar\" x=\"" << num(x0) << "\" y=\"" << num(y + 2) << "\" width=\"" << num(w) << "\" height=\""
      << num(row_h - 4) << "\" fill=\"" << verdict_color(r.outcome) << "\"><title>"
      << h(r.runtime + " " + r.name + ": " + to_string(r.outcome) + ", " + r.note) << "</title></rect>";
  }
  s << "</svg>";
  return s.str();
}

void benchmark_table(std::ostringstream& s, const report_data& d) {
  s << "<table><thead><tr><th>workload</th>";
  for (const auto* r : d.runs) s << "<th>" << h(r->runtime) << "</th>";
  s << "</tr></thead><tbody>";
  for (const auto& w : d.workloads) {
    s << "<tr><th>" << h(w) << "</th>";
    for (const auto* r : d.runs) {
      s << "<td class=\"n\">";
      if (auto it = r->skipped.find(w); it != r->skipped.end()) {
        s << "<span class=\"muted\" title=\"" << h(it->second) << "\">skipped</span>";
      } else if (const bench_case* c = r->find(w); !c) {
        s << "—";
      } else if (c->error) {
        s << "<span class=\"bad\" title=\"" << h(*c->error) << "\">error</span>";
      } else if (const auto v = value_of(*c, d.options.compare.which)) {
        s << h(v->bytes ? format_bytes(v->value) : format_time(v->value));
        if (r != d.floor)
          if (auto ratio = d.ratio_to_floor(*r, w)) s << " <span class=\"muted\">" << h(format_ratio(*ratio)) << "</span>";
        s << " <span class=\"muted\">n=" << c->samples(d.options.compare.which).size() << "</span>";
        if (auto i = d.instructions_per_op(r->runtime, w)) s << " <span class=\"muted\">" << h(format_instructions(*i)) << "</span>";
      }
      s << "</td>";
    }
    s << "</tr>";
  }
  s << "</tbody></table>";
  bool any = false;
  for (const auto* r : d.runs)
    for (const auto& [name, why] : r->skipped) {
      if (!any) s << "<p>Skipped:</p><ul>";
      any = true;
      s << "<li>" << h(r->runtime) << ", " << h(name) << ": " << h(why) << "</li>";
    }
  if (any) s << "</ul>";
}

void comparison_table(std::ostringstream& s, const report_data& d) {
  const auto& set = *d.comparison;
  s << "<table><thead><tr><th>verdict</th><th>runtime</th><th>benchmark</th><th>baseline</th><th>current</th>"
       "<th>change</th><th>p</th><th>reps</th><th>note</th></tr></thead><tbody>";
  for (const auto& r : set.rows) {
    s << "<tr><td><span class=\"verdict\" style=\"background:" << verdict_color(r.outcome) << "\">" << to_string(r.outcome)
      << "</span></td><td>" << h(r.runtime) << "</td><td>" << h(r.name) << "</td>";
    if (r.outcome == verdict::error) {
      s << "<td></td><td></td><td></td><td></td><td></td>";
    } else {
      s << "<td class=\"n\">" << h(format_time(r.baseline_ns)) << "</td><td class=\"n\">" << h(format_time(r.current_ns))
        << "</td><td class=\"n\">" << h(format_percent(r.change)) << "</td><td class=\"n\">" << h(format_p(r.test.p))
        << (r.test.exact ? "" : "*") << "</td><td class=\"n\">" << r.n_baseline << "/" << r.n_current << "</td>";
    }
    s << "<td>" << h(r.note) << "</td></tr>";
  }
  s << "</tbody></table>";
  if (!set.missing.empty()) {
    s << "<p>In the baseline but not in this run:</p><ul>";
    for (const auto& m : set.missing) {
      s << "<li>" << h(m.runtime) << ", " << h(m.name);
      if (!m.maybe_renamed_to.empty()) s << " (renamed to " << h(m.maybe_renamed_to) << "?)";
      s << "</li>";
    }
    s << "</ul>";
  }
  if (!set.added.empty()) {
    s << "<p>New in this run (no baseline):</p><ul>";
    for (const auto& [runtime, names] : added_by_runtime(d)) {
      if (names.empty()) s << "<li>" << h(runtime) << ": every benchmark (the baseline has no run of this runtime)</li>";
      for (const auto& name : names) s << "<li>" << h(runtime) << ", " << h(name) << "</li>";
    }
    s << "</ul>";
  }
}

void conformance_html(std::ostringstream& s, const report_data& d) {
  for (const auto& c : d.input->conformance) {
    s << "<h3>" << h(c.runtime) << "</h3><p>" << c.counts.at("pass") << " pass, " << c.counts.at("fail") << " fail, "
      << c.counts.at("unsupported") << " unsupported, " << c.counts.at("note") << " note.</p>";
    s << "<table><thead><tr><th>status</th><th>id</th><th>group</th><th>message</th><th>expected</th><th>actual</th>"
         "<th>duration</th></tr></thead><tbody>";
    for (const auto& sc : c.scenarios)
      s << "<tr class=\"" << h(sc.status) << "\"><td>" << h(sc.status) << "</td><td>" << h(sc.id) << "</td><td>"
        << h(sc.group) << "</td><td>" << h(sc.message) << "</td><td><code>" << h(sc.expected) << "</code></td><td><code>"
        << h(sc.actual) << "</code></td><td class=\"n\">" << h(format_time(sc.duration * 1e9)) << "</td></tr>";
    s << "</tbody></table>";
  }
}

void lint_html(std::ostringstream& s, const report_data& d) {
  for (const auto& l : d.input->lint) {
    s << "<h3>" << h(l.tool) << " (" << h(l.format) << ")</h3><p>" << l.findings.size() << " finding(s).</p>";
    if (l.findings.empty()) continue;
    s << "<table><thead><tr><th>location</th><th>rule</th><th>message</th><th>function</th><th>notes</th></tr></thead><tbody>";
    for (const auto& f : l.findings) {
      s << "<tr><td>" << h(f.file) << ':' << f.line << ':' << f.column << "</td><td>" << h(f.rule) << "</td><td>"
        << h(f.message) << "</td><td>" << h(f.function) << (f.callee.empty() ? "" : " → " + h(f.callee)) << "</td><td>";
      for (const auto& n : f.notes) s << h(n) << "<br>";
      s << "</td></tr>";
    }
    s << "</tbody></table>";
  }
}

void context_html(std::ostringstream& s, const report_data& d) {
  for (const auto* r : d.runs) {
    s << "<details><summary>" << h(r->runtime) << " — " << h(r->file) << "</summary><table><tbody>";
    for (const auto& [k, v] : r->context) s << "<tr><th>" << h(k) << "</th><td>" << h(v) << "</td></tr>";
    s << "</tbody></table></details>";
  }
}

constexpr const char* style = R"(
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#111827;max-width:1200px}
h1{margin:0 0 8px}h2{margin-top:32px;border-bottom:1px solid #e5e7eb}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #e5e7eb;padding:3px 8px;text-align:left}
td.n{text-align:right;white-space:nowrap}thead th{background:#f3f4f6}
.badge{display:inline-block;padding:2px 10px;border-radius:4px;color:#fff;font-weight:600}
.pass{background:#16a34a}.fail{background:#dc2626}.error{background:#7f1d1d}
tr.pass,tr.note,tr.unsupported{background:none}tr.fail{background:#fee2e2}
.muted{color:#6b7280}.bad{color:#dc2626;font-weight:600}
.verdict{color:#fff;border-radius:3px;padding:0 6px}
svg.chart{display:block;margin:12px 0;font-size:12px}svg.scaling{display:inline-block;margin-right:16px}svg text{fill:#111827}
svg .grid{stroke:#e5e7eb}svg .axis{stroke:#374151}svg .tick{fill:#6b7280;font-size:11px}
svg .title{font-weight:600}svg .value{font-size:10px;fill:#374151}
)";

}  // namespace

std::string render_html(const report_data& d) {
  std::ostringstream s;
  s << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">" << html_marker << "<title>" << h(d.options.title)
    << "</title><style>" << style << "</style></head><body>\n";
  s << "<h1>" << h(d.options.title) << "</h1><p><span class=\"badge " << d.status << "\" id=\"verdict\">" << d.status
    << "</span> ";
  for (std::size_t i = 0; i < d.reasons.size(); ++i) s << (i ? "; " : "") << h(d.reasons[i]);
  s << "</p>\n";
  if (!d.runs.empty()) {
    s << "<h2>Ratio to the floor</h2>";
    if (d.floor) s << "<p>Median " << (d.options.compare.which == metric::cpu ? "CPU" : "wall")
                   << " time of each runtime divided by the floor's (a minimal hand-written scheduler or epoll loop) "
                      "in the same run; log scale, shorter is better.</p>" << ratio_chart(d);
    else s << "<p>No run of the floor was given, so there is nothing to divide by.</p>";
    s << "\n<h2>Scaling with N</h2><p>Time per element as the workload grows; a flat line is constant cost per element.</p>"
      << scaling_charts(d) << '\n';
    const std::string history = history_charts(d);
    if (!history.empty()) s << "<h2>History</h2>" << history << '\n';
  }
  if (d.comparison) {
    s << "<h2>Comparison with the baseline</h2><p>Verdicts need p &lt; " << h(format_number(d.options.compare.alpha))
      << " (two-sided Mann-Whitney U) and a median change of at least "
      << static_cast<int>(d.options.compare.min_effect * 100 + 0.5) << "%. p marked * is from the normal approximation.</p>";
    if (!d.comparison->rows.empty()) s << comparison_chart(d);
    comparison_table(s, d);
    s << '\n';
  }
  if (!d.runs.empty()) {
    s << "<h2>Benchmarks</h2>";
    benchmark_table(s, d);
    if (!d.errors.empty()) {
      s << "<p class=\"bad\">Errored:</p><ul>";
      for (const auto& e : d.errors) s << "<li>" << h(e) << "</li>";
      s << "</ul>";
    }
    s << '\n';
  }
  if (!d.input->conformance.empty()) {
    s << "<h2>Conformance</h2>";
    conformance_html(s, d);
    s << '\n';
  }
  if (!d.input->lint.empty()) {
    s << "<h2>Lint</h2>";
    lint_html(s, d);
    s << '\n';
  }
  if (!d.runs.empty()) {
    s << "<h2>Run context</h2>";
    context_html(s, d);
  }
  s << "\n</body></html>\n";
  return s.str();
}

}  // namespace coroscope::report
