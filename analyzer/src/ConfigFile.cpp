// Reading .coroscope-lint.yaml: kept apart from the analysis (no Clang here) so the fuzzer can build it alone.
#include "Config.h"

#include "InputLimits.h"

#include <yaml-cpp/yaml.h>

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

// "{N}" stands for the call's N-th argument; a number no call can have is a mistake in the config (and
// would not fit an index).
void checkPlaceholders(const YAML::Node& node, const std::string& replacement) {
  for (std::size_t open = replacement.find('{'); open != std::string::npos; open = replacement.find('{', open + 1)) {
    const std::size_t close = replacement.find('}', open);
    if (close == std::string::npos) return;
    const std::string key = replacement.substr(open + 1, close - open - 1);
    if (key.empty() || key.find_first_not_of("0123456789") != std::string::npos) continue;
    if (key.size() > 3 || std::stoul(key) > limits::max_replacement_argument)
      throw ConfigError(node, "replacement placeholder {" + (key.size() > 12 ? key.substr(0, 12) + "..." : key) +
                                  "} is beyond the limit of {" + std::to_string(limits::max_replacement_argument) +
                                  "} (the call's arguments count from {0})");
  }
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
      checkPlaceholders(kv.second, entry.replacement);
    } else {
      throw ConfigError(kv.first, "unknown key '" + key +
                                      "' in a blocking-functions entry (known: name, category, replacement)");
    }
  }
  if (!named) throw ConfigError(node, "a blocking-functions entry needs a 'name'");
  return entry;
}

}  // namespace

std::variant<Config, std::string> parseConfig(const std::string& text, const std::string& path,
                                              const std::set<std::string>& rules, std::set<std::string> categories) {
  Config config;
  config.path = path;
  YAML::Node root;
  try {
    root = YAML::Load(text);  // yaml-cpp refuses nesting deeper than its own limit (DeepRecursion)
  } catch (const YAML::Exception& e) {
    std::ostringstream os;
    os << path << ':' << e.mark.line + 1 << ':' << e.mark.column + 1 << ": error: " << e.msg;
    return os.str();
  }
  if (root.IsNull()) return config;
  try {
    if (!root.IsMap()) throw ConfigError(root, "the config must be a map of keys");
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

}  // namespace coroscope::lint
