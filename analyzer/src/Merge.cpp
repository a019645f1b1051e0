#include "Merge.h"

#include "Driver.h"
#include "Output.h"
#include "RuleRegistry.h"
#include "Summary.h"

#include <coroscope/support/files.hpp>
#include <coroscope/support/json.hpp>

#include <iostream>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>

namespace coroscope::lint {

namespace {

using nlohmann::json;

constexpr const char* kUsage =
    "usage: coroscope-lint merge [--format json|sarif|text] [-o FILE] <shard report>...\n"
    "\n"
    "Combines the reports of `coroscope-lint --shard K/N --format json|sarif` runs into one report. Findings\n"
    "are deduplicated and sorted; transitive-blocking-call is solved again over the summaries of all shards,\n"
    "so a chain from a coroutine in one shard to a blocking call in another is reported. A report without\n"
    "summaries (not a shard run) contributes its findings as they are. Inputs may mix JSON and SARIF.\n"
    "\n"
    "  --format json|sarif|text   output format (default: json)\n"
    "  -o, --output FILE          write the report to FILE instead of stdout (never over an input)\n"
    "  -h, --help                 this text\n"
    "\n"
    "Exit status: 0 no findings, 1 findings, 2 usage or input error, or a shard whose files did not parse.\n";

struct Input {
  std::vector<Finding> findings;
  std::vector<TUSummary> summaries;
  bool has_summaries = false;
  ReportSummary summary;
};

// Runs `fn`, turning a malformed element into an error naming the file and the JSON path.
template <typename Fn>
auto at(const std::string& file, const std::string& where, Fn fn) {
  try {
    return fn();
  } catch (const std::runtime_error& e) {
    throw coroscope::support::input_error(file, where, e.what());
  } catch (const json::exception&) {
    throw coroscope::support::input_error(file, where, "malformed");
  }
}

void readSummary(const json& s, Input& in, const std::string& file, const std::string& where) {
  at(file, where, [&] {
    in.summary.files = s.at("files").get<unsigned>();
    for (const auto& f : s.at("failed_files")) in.summary.failed.push_back(f.get<std::string>());
    in.summary.suppressed = s.value("suppressed", 0u);
    in.summary.baselined = s.value("baselined", 0u);
    return 0;
  });
}

void readSummaries(const json& list, Input& in, const std::string& file, const std::string& where) {
  in.has_summaries = true;
  if (!list.is_array()) throw coroscope::support::input_error(file, where, "expected an array");
  for (std::size_t i = 0; i < list.size(); ++i)
    in.summaries.push_back(
        at(file, where + "[" + std::to_string(i) + "]", [&] { return summaryFromJson(list[i]); }));
}

Input readInput(const std::string& file) {
  const json doc = coroscope::support::read_json_file(file);
  Input in;
  if (!doc.is_object()) throw coroscope::support::input_error(file, "", "not a coroscope-lint report");
  if (doc.contains("runs")) {  // SARIF
    const json& runs = doc.at("runs");
    if (!runs.is_array() || runs.size() != 1 || !runs[0].is_object())
      throw coroscope::support::input_error(file, "runs", "expected one run of coroscope-lint");
    const json& run = runs[0];
    const json results = run.value("results", json::array());
    for (std::size_t i = 0; i < results.size(); ++i) {
      const std::string where = "runs[0].results[" + std::to_string(i) + "]";
      in.findings.push_back(at(file, where + ".properties.coroscopeLint",
                               [&] { return findingFromJson(results[i].at("properties").at("coroscopeLint")); }));
    }
    if (run.contains("properties") && run["properties"].contains("coroscopeLint")) {
      const json& extra = run["properties"]["coroscopeLint"];
      if (extra.contains("summary"))
        readSummary(extra["summary"], in, file, "runs[0].properties.coroscopeLint.summary");
      if (extra.contains("summaries"))
        readSummaries(extra["summaries"], in, file, "runs[0].properties.coroscopeLint.summaries");
    }
    return in;
  }
  if (!doc.contains("findings") || !doc.at("findings").is_array())
    throw coroscope::support::input_error(file, "findings", "missing: not a coroscope-lint report");
  const json& findings = doc.at("findings");
  for (std::size_t i = 0; i < findings.size(); ++i)
    in.findings.push_back(
        at(file, "findings[" + std::to_string(i) + "]", [&] { return findingFromJson(findings[i]); }));
  if (doc.contains("summary")) readSummary(doc.at("summary"), in, file, "summary");
  if (doc.contains("summaries")) readSummaries(doc.at("summaries"), in, file, "summaries");
  return in;
}

}  // namespace

int runMerge(int argc, const char** argv) {
  std::string format = "json";
  std::string output;
  std::vector<std::string> inputs;
  auto usage = [](const std::string& message) {
    std::cerr << "coroscope-lint merge: error: " << message << "\n" << kUsage;
    return 2;
  };
  bool options = true;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](const std::string& name) -> std::optional<std::string> {
      if (arg.rfind(name + "=", 0) == 0) return arg.substr(name.size() + 1);
      if (arg == name) {
        if (i + 1 >= argc) return std::nullopt;
        return std::string(argv[++i]);
      }
      return std::nullopt;
    };
    if (!options || arg.empty() || arg[0] != '-' || arg == "-") {
      inputs.push_back(arg);
    } else if (arg == "--") {
      options = false;
    } else if (arg == "-h" || arg == "--help") {
      std::cout << kUsage;
      return 0;
    } else if (arg == "--format" || arg.rfind("--format=", 0) == 0) {
      auto v = value("--format");
      if (!v) return usage("--format needs a value");
      format = *v;
      if (format != "json" && format != "sarif" && format != "text")
        return usage("--format: unknown format '" + format + "' (json, sarif, text)");
    } else if (arg == "-o" || arg == "--output" || arg.rfind("-o=", 0) == 0 || arg.rfind("--output=", 0) == 0) {
      auto v = arg.rfind("-o", 0) == 0 && arg.rfind("--", 0) != 0 ? value("-o") : value("--output");
      if (!v || v->empty()) return usage(arg + " needs a file");
      output = *v;
    } else {
      return usage("unknown option '" + arg + "'");
    }
  }
  if (inputs.empty()) return usage("no shard reports given");

  std::vector<Finding> findings;
  std::vector<TUSummary> summaries;
  ReportSummary summary;
  try {
    if (!output.empty() && output != "-") {
      std::vector<std::filesystem::path> paths(inputs.begin(), inputs.end());
      coroscope::support::refuse_output_over_inputs(output, paths);
    }
    for (const auto& file : inputs) {
      Input in = readInput(file);
      for (auto& f : in.findings)
        if (!in.has_summaries || f.rule != kTransitiveBlockingCallInfo.id) findings.push_back(std::move(f));
      for (auto& s : in.summaries) summaries.push_back(std::move(s));
      summary.files += in.summary.files;
      summary.suppressed += in.summary.suppressed;
      summary.baselined += in.summary.baselined;
      for (auto& f : in.summary.failed) summary.failed.push_back(std::move(f));
    }
  } catch (const std::exception& e) {
    std::cerr << "coroscope-lint merge: error: " << e.what() << '\n';
    return 2;
  }
  std::vector<const TUSummary*> all;
  for (const auto& s : summaries) all.push_back(&s);
  for (auto& f : solveTransitive(all)) findings.push_back(std::move(f));
  finishFindings(findings);

  // Paths in shard reports are already relative to their root: print them as they are.
  std::ostringstream text;
  if (format == "json")
    writeJson(text, findings, summary, "");
  else if (format == "sarif")
    writeSarif(text, findings, "");
  else
    writeText(text, findings, "");
  try {
    writeOutput(output, text.str());
  } catch (const std::exception& e) {
    std::cerr << "coroscope-lint merge: error: " << e.what() << '\n';
    return 2;
  }
  if (!summary.failed.empty()) return 2;
  return findings.empty() ? 0 : 1;
}

}  // namespace coroscope::lint
