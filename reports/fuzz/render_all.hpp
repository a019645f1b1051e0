// What every report fuzz target does with an input that parsed: the whole report, three ways, so names and
// numbers from hostile files reach every renderer.
#pragma once

#include "report.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

namespace coroscope::report::fuzzing {

inline std::string text_of(const std::uint8_t* data, std::size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

inline void render_all(const report_input& input) {
  report_options options;
  options.fail_on = {"regression", "conformance", "lint", "missing"};
  const report_data d = analyse(input, options);
  (void)render_markdown(d);
  (void)render_html(d);
  (void)render_verdict_json(d);
  (void)render_comparison_markdown(d, 10);
}

}  // namespace coroscope::report::fuzzing
