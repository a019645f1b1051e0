// Fuzz target: coroscope-lint JSON and SARIF 2.1.0 (one reader, two targets with their own seeds), as --lint.
#include "json_input.hpp"
#include "render_all.hpp"

using namespace coroscope::report;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    report_input input;
    input.lint.push_back(parse_lint_text(fuzzing::text_of(data, size), "fuzz.json"));
    fuzzing::render_all(input);
  } catch (const input_error&) {
  }
  return 0;
}
