// The three report formats. Paths are printed relative to the root (the working directory by default), so
// reports and SARIF URIs do not depend on where the checkout lives.
#pragma once

#include "Driver.h"
#include "Finding.h"
#include "Summary.h"

#include <string_view>

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
// With `summaries` (a shard's run), the report also carries the summary and every TU's map-step summary, so
// `coroscope-lint merge` can combine shards and solve the transitive analysis over all of them: JSON under
// "summaries", SARIF under the run's properties.coroscopeLint. Every SARIF result carries its finding under
// properties.coroscopeLint, so a SARIF report can be merged without loss.
void writeJson(std::ostream& os, const std::vector<Finding>& findings, const ReportSummary& summary,
               const std::string& root, const std::vector<TUSummary>* summaries = nullptr);
void writeSarif(std::ostream& os, const std::vector<Finding>& findings, const std::string& root,
                const ReportSummary* summary = nullptr, const std::vector<TUSummary>* summaries = nullptr);

// The report in a file, or on standard output for "" or "-": the one place coroscope-lint writes its
// outputs (through the shared support library: atomic replace, every write checked). Throws
// coroscope::support::io_error naming the file.
void writeOutput(const std::string& path, std::string_view content);

}  // namespace coroscope::lint
