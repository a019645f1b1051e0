// blocking-lock: a thread mutex acquired inside a coroutine. Off by default: an uncontended lock costs
// nanoseconds; the bug that bites is a lock held across a suspension (lock-held-across-await).
#include "CatalogRule.h"
#include "RuleRegistry.h"

namespace coroscope::lint {

const RuleInfo kBlockingLockInfo{
    "blocking-lock",
    "A thread mutex is acquired inside a coroutine",
    "Acquiring a std::mutex (or pthread mutex, flock, ...) blocks the event loop's thread for as long as "
    "another thread holds it. Short uncontended critical sections are usually fine, which is why this rule is "
    "off by default; enable it where contention is possible and prefer an async mutex.",
    false};

namespace {

class BlockingLock final : public CatalogRule {
 public:
  explicit BlockingLock(RuleContext& ctx) : CatalogRule(kBlockingLockInfo, ctx, true) {}

 private:
  std::string describe(const BlockingHit& hit) override {
    return "'" + hit.callee + "' acquires a thread mutex inside coroutine '" + ctx().functionName() +
           "'; a contended lock stalls the event loop";
  }
};

}  // namespace

std::unique_ptr<Rule> makeBlockingLock(RuleContext& ctx) { return std::make_unique<BlockingLock>(ctx); }

}  // namespace coroscope::lint
