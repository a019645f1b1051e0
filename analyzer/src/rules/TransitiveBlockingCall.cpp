// transitive-blocking-call: a coroutine calls a plain function of the program whose body reaches a blocking
// call, through any depth of calls and across translation units. This rule only records the coroutine's calls
// (the map step); solveTransitive() (Summary.h) links the summaries of every TU and reports each call whose
// callee reaches a blocking call, with notes walking the chain down to it.
#include "RuleRegistry.h"

#include <clang/AST/ASTContext.h>
#include <clang/AST/DeclCXX.h>
#include <clang/AST/ExprCXX.h>

namespace coroscope::lint {

const RuleInfo kTransitiveBlockingCallInfo{
    "transitive-blocking-call",
    "A coroutine calls a function that blocks",
    "The called function is an ordinary function, but somewhere down its calls (in any translation unit of the "
    "run) it sleeps, waits or does blocking I/O, so calling it from a coroutine stalls the event loop just "
    "like the blocking call itself. The message names the chain and the notes walk it. Make the helper a "
    "coroutine that awaits, run it on a thread pool, or list it under allow-functions if it is known to be "
    "fast.",
    true};

namespace {

using namespace clang;

class TransitiveBlockingCall final : public Rule {
 public:
  explicit TransitiveBlockingCall(RuleContext& ctx) : Rule(kTransitiveBlockingCallInfo, ctx) {}

  void registerMatchers(ast_matchers::MatchFinder& finder) override {
    using namespace ast_matchers;
    finder.addMatcher(callExpr().bind("call"), this);
    finder.addMatcher(cxxConstructExpr().bind("call"), this);
    finder.addMatcher(varDecl(hasLocalStorage()).bind("var"), this);
  }

  void run(const ast_matchers::MatchFinder::MatchResult& result) override {
    if (ctx().offloaded()) return;
    const FunctionDecl* callee = nullptr;
    SourceLocation at;
    if (const auto* e = result.Nodes.getNodeAs<Expr>("call")) {
      // A direct blocking call is blocking-call's; a lambda invoked on the spot is part of this body already.
      if (ctx().blocking(*e) || invokedLambda(e) != nullptr) return;
      if (const auto* call = dyn_cast<CallExpr>(e))
        callee = call->getDirectCallee();
      else if (const auto* ctor = dyn_cast<CXXConstructExpr>(e))
        callee = ctor->getConstructor();
      at = e->getBeginLoc();
    } else if (const auto* var = result.Nodes.getNodeAs<VarDecl>("var")) {
      callee = localDestructor(*var);
      at = var->getLocation();
    }
    if (!ctx().followed(callee)) return;
    ctx().recordCall(info().id, at, *callee);
  }
};

}  // namespace

std::unique_ptr<Rule> makeTransitiveBlockingCall(RuleContext& ctx) {
  return std::make_unique<TransitiveBlockingCall>(ctx);
}

}  // namespace coroscope::lint
