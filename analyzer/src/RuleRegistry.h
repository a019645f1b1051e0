// The list of rules, as data: adding a rule is one file plus one line in RuleRegistry.cpp.
#pragma once

#include "Rule.h"

#include <memory>
#include <vector>

namespace coroscope::lint {

using RuleFactory = std::unique_ptr<Rule> (*)(RuleContext&);

struct RuleEntry {
  const RuleInfo* info;
  RuleFactory make;
};

const std::vector<RuleEntry>& ruleEntries();
std::vector<RuleInfo> ruleInfos();

// Each rule's file defines these two.
#define COROSCOPE_LINT_DECLARE_RULE(Name)          \
  extern const RuleInfo k##Name##Info;             \
  std::unique_ptr<Rule> make##Name(RuleContext& ctx)

COROSCOPE_LINT_DECLARE_RULE(BlockingCall);
COROSCOPE_LINT_DECLARE_RULE(TransitiveBlockingCall);
COROSCOPE_LINT_DECLARE_RULE(LockHeldAcrossAwait);
COROSCOPE_LINT_DECLARE_RULE(DiscardedTask);
COROSCOPE_LINT_DECLARE_RULE(BlockingLock);
COROSCOPE_LINT_DECLARE_RULE(DanglingTaskReference);

#undef COROSCOPE_LINT_DECLARE_RULE

}  // namespace coroscope::lint
