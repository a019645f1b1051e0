// Checks one parsed translation unit: finds every function body outside system headers, decides whether it
// is an async coroutine, and runs the enabled rules' matchers over its statements.
#pragma once

#include "Config.h"
#include "Finding.h"
#include "Summary.h"

#include <vector>

namespace clang {
class ASTContext;
}

namespace coroscope::lint {

struct AnalysisStats {
  unsigned functions = 0;
  unsigned coroutines = 0;
  unsigned suppressed = 0;
};

// The map step for one TU: the findings of every rule but transitive-blocking-call, and the TU's summary
// (empty when that rule is off) from which solveTransitive() makes its findings.
struct TUResult {
  std::vector<Finding> findings;
  TUSummary summary;
};
TUResult analyzeTranslationUnit(clang::ASTContext& ast, const Config& config, const RuleSwitches& cli,
                                AnalysisStats& stats);

}  // namespace coroscope::lint
