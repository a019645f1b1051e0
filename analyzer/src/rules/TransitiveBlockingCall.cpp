// transitive-blocking-call: a coroutine calls a plain function of this translation unit whose body reaches
// a blocking call, through any depth of calls. Reported at the call in the coroutine, with notes walking
// the chain down to the blocking call.
#include "RuleRegistry.h"

#include <clang/AST/ASTContext.h>
#include <clang/AST/DeclCXX.h>
#include <clang/AST/ExprCXX.h>

#include <map>

namespace coroscope::lint {

const RuleInfo kTransitiveBlockingCallInfo{
    "transitive-blocking-call",
    "A coroutine calls a function that blocks",
    "The called function is an ordinary function, but somewhere down its calls (in this translation unit) it "
    "sleeps, waits or does blocking I/O, so calling it from a coroutine stalls the event loop just like the "
    "blocking call itself. The notes walk the chain. Make the helper a coroutine that awaits, run it on a "
    "thread pool, or list it under allow-functions if it is known to be fast.",
    true};

namespace {

using namespace clang;

struct Step {
  SourceLocation loc;
  std::string message;
};

struct Summary {
  bool done = false;
  bool blocking = false;
  std::string category;
  std::vector<Step> steps;
};

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
      callee = calleeOf(*e);
      at = e->getBeginLoc();
    } else if (const auto* var = result.Nodes.getNodeAs<VarDecl>("var")) {
      callee = destructorOf(*var);
      at = var->getLocation();
    }
    if (!eligible(callee)) return;
    const Summary& s = summarize(*callee->getDefinition(), 0);
    if (!s.blocking) return;
    std::vector<NoteSpec> notes;
    for (const auto& step : s.steps) notes.push_back({step.loc, step.message, std::nullopt, {}});
    const std::string name = functionDisplayName(*callee);
    report(at,
           "'" + name + "' blocks the thread inside coroutine '" + ctx().functionName() + "': it reaches a " +
               s.category + " call through " + std::to_string(s.steps.size()) +
               (s.steps.size() == 1 ? " call" : " calls"),
           name, s.category, std::move(notes));
  }

 private:
  static const FunctionDecl* calleeOf(const Expr& e) {
    if (const auto* call = dyn_cast<CallExpr>(&e)) return call->getDirectCallee();
    if (const auto* ctor = dyn_cast<CXXConstructExpr>(&e)) return ctor->getConstructor();
    return nullptr;
  }

  // A local whose destructor has a body runs that body at the end of its scope.
  static const FunctionDecl* destructorOf(const VarDecl& var) {
    if (var.getType()->isReferenceType() || var.isStaticLocal()) return nullptr;
    const auto* rd = var.getType()->getAsCXXRecordDecl();
    if (rd == nullptr || !rd->hasDefinition()) return nullptr;
    return rd->getDestructor();
  }

  bool eligible(const FunctionDecl* fn) {
    if (fn == nullptr) return false;
    const FunctionDecl* def = fn->getDefinition();
    if (def == nullptr || def->getBody() == nullptr || isCoroutine(*def)) return false;
    const SourceManager& sm = ctx().ast().getSourceManager();
    if (sm.isInSystemHeader(sm.getExpansionLoc(def->getLocation()))) return false;
    return !ctx().catalog().isAllowed(qualifiedName(*def));
  }

  const Summary& summarize(const FunctionDecl& fn, int depth) {
    auto it = summaries_.find(&fn);
    if (it != summaries_.end()) return it->second;  // done, or in progress (recursion): not blocking yet
    summaries_[&fn] = Summary{};
    Summary result;
    const Region body = buildRegion(fn);
    const std::string name = functionDisplayName(fn);
    for (const auto& node : body.nodes) {
      const FunctionDecl* next = nullptr;
      SourceLocation at;
      if (const auto* s = node.get<Stmt>()) {
        if (auto hit = ctx().catalog().classify(*s, ctx().ast())) {
          result.blocking = true;
          result.category = hit->entry->category;
          result.steps.push_back({s->getBeginLoc(), "'" + name + "' calls '" + hit->callee + "', which blocks (" +
                                                        hit->entry->category + ")"});
          break;
        }
        if (const auto* e = dyn_cast<Expr>(s)) next = calleeOf(*e), at = s->getBeginLoc();
      } else if (const auto* var = node.get<VarDecl>()) {
        if (var->hasLocalStorage()) next = destructorOf(*var), at = var->getLocation();
      }
      if (depth >= kMaxDepth || !eligible(next) || next->getDefinition() == &fn) continue;
      const Summary& sub = summarize(*next->getDefinition(), depth + 1);
      if (!sub.blocking) continue;
      result.blocking = true;
      result.category = sub.category;
      result.steps.push_back({at, "'" + name + "' calls '" + functionDisplayName(*next) + "'"});
      result.steps.insert(result.steps.end(), sub.steps.begin(), sub.steps.end());
      break;
    }
    result.done = true;
    return summaries_[&fn] = std::move(result);
  }

  static constexpr int kMaxDepth = 32;
  std::map<const FunctionDecl*, Summary> summaries_;
};

}  // namespace

std::unique_ptr<Rule> makeTransitiveBlockingCall(RuleContext& ctx) {
  return std::make_unique<TransitiveBlockingCall>(ctx);
}

}  // namespace coroscope::lint
