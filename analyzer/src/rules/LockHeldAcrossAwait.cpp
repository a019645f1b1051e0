// lock-held-across-await: a lock guard alive at a co_await/co_yield. Another task resumed on the same
// thread that takes the mutex deadlocks the loop, and the mutex is held for as long as the suspension lasts.
// Flow-sensitive in source order: a guard whose scope ended, or that was unlock()ed or release()d before the
// suspension, is not reported.
#include "RuleRegistry.h"

#include <clang/AST/ASTContext.h>
#include <clang/AST/DeclCXX.h>
#include <clang/AST/ExprCXX.h>

#include <algorithm>

namespace coroscope::lint {

const RuleInfo kLockHeldAcrossAwaitInfo{
    "lock-held-across-await",
    "A lock guard is held across a co_await or co_yield",
    "While the coroutine is suspended the mutex stays locked: any other task on the same thread that locks it "
    "blocks the whole event loop (a deadlock if it is the task that would resume this one), and other threads "
    "wait for as long as the suspension lasts. End the guard's scope or call unlock() before suspending, or "
    "use an async mutex.",
    true};

namespace {

using namespace clang;

constexpr std::string_view kGuards[] = {"std::lock_guard", "std::scoped_lock", "std::unique_lock",
                                        "std::shared_lock"};

class LockHeldAcrossAwait final : public Rule {
 public:
  explicit LockHeldAcrossAwait(RuleContext& ctx) : Rule(kLockHeldAcrossAwaitInfo, ctx) {}

  void registerMatchers(ast_matchers::MatchFinder& finder) override {
    using namespace ast_matchers;
    finder.addMatcher(varDecl(hasLocalStorage()).bind("var"), this);
    finder.addMatcher(coawaitExpr().bind("suspend"), this);
    finder.addMatcher(dependentCoawaitExpr().bind("suspend"), this);
    finder.addMatcher(coyieldExpr().bind("suspend"), this);
    finder.addMatcher(
        cxxMemberCallExpr(callee(cxxMethodDecl(hasAnyName("lock", "unlock", "release", "try_lock",
                                                          "try_lock_for", "try_lock_until"))))
            .bind("toggle"),
        this);
  }

  void beginRegion() override {
    guards_.clear();
    events_.clear();
  }

  void run(const ast_matchers::MatchFinder::MatchResult& result) override {
    const std::size_t pos = ctx().position();
    if (const auto* var = result.Nodes.getNodeAs<VarDecl>("var")) {
      const CXXRecordDecl* rd = var->getType()->getAsCXXRecordDecl();
      if (rd == nullptr) return;
      const std::string name = className(*rd);
      if (std::find(std::begin(kGuards), std::end(kGuards), name) == std::end(kGuards)) return;
      const Stmt* declStmt = ctx().region().parentOf(var);
      const Stmt* scope = declStmt != nullptr ? ctx().region().parentOf(declStmt) : nullptr;
      if (scope == nullptr) return;
      guards_.push_back({var, name, pos, scope, locksAtConstruction(*var)});
    } else if (const auto* s = result.Nodes.getNodeAs<Expr>("suspend")) {
      events_.push_back({pos, s, nullptr, false});
    } else if (const auto* call = result.Nodes.getNodeAs<CXXMemberCallExpr>("toggle")) {
      const auto* ref = dyn_cast_or_null<DeclRefExpr>(stripImplicit(call->getImplicitObjectArgument()));
      const auto* guard = ref != nullptr ? dyn_cast<VarDecl>(ref->getDecl()) : nullptr;
      if (guard == nullptr) return;
      const std::string method = call->getMethodDecl()->getNameAsString();
      events_.push_back({pos, nullptr, guard, method != "unlock" && method != "release"});
    }
  }

  void endRegion() override {
    for (const Guard& g : guards_) {
      bool held = g.held;
      for (const Event& ev : events_) {
        if (ev.pos < g.pos) continue;
        if (ev.suspension == nullptr) {
          if (ev.var == g.var) held = ev.locks;
          continue;
        }
        if (!held || !ctx().region().isAncestor(g.scope, ev.suspension)) continue;
        const char* what = isa<CoyieldExpr>(ev.suspension) ? "co_yield" : "co_await";
        const std::string var = g.var->getNameAsString();
        report(ev.suspension->getBeginLoc(),
               "lock guard '" + var + "' (" + g.type + ") is held across " + what + " in coroutine '" +
                   ctx().functionName() + "'",
               g.type, "lock",
               {NoteSpec{g.var->getLocation(), "'" + var + "' locks here", std::nullopt, {}},
                NoteSpec{ev.suspension->getBeginLoc(),
                         "end the guard's scope or call " + var + ".unlock() before " + what, std::nullopt, {}}});
        break;
      }
    }
  }

 private:
  struct Guard {
    const VarDecl* var;
    std::string type;
    std::size_t pos;
    const Stmt* scope;
    bool held;
  };
  struct Event {
    std::size_t pos;
    const Expr* suspension;  // a co_await/co_yield, or
    const VarDecl* var;      // a lock()/unlock() on this guard
    bool locks;
  };

  static bool locksAtConstruction(const VarDecl& var) {
    const auto* ctor = dyn_cast_or_null<CXXConstructExpr>(stripImplicit(var.getInit()));
    if (ctor == nullptr) return var.getInit() != nullptr;  // e.g. returned by a function: assume it owns
    if (ctor->getNumArgs() == 0 || ctor->getConstructor()->isCopyOrMoveConstructor()) return false;
    for (const Expr* arg : ctor->arguments())
      if (const auto* rd = arg->getType()->getAsCXXRecordDecl())
        if (className(*rd) == "std::defer_lock_t") return false;
    return true;
  }

  std::vector<Guard> guards_;
  std::vector<Event> events_;
};

}  // namespace

std::unique_ptr<Rule> makeLockHeldAcrossAwait(RuleContext& ctx) {
  return std::make_unique<LockHeldAcrossAwait>(ctx);
}

}  // namespace coroscope::lint
