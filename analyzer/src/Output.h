// The three report formats. Paths are printed relative to the root (the working directory by default), so
// reports and SARIF URIs do not depend on where the checkout lives.
#pragma once

#include "Driver.h"
#include "Finding.h"

#include <ostream>
#include <string>

namespace coroscope::lint {

struct ReportSummary {
  unsigned files = 0;
  std::vector<std::string> failed;
  unsigned suppressed = 0;   // by NOLINT
  unsigned baselined = 0;    // by --baseline
};

std::string displayPath(const std::string& file, const std::string& root);

void writeText(std::ostream& os, const std::vector<Finding>& findings, const std::string& root);
void writeJson(std::ostream& os, const std::vector<Finding>& findings, const ReportSummary& summary,
               const std::string& root);
void writeSarif(std::ostream& os, const std::vector<Finding>& findings, const std::string& root);

}  // namespace coroscope::lint
