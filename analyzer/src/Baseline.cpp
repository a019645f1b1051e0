#include "Baseline.h"

#include "Output.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <tuple>

namespace coroscope::lint {

namespace {

using Key = std::tuple<std::string, std::string, std::string, std::string>;

Key keyOf(const Finding& f, const std::string& root) {
  return {f.rule, displayPath(f.where.file, root), f.function, f.callee};
}

}  // namespace

std::string writeBaseline(const std::string& path, const std::vector<Finding>& findings, const std::string& root) {
  std::map<Key, unsigned> counts;
  for (const auto& f : findings) ++counts[keyOf(f, root)];
  nlohmann::json entries = nlohmann::json::array();
  for (const auto& [key, count] : counts)
    entries.push_back({{"rule", std::get<0>(key)},
                       {"file", std::get<1>(key)},
                       {"function", std::get<2>(key)},
                       {"callee", std::get<3>(key)},
                       {"count", count}});
  std::ofstream out(path);
  if (!out) return "cannot write baseline '" + path + "'";
  out << nlohmann::json{{"version", 1}, {"tool", "coroscope-lint"}, {"findings", entries}}.dump(2) << '\n';
  return out ? "" : "cannot write baseline '" + path + "'";
}

std::string applyBaseline(const std::string& path, std::vector<Finding>& findings, const std::string& root,
                          unsigned& removed) {
  std::ifstream in(path);
  if (!in) return "cannot read baseline '" + path + "'";
  std::map<Key, unsigned> counts;
  try {
    const auto doc = nlohmann::json::parse(in);
    if (doc.value("version", 0) != 1) return "baseline '" + path + "': unsupported or missing \"version\" (want 1)";
    for (const auto& e : doc.at("findings"))
      counts[{e.at("rule").get<std::string>(), e.at("file").get<std::string>(), e.at("function").get<std::string>(),
              e.at("callee").get<std::string>()}] += e.value("count", 1u);
  } catch (const nlohmann::json::exception& e) {
    return "baseline '" + path + "': " + e.what();
  }
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
