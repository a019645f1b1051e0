// .coroscope-lint.yaml: what a project changes about the defaults. Found upward from each analysed file,
// or named with --config.
#pragma once

#include "Catalog.h"

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <variant>
#include <vector>

namespace coroscope::lint {

inline constexpr const char* kConfigFileName = ".coroscope-lint.yaml";

struct Config {
  std::string path;  // empty for the built-in defaults
  std::map<std::string, bool> rules;
  std::map<std::string, bool> categories;
  std::vector<BlockingEntry> blocking_functions;
  std::vector<std::string> allow_functions;
  std::vector<std::string> offload_awaitables;
  std::vector<std::string> task_types;
  bool generators_are_async = false;
};

// The parsed file, or an error message naming the file, line and key (exit 2 for the CLI).
std::variant<Config, std::string> loadConfig(const std::string& path);
// The same for a text already read (`path` only names it): `rules` and `categories` are the names the
// config may switch (categories it invents for its own blocking-functions are added). No Clang needed.
std::variant<Config, std::string> parseConfig(const std::string& text, const std::string& path,
                                              const std::set<std::string>& rules, std::set<std::string> categories);

// Rule switches after the config and the command line (--enable/--disable) have spoken.
struct RuleSwitches {
  std::map<std::string, bool> overrides;  // from the command line, applied last
};
bool ruleEnabled(const std::string& rule, const Config& config, const RuleSwitches& cli);

// The catalog a translation unit is checked with: built-ins, then the config's additions and switches.
Catalog buildCatalog(const Config& config, const RuleSwitches& cli);

// Finds and caches the config that applies to each file (thread-safe).
class ConfigResolver {
 public:
  explicit ConfigResolver(std::string explicit_path) : explicit_path_(std::move(explicit_path)) {}
  // The config for `file`, or an error message.
  std::variant<std::shared_ptr<const Config>, std::string> forFile(const std::string& file);

 private:
  std::variant<std::shared_ptr<const Config>, std::string> load(const std::string& path);
  std::string explicit_path_;
  std::mutex mutex_;
  std::map<std::string, std::variant<std::shared_ptr<const Config>, std::string>> by_path_;
  std::map<std::string, std::string> by_dir_;  // directory -> config path ("" for none)
};

}  // namespace coroscope::lint
