// Fuzz target: conformance JSON (version 1, or coroscope-conform's runs), as --conformance.
#include "json_input.hpp"
#include "render_all.hpp"

using namespace coroscope::report;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    report_input input;
    input.conformance = parse_conformance_text(fuzzing::text_of(data, size), "fuzz.json");
    fuzzing::render_all(input);
  } catch (const input_error&) {
  }
  return 0;
}
