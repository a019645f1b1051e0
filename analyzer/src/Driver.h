// Runs the analysis over many translation units, in parallel, and merges what they found.
#pragma once

#include "Analysis.h"
#include "Config.h"
#include "Finding.h"

#include <string>
#include <vector>

namespace clang::tooling {
class CompilationDatabase;
}

namespace coroscope::lint {

struct DriverOptions {
  unsigned jobs = 1;
  bool progress = false;          // "[n/N] file" on stderr
  std::string resource_dir;       // Clang's builtin headers
  RuleSwitches rules;
};

struct DriverResult {
  std::vector<Finding> findings;        // deduplicated (a header seen by many TUs reports once), sorted
  std::vector<std::string> failed;      // files that did not parse or had no usable config
  unsigned files = 0;
  AnalysisStats stats;
  std::vector<TUSummary> summaries;     // each analysed TU's map-step output (for shard outputs and merge)
};

// Findings as reports list them: one per rule and location (a header seen by many TUs reports once), sorted
// by file, line, column and rule.
void finishFindings(std::vector<Finding>& findings);

DriverResult runAnalysis(const clang::tooling::CompilationDatabase& db, const std::vector<std::string>& files,
                         ConfigResolver& configs, const DriverOptions& options);

// Where Clang's builtin headers are: the configured default when it exists, else next to the executable
// (an installed tree), else what `clang++` on PATH reports.
std::string defaultResourceDir(const char* argv0);

}  // namespace coroscope::lint
