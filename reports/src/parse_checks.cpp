// Conformance JSON and lint JSON / SARIF 2.1.0 (schemas in model.hpp).
#include "json_input.hpp"
#include "limits.hpp"
#include "model.hpp"

#include <array>
#include <cmath>
#include <filesystem>

namespace coroscope::report {
namespace {

// coroscope-conform's statuses; crash and timeout (a scenario that killed or hung the runtime) fail like fail.
constexpr std::array<const char*, 6> statuses = {"pass", "fail", "unsupported", "note", "crash", "timeout"};

void check_version(const field& root, int supported) {
  if (!root.has("version")) return;
  const double v = root.at("version").number();
  if (v != supported) root.at("version").fail("unsupported version (this tool reads version " + std::to_string(supported) + ")");
}

// One runtime's scenarios; `where` is the object holding "scenarios" (and maybe "runtime" and "summary").
conformance_run parse_conformance_run(const field& where, const std::string& fallback_runtime) {
  where.expect_object();
  conformance_run run;
  run.file = where.file();
  run.runtime = string_or(where, "runtime", fallback_runtime);
  for (const char* s : statuses) run.counts[s] = 0;
  const field list = where.at("scenarios");
  for (std::size_t i = 0, n = list.size(); i < n; ++i) {
    const field item = list.at(i);
    item.expect_object();
    scenario sc;
    sc.id = item.at("id").string();
    sc.group = string_or(item, "group", "");
    sc.status = item.at("status").string();
    if (!run.counts.count(sc.status)) item.at("status").fail("'" + sc.status + "' is not one of pass, fail, unsupported, note, crash, timeout");
    sc.expected = item.has("expected") ? item.at("expected").text() : "";
    sc.actual = item.has("actual") ? item.at("actual").text() : "";
    sc.message = string_or(item, "message", "");
    sc.duration = number_or(item, "duration", 0);
    if (!std::isfinite(sc.duration) || sc.duration < 0) item.at("duration").fail("not a finite, non-negative number of seconds");
    ++run.counts[sc.status];
    run.scenarios.push_back(std::move(sc));
  }
  // A summary that disagrees with the rows means one of them was written wrong: say which.
  if (where.has("summary")) {
    const field summary = where.at("summary");
    summary.expect_object();
    for (const char* s : statuses) {
      if (!summary.has(s)) continue;
      const double claimed = summary.at(s).number();
      if (claimed != run.counts[s])
        summary.at(s).fail("says " + summary.at(s).text() + " but the scenarios list has " + std::to_string(run.counts[s]));
    }
  }
  return run;
}

std::vector<conformance_run> parse_conformance_doc(const nlohmann::json& doc, const std::string& file) {
  const field root(doc, file);
  root.expect_object();
  check_version(root, 1);
  if (root.has("schema") && root.at("schema").number() != 1) root.at("schema").fail("unsupported schema (this tool reads schema 1)");
  const std::string stem = std::filesystem::path(file).stem().string();
  std::vector<conformance_run> runs;
  if (root.has("runs")) {
    const field list = root.at("runs");
    for (std::size_t i = 0, n = list.size(); i < n; ++i) runs.push_back(parse_conformance_run(list.at(i), stem));
  } else {
    runs.push_back(parse_conformance_run(root, stem));
  }
  return runs;
}

std::vector<std::string> notes_of(const field& item) {
  std::vector<std::string> notes;
  if (!item.has("notes")) return notes;
  const field list = item.at("notes");
  for (std::size_t i = 0, n = list.size(); i < n; ++i) {
    const field note = list.at(i);
    if (note.json().is_object()) {
      std::string where = string_or(note, "file", "");
      if (note.has("line")) where.append(":").append(note.at("line").text());
      const std::string message = string_or(note, "message", "");
      notes.push_back(where.empty() ? message : where + ": " + message);
    } else {
      notes.push_back(note.text());
    }
  }
  return notes;
}

lint_run parse_coroscope_lint(const field& root) {
  check_version(root, 1);
  lint_run run;
  run.tool = string_or(root, "tool", "coroscope-lint");
  run.format = "json";
  const field list = root.at("findings");
  for (std::size_t i = 0, n = list.size(); i < n; ++i) {
    const field item = list.at(i);
    item.expect_object();
    lint_finding f;
    f.rule = item.at("rule").string();
    f.file = item.at("file").string();
    f.line = static_cast<int>(item.at("line").integer(0, limits::max_line));
    f.column = static_cast<int>(integer_or(item, "column", 0, limits::max_line, 0));
    f.message = item.at("message").string();
    f.function = string_or(item, "function", "");
    f.callee = string_or(item, "callee", "");
    f.category = string_or(item, "category", "");
    f.notes = notes_of(item);
    run.findings.push_back(std::move(f));
  }
  if (root.has("summary") && root.at("summary").has("findings")) {
    const field claimed = root.at("summary").at("findings");
    if (claimed.number() != static_cast<double>(run.findings.size()))
      claimed.fail("says " + claimed.text() + " but the findings list has " + std::to_string(run.findings.size()));
  }
  return run;
}

void read_sarif_location(const field& location, std::string& file, int& line, int& column) {
  if (!location.has("physicalLocation")) return;
  const field physical = location.at("physicalLocation");
  if (physical.has("artifactLocation")) file = string_or(physical.at("artifactLocation"), "uri", "");
  if (physical.has("region")) {
    const field region = physical.at("region");
    line = static_cast<int>(integer_or(region, "startLine", 0, limits::max_line, 0));
    column = static_cast<int>(integer_or(region, "startColumn", 0, limits::max_line, 0));
  }
}

lint_run parse_sarif(const field& root) {
  if (root.at("version").text() != "2.1.0") root.at("version").fail("only SARIF 2.1.0 is read");
  lint_run run;
  run.format = "sarif";
  const field runs = root.at("runs");
  for (std::size_t r = 0, nr = runs.size(); r < nr; ++r) {
    const field one = runs.at(r);
    if (run.tool.empty() && one.has("tool")) run.tool = string_or(one.at("tool").at("driver"), "name", "");
    if (!one.has("results")) continue;
    const field results = one.at("results");
    for (std::size_t i = 0, n = results.size(); i < n; ++i) {
      const field res = results.at(i);
      res.expect_object();
      lint_finding f;
      f.rule = string_or(res, "ruleId", "");
      f.message = res.at("message").at("text").string();
      if (res.has("locations") && res.at("locations").size() > 0)
        read_sarif_location(res.at("locations").at(0), f.file, f.line, f.column);
      if (res.has("relatedLocations")) {
        const field related = res.at("relatedLocations");
        for (std::size_t k = 0, nk = related.size(); k < nk; ++k) {
          const field loc = related.at(k);
          std::string file;
          int line = 0, column = 0;
          read_sarif_location(loc, file, line, column);
          const std::string message = loc.has("message") ? string_or(loc.at("message"), "text", "") : "";
          f.notes.push_back(file + ":" + std::to_string(line) + ": " + message);
        }
      }
      if (res.has("properties")) {
        const field props = res.at("properties");
        f.function = string_or(props, "function", "");
        f.callee = string_or(props, "callee", "");
        f.category = string_or(props, "category", "");
      }
      run.findings.push_back(std::move(f));
    }
  }
  if (run.tool.empty()) run.tool = "SARIF";
  return run;
}

lint_run parse_lint_doc(const nlohmann::json& doc, const std::string& file) {
  const field root(doc, file);
  root.expect_object();
  lint_run run = root.has("runs") ? parse_sarif(root) : parse_coroscope_lint(root);
  run.file = file;
  return run;
}

}  // namespace

int conformance_run::failures() const {
  int n = 0;
  for (const char* s : {"fail", "crash", "timeout"}) {
    auto it = counts.find(s);
    if (it != counts.end()) n += it->second;
  }
  return n;
}

std::map<std::string, int> lint_run::by_rule() const {
  std::map<std::string, int> out;
  for (const auto& f : findings) ++out[f.rule];
  return out;
}

std::vector<conformance_run> parse_conformance_text(const std::string& text, const std::string& file) {
  return parse_conformance_doc(parse_json_text(text, file), file);
}
std::vector<conformance_run> parse_conformance_json(const std::string& file) {
  return parse_conformance_doc(load_json_file(file), file);
}
lint_run parse_lint_text(const std::string& text, const std::string& file) {
  return parse_lint_doc(parse_json_text(text, file), file);
}
lint_run parse_lint_json(const std::string& file) { return parse_lint_doc(load_json_file(file), file); }

}  // namespace coroscope::report
