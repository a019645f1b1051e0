// Fuzz target: .coroscope-lint.yaml as coroscope-lint reads it (parseConfig, without the Clang analysis).
#include "Catalog.h"
#include "Config.h"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace coroscope::lint;
  // The rule ids a config may switch; the real list lives with the rules (Clang), which this build leaves out.
  static const std::set<std::string> rules = {"blocking-call", "transitive-blocking-call", "lock-held-across-await",
                                              "discarded-task", "blocking-lock"};
  std::set<std::string> categories;
  for (auto c : builtinCategories()) categories.insert(std::string(c));
  // Errors come back as messages; anything thrown or any crash is a bug.
  (void)parseConfig(std::string(reinterpret_cast<const char*>(data), size), ".coroscope-lint.yaml", rules, categories);
  return 0;
}
