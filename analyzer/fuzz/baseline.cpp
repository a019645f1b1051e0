// Fuzz target: a --baseline file as coroscope-lint reads it (parseBaseline, without the Clang analysis).
#include "Baseline.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Errors come back as messages; anything thrown or any crash is a bug.
  (void)coroscope::lint::parseBaseline(std::string_view(reinterpret_cast<const char*>(data), size), "baseline.json");
  return 0;
}
