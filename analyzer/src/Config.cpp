#include "Config.h"

#include "RuleRegistry.h"

#include <llvm/Support/FileSystem.h>
#include <llvm/Support/Path.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <set>
#include <sstream>

namespace coroscope::lint {

namespace {

class ConfigError {
 public:
  ConfigError(const YAML::Node& node, std::string message)
      : line_(node.Mark().line + 1), column_(node.Mark().column + 1), message_(std::move(message)) {}
  std::string format(const std::string& path) const {
    std::ostringstream os;
    os << path << ':' << line_ << ':' << column_ << ": error: " << message_;
    return os.str();
  }

 private:
  int line_;
  int column_;
  std::string message_;
};

std::string scalar(const YAML::Node& node, const std::string& what) {
  if (!node.IsScalar()) throw ConfigError(node, what + " must be a string");
  return node.as<std::string>();
}

bool boolean(const YAML::Node& node, const std::string& what) {
  if (!node.IsScalar()) throw ConfigError(node, what + " must be true or false");
  const std::string v = node.Scalar();
  if (v == "true" || v == "on" || v == "yes") return true;
  if (v == "false" || v == "off" || v == "no") return false;
  throw ConfigError(node, what + " must be true or false, not '" + v + "'");
}

std::vector<std::string> strings(const YAML::Node& node, const std::string& what) {
  if (!node.IsSequence()) throw ConfigError(node, what + " must be a list of names");
  std::vector<std::string> out;
  for (const auto& item : node) {
    std::string name = scalar(item, "each entry of " + what);
    if (name.rfind("::", 0) == 0) name.erase(0, 2);
    out.push_back(std::move(name));
  }
  return out;
}

std::map<std::string, bool> switches(const YAML::Node& node, const std::string& what,
                                     const std::set<std::string>& known) {
  if (!node.IsMap()) throw ConfigError(node, what + " must map names to true or false");
  std::map<std::string, bool> out;
  for (const auto& kv : node) {
    const std::string name = scalar(kv.first, "a key of " + what);
    if (known.count(name) == 0) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      throw ConfigError(kv.first, "unknown " + what.substr(0, what.size() - 1) + " '" + name + "' (known: " +
                                      list + ")");
    }
    out[name] = boolean(kv.second, what + "." + name);
  }
  return out;
}

BlockingEntry blockingEntry(const YAML::Node& node) {
  if (!node.IsMap()) throw ConfigError(node, "each blocking-functions entry must be a map with a 'name'");
  BlockingEntry entry;
  bool named = false;
  for (const auto& kv : node) {
    const std::string key = scalar(kv.first, "a key");
    if (key == "name") {
      entry.name = scalar(kv.second, "name");
      if (entry.name.rfind("::", 0) == 0) entry.name.erase(0, 2);
      named = !entry.name.empty();
    } else if (key == "category") {
      entry.category = scalar(kv.second, "category");
    } else if (key == "replacement") {
      entry.replacement = scalar(kv.second, "replacement");
    } else {
      throw ConfigError(kv.first, "unknown key '" + key +
                                      "' in a blocking-functions entry (known: name, category, replacement)");
    }
  }
  if (!named) throw ConfigError(node, "a blocking-functions entry needs a 'name'");
  return entry;
}

}  // namespace

std::variant<Config, std::string> loadConfig(const std::string& path) {
  Config config;
  config.path = path;
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return path + ": error: cannot read the config file";
  } catch (const YAML::Exception& e) {
    std::ostringstream os;
    os << path << ':' << e.mark.line + 1 << ':' << e.mark.column + 1 << ": error: " << e.msg;
    return os.str();
  }
  if (root.IsNull()) return config;
  try {
    if (!root.IsMap()) throw ConfigError(root, "the config must be a map of keys");
    std::set<std::string> rules;
    for (const auto& info : ruleInfos()) rules.insert(std::string(info.id));
    std::set<std::string> categories;
    for (auto c : builtinCategories()) categories.insert(std::string(c));
    // Categories a config invents for its own functions may be switched too; collect them first.
    if (const auto& bf = root["blocking-functions"]; bf && bf.IsSequence())
      for (const auto& item : bf)
        if (item.IsMap() && item["category"] && item["category"].IsScalar())
          categories.insert(item["category"].Scalar());
    for (const auto& kv : root) {
      const std::string key = scalar(kv.first, "a top-level key");
      const YAML::Node& value = kv.second;
      if (key == "rules") {
        config.rules = switches(value, "rules", rules);
      } else if (key == "categories") {
        config.categories = switches(value, "categories", categories);
      } else if (key == "blocking-functions") {
        if (!value.IsSequence()) throw ConfigError(value, "blocking-functions must be a list");
        for (const auto& item : value) config.blocking_functions.push_back(blockingEntry(item));
      } else if (key == "allow-functions") {
        config.allow_functions = strings(value, "allow-functions");
      } else if (key == "offload-awaitables") {
        config.offload_awaitables = strings(value, "offload-awaitables");
      } else if (key == "task-types") {
        config.task_types = strings(value, "task-types");
      } else if (key == "generators-are-async") {
        config.generators_are_async = boolean(value, "generators-are-async");
      } else {
        throw ConfigError(kv.first, "unknown key '" + key +
                                        "' (known: rules, categories, blocking-functions, allow-functions, "
                                        "offload-awaitables, task-types, generators-are-async)");
      }
    }
  } catch (const ConfigError& e) {
    return e.format(path);
  } catch (const YAML::Exception& e) {
    std::ostringstream os;
    os << path << ':' << e.mark.line + 1 << ':' << e.mark.column + 1 << ": error: " << e.msg;
    return os.str();
  }
  return config;
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
