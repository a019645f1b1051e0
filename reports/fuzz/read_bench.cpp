// Fuzz target: Google Benchmark JSON, read as --bench and, compared with itself, as --baseline.
#include "json_input.hpp"
#include "render_all.hpp"

using namespace coroscope::report;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    report_input input;
    input.bench.push_back(parse_bench_text(fuzzing::text_of(data, size), "fuzz.json"));
    input.baseline.push_back(input.bench.back());
    fuzzing::render_all(input);
  } catch (const input_error&) {
    // Rejected with a message naming the file and field: the expected outcome for most mutations.
  }
  return 0;
}
