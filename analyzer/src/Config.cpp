#include "Config.h"

#include "InputLimits.h"
#include "RuleRegistry.h"

#include <coroscope/support/files.hpp>

#include <llvm/Support/FileSystem.h>
#include <llvm/Support/Path.h>

#include <algorithm>
#include <set>

namespace coroscope::lint {

std::variant<Config, std::string> loadConfig(const std::string& path) {
  std::string text;
  try {
    text = support::read_file(path, limits::max_config_bytes);
  } catch (const support::io_error& e) {  // "PATH: is a directory, not a file", "PATH: cannot open: ..."
    std::string what = e.what();
    if (what.rfind(path + ": ", 0) == 0) what.erase(0, path.size() + 2);
    return path + ": error: " + what;
  }
  std::set<std::string> rules;
  for (const auto& info : ruleInfos()) rules.insert(std::string(info.id));
  std::set<std::string> categories;
  for (auto c : builtinCategories()) categories.insert(std::string(c));
  return parseConfig(text, path, rules, std::move(categories));
}

bool ruleEnabled(const std::string& rule, const Config& config, const RuleSwitches& cli) {
  if (auto it = cli.overrides.find(rule); it != cli.overrides.end()) return it->second;
  if (auto it = config.rules.find(rule); it != config.rules.end()) return it->second;
  // The lock category and the blocking-lock rule are one switch seen from two sides.
  if (rule == "blocking-lock")
    if (auto it = config.categories.find("lock"); it != config.categories.end()) return it->second;
  for (const auto& info : ruleInfos())
    if (info.id == rule) return info.enabled_by_default;
  return false;
}

Catalog buildCatalog(const Config& config, const RuleSwitches& cli) {
  Catalog catalog;
  for (const auto& spec : builtinBlockingSpecs()) {
    BlockingEntry entry;
    entry.category = std::string(spec.category);
    entry.name = std::string(spec.name);
    entry.exemption = spec.exemption;
    entry.arg = spec.arg;
    entry.flag = std::string(spec.flag);
    entry.bit = spec.bit;
    entry.replacement = std::string(spec.replacement);
    catalog.add(std::move(entry));
  }
  for (auto category : builtinCategories())
    catalog.enableCategory(std::string(category), categoryEnabledByDefault(category));
  for (const auto& entry : config.blocking_functions) catalog.addOrOverride(entry);
  for (const auto& [category, on] : config.categories) catalog.enableCategory(category, on);
  catalog.enableCategory("lock", ruleEnabled("blocking-lock", config, cli));
  for (const auto& name : config.allow_functions) catalog.allow(name);
  return catalog;
}

std::variant<std::shared_ptr<const Config>, std::string> ConfigResolver::load(const std::string& path) {
  if (auto it = by_path_.find(path); it != by_path_.end()) return it->second;
  std::variant<std::shared_ptr<const Config>, std::string> result;
  auto loaded = loadConfig(path);
  if (auto* error = std::get_if<std::string>(&loaded))
    result = *error;
  else
    result = std::make_shared<const Config>(std::get<Config>(std::move(loaded)));
  by_path_[path] = result;
  return result;
}

std::variant<std::shared_ptr<const Config>, std::string> ConfigResolver::forFile(const std::string& file) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!explicit_path_.empty()) return load(explicit_path_);
  llvm::SmallString<256> abs(file);
  llvm::sys::fs::make_absolute(abs);
  std::string dir = llvm::sys::path::parent_path(abs).str();
  std::vector<std::string> visited;
  std::string found;
  for (std::string d = dir; !d.empty(); d = llvm::sys::path::parent_path(d).str()) {
    if (auto it = by_dir_.find(d); it != by_dir_.end()) {
      found = it->second;
      break;
    }
    visited.push_back(d);
    llvm::SmallString<256> candidate(d);
    llvm::sys::path::append(candidate, kConfigFileName);
    if (llvm::sys::fs::exists(candidate)) {
      found = candidate.str().str();
      break;
    }
    if (llvm::sys::path::parent_path(d) == d) break;
  }
  for (const auto& d : visited) by_dir_[d] = found;
  if (found.empty()) {
    static const auto defaults = std::make_shared<const Config>();
    return defaults;
  }
  return load(found);
}

}  // namespace coroscope::lint
