#include "Baseline.h"

#include "InputLimits.h"
#include "Output.h"

#include <coroscope/support/files.hpp>

#include <nlohmann/json.hpp>

#include <map>
#include <tuple>

namespace coroscope::lint {

namespace {

BaselineKey keyOf(const Finding& f, const std::string& root) {
  return {f.rule, displayPath(f.where.file, root), f.function, f.callee};
}

}  // namespace

std::string writeBaseline(const std::string& path, const std::vector<Finding>& findings, const std::string& root) {
  std::map<BaselineKey, unsigned> counts;
  for (const auto& f : findings) ++counts[keyOf(f, root)];
  nlohmann::json entries = nlohmann::json::array();
  for (const auto& [key, count] : counts)
    entries.push_back({{"rule", std::get<0>(key)},
                       {"file", std::get<1>(key)},
                       {"function", std::get<2>(key)},
                       {"callee", std::get<3>(key)},
                       {"count", count}});
  try {
    support::write_file(path, nlohmann::json{{"version", 1}, {"tool", "coroscope-lint"}, {"findings", entries}}.dump(2) + "\n");
  } catch (const support::io_error& e) {
    return e.what();
  }
  return "";
}

std::string applyBaseline(const std::string& path, std::vector<Finding>& findings, const std::string& root,
                          unsigned& removed) {
  std::string text;
  try {
    text = support::read_file(path, limits::max_baseline_bytes);
  } catch (const support::io_error& e) {  // names the path: missing, a directory, too large
    return e.what();
  }
  auto parsed = parseBaseline(text, path);
  if (auto* error = std::get_if<std::string>(&parsed)) return *error;
  auto& counts = std::get<BaselineCounts>(parsed);
  std::vector<Finding> kept;
  for (auto& f : findings) {
    auto it = counts.find(keyOf(f, root));
    if (it != counts.end() && it->second > 0) {
      --it->second;
      ++removed;
      continue;
    }
    kept.push_back(std::move(f));
  }
  findings = std::move(kept);
  return "";
}

}  // namespace coroscope::lint
