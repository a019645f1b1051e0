#include "Output.h"

#include "RuleRegistry.h"
#include "Summary.h"

#include <coroscope/support/files.hpp>

#include <llvm/Support/Path.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <map>

namespace coroscope::lint {

namespace {

using nlohmann::json;

std::string caret(const std::string& sourceLine, unsigned column) {
  std::string out;
  for (unsigned i = 1; i < column && i - 1 < sourceLine.size(); ++i) out += sourceLine[i - 1] == '\t' ? '\t' : ' ';
  return out + "^";
}

// SARIF wants URIs: relative ones resolve against the repository root in code scanning.
std::string uri(const std::string& path) {
  std::string out;
  for (unsigned char c : path) {
    if (std::isalnum(c) != 0 || std::string_view("/-._~").find(static_cast<char>(c)) != std::string_view::npos) {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return llvm::sys::path::is_absolute(path) ? "file://" + out : out;
}

// FNV-1a: a fingerprint that is the same on every machine and every run.
std::string fingerprint(const std::string& text) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

json sarifLocation(const Location& l, const std::string& root, const std::string& message = {}) {
  json loc = {{"physicalLocation",
               {{"artifactLocation", {{"uri", uri(displayPath(l.file, root))}}},
                {"region", {{"startLine", l.line}, {"startColumn", l.column}}}}}};
  if (!message.empty()) loc["message"] = {{"text", message}};
  return loc;
}

}  // namespace

std::string displayPath(const std::string& file, const std::string& root) {
  llvm::StringRef f(file);
  std::string r = root;
  if (!r.empty() && r.back() != '/') r += '/';
  if (!r.empty() && f.starts_with(r)) return f.substr(r.size()).str();
  return file;
}

void writeText(std::ostream& os, const std::vector<Finding>& findings, const std::string& root) {
  for (const auto& f : findings) {
    os << displayPath(f.where.file, root) << ':' << f.where.line << ':' << f.where.column
       << ": warning: " << f.message << " [" << f.rule << "]\n";
    os << f.source_line << '\n' << caret(f.source_line, f.where.column) << '\n';
    for (const auto& n : f.notes) {
      os << displayPath(n.where.file, root) << ':' << n.where.line << ':' << n.where.column << ": note: " << n.message
         << '\n';
      os << n.source_line << '\n' << caret(n.source_line, n.where.column) << '\n';
    }
  }
  if (!findings.empty()) os << findings.size() << (findings.size() == 1 ? " finding\n" : " findings\n");
}

void writeJson(std::ostream& os, const std::vector<Finding>& findings, const ReportSummary& summary,
               const std::string& root, const std::vector<TUSummary>* summaries) {
  json list = json::array();
  std::map<std::string, unsigned> byRule;
  for (const auto& info : ruleInfos()) byRule[std::string(info.id)] = 0;
  for (const auto& f : findings) {
    list.push_back(toJson(f, root));
    ++byRule[f.rule];
  }
  json failed = json::array();
  for (const auto& file : summary.failed) failed.push_back(displayPath(file, root));
  json out = {{"version", 1},
              {"findings", std::move(list)},
              {"summary",
               {{"files", summary.files},
                {"findings", findings.size()},
                {"by_rule", byRule},
                {"failed_files", std::move(failed)},
                {"suppressed", summary.suppressed},
                {"baselined", summary.baselined}}}};
  if (summaries != nullptr) {
    json all = json::array();
    for (const auto& tu : *summaries) all.push_back(toJson(tu, root));
    out["summaries"] = std::move(all);
  }
  os << out.dump(2) << '\n';
}

void writeOutput(const std::string& path, std::string_view content) {
  if (path.empty() || path == "-")
    coroscope::support::write_stdout(content);
  else
    coroscope::support::write_file(path, content);
}

void writeSarif(std::ostream& os, const std::vector<Finding>& findings, const std::string& root,
                const ReportSummary* summary, const std::vector<TUSummary>* summaries) {
  json rules = json::array();
  std::map<std::string, unsigned> index;
  for (const auto& info : ruleInfos()) {
    index[std::string(info.id)] = static_cast<unsigned>(rules.size());
    rules.push_back({{"id", info.id},
                     {"name", info.id},
                     {"shortDescription", {{"text", info.summary}}},
                     {"fullDescription", {{"text", info.help}}},
                     {"help", {{"text", info.help}, {"markdown", info.help}}},
                     {"defaultConfiguration", {{"enabled", info.enabled_by_default}, {"level", "warning"}}},
                     {"properties", {{"tags", {"coroutines", "concurrency"}}}}});
  }
  json results = json::array();
  std::map<std::string, unsigned> occurrences;
  for (const auto& f : findings) {
    const std::string file = displayPath(f.where.file, root);
    const std::string key = f.rule + '\x1f' + file + '\x1f' + f.function + '\x1f' + f.callee;
    json result = {{"ruleId", f.rule},
                   {"ruleIndex", index[f.rule]},
                   {"level", "warning"},
                   {"message", {{"text", f.message}}},
                   {"locations", {sarifLocation(f.where, root)}},
                   // Keyed like the baseline (no line numbers), so moving code does not make alerts reappear.
                   {"partialFingerprints",
                    {{"coroscopeLint/v1", fingerprint(key + '\x1f' + std::to_string(occurrences[key]++))}}}};
    json related = json::array();
    json fixes = json::array();
    for (const auto& n : f.notes) {
      json loc = sarifLocation(n.where, root, n.message);
      loc["id"] = related.size();
      related.push_back(std::move(loc));
      if (n.fixit)
        fixes.push_back(
            {{"description", {{"text", n.message}}},
             {"artifactChanges",
              {{{"artifactLocation", {{"uri", uri(displayPath(n.fixit->begin.file, root))}}},
                {"replacements",
                 {{{"deletedRegion",
                    {{"startLine", n.fixit->begin.line},
                     {"startColumn", n.fixit->begin.column},
                     {"endLine", n.fixit->end.line},
                     {"endColumn", n.fixit->end.column}}},
                   {"insertedContent", {{"text", n.fixit->replacement}}}}}}}}}});
    }
    if (!related.empty()) result["relatedLocations"] = std::move(related);
    if (!fixes.empty()) result["fixes"] = std::move(fixes);
    result["properties"] = {{"coroscopeLint", toJson(f, root)}};
    results.push_back(std::move(result));
  }
  json sarif = {
      {"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
      {"version", "2.1.0"},
      {"runs",
       {{{"tool",
          {{"driver",
            {{"name", "coroscope-lint"}, {"version", COROSCOPE_LINT_VERSION}, {"semanticVersion", COROSCOPE_LINT_VERSION},
             {"rules", std::move(rules)}}}}},
         {"columnKind", "unicodeCodePoints"},
         {"results", std::move(results)}}}}};
  if (summaries != nullptr && summary != nullptr) {
    json failed = json::array();
    for (const auto& file : summary->failed) failed.push_back(displayPath(file, root));
    json all = json::array();
    for (const auto& tu : *summaries) all.push_back(toJson(tu, root));
    sarif["runs"][0]["properties"] = {
        {"coroscopeLint",
         {{"summary",
           {{"files", summary->files}, {"failed_files", std::move(failed)}, {"suppressed", summary->suppressed},
            {"baselined", summary->baselined}}},
          {"summaries", std::move(all)}}}};
  }
  os << sarif.dump(2) << '\n';
}

}  // namespace coroscope::lint
