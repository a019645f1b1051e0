// blocking-call: a known-blocking function, method, operator or constructor called in a coroutine body.
#include "CatalogRule.h"
#include "RuleRegistry.h"

namespace coroscope::lint {

const RuleInfo kBlockingCallInfo{
    "blocking-call",
    "A blocking function is called inside a coroutine",
    "A coroutine runs on the event loop's thread: while a call inside it sleeps, waits for another thread, "
    "the disk, the network, a child process or the console, every other task on that loop is stalled. Await "
    "the runtime's asynchronous equivalent instead, or hand the blocking work to a thread pool "
    "(co_await to_thread(...)). The categories (sleep, poll, wait, future, file-io, net-io, dns, process, "
    "console) can be switched in .coroscope-lint.yaml.",
    true};

namespace {

class BlockingCall final : public CatalogRule {
 public:
  explicit BlockingCall(RuleContext& ctx) : CatalogRule(kBlockingCallInfo, ctx, false) {}

 private:
  std::string describe(const BlockingHit& hit) override {
    return "'" + hit.callee + "' blocks the thread inside coroutine '" + ctx().functionName() + "' (" +
           hit.entry->category + ")";
  }
};

}  // namespace

std::unique_ptr<Rule> makeBlockingCall(RuleContext& ctx) { return std::make_unique<BlockingCall>(ctx); }

}  // namespace coroscope::lint
