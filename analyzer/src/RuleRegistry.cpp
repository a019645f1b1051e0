#include "RuleRegistry.h"

namespace coroscope::lint {

const std::vector<RuleEntry>& ruleEntries() {
  static const std::vector<RuleEntry> entries = {
      {&kBlockingCallInfo, makeBlockingCall},
      {&kTransitiveBlockingCallInfo, makeTransitiveBlockingCall},
      {&kLockHeldAcrossAwaitInfo, makeLockHeldAcrossAwait},
      {&kDiscardedTaskInfo, makeDiscardedTask},
      {&kDanglingTaskReferenceInfo, makeDanglingTaskReference},
      {&kBlockingLockInfo, makeBlockingLock},
  };
  return entries;
}

std::vector<RuleInfo> ruleInfos() {
  std::vector<RuleInfo> infos;
  for (const auto& entry : ruleEntries()) infos.push_back(*entry.info);
  return infos;
}

}  // namespace coroscope::lint
