#pragma once
// Results of a run and the four report formats (text, json, junit, markdown).
#include <conform/model.hpp>

#include <string>
#include <vector>

namespace conform {

// pass | fail | unsupported | note (a failure of an observed-only or version-specific scenario)
struct scenario_result {
  const scenario* s = nullptr;
  std::string status;
  std::vector<event> actual;
  double duration_ms = 0;
  std::string message;
};

struct runtime_result {
  std::string runtime;
  std::string description;
  std::vector<scenario_result> results;
  std::size_t count(const std::string& status) const;
};

std::string report_text(const std::vector<runtime_result>& runs);
json report_json(const std::vector<runtime_result>& runs);
std::string report_junit(const std::vector<runtime_result>& runs);
std::string report_markdown(const std::vector<runtime_result>& runs);

}  // namespace conform
