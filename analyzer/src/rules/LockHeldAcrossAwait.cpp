// lock-held-across-await: a guard of a thread mutex alive at a co_await/co_yield. Another task resumed on the
// same thread that takes the mutex deadlocks the loop, and the mutex is held for as long as the suspension
// lasts. Flow-sensitive in source order and along branches: a guard whose scope ended, or that was unlock()ed
// or release()d on every path to the suspension, is not reported; an unlock on one branch only does not
// clear the other. Guards and thread mutexes come from the catalog (Catalog::isLockGuard,
// guardBlocksThread): the guard of a coroutine mutex (`auto lk = co_await m.lock_async();`) is not
// reported, and the co_await that initialises a guard is not a suspension while it is held.
// Missed on purpose (unclear, so not reported): guards of mutex types the catalog does not know whose lock()
// neither spins nor takes a known mutex, and guard types other than the catalog's.
#include "RuleRegistry.h"

#include <clang/AST/ASTContext.h>
#include <clang/AST/DeclCXX.h>
#include <clang/AST/ExprCXX.h>
#include <clang/AST/StmtCXX.h>

namespace coroscope::lint {

const RuleInfo kLockHeldAcrossAwaitInfo{
    "lock-held-across-await",
    "A lock guard is held across a co_await or co_yield",
    "While the coroutine is suspended the mutex stays locked: any other task on the same thread that locks it "
    "blocks the whole event loop (a deadlock if it is the task that would resume this one), and other threads "
    "wait for as long as the suspension lasts. End the guard's scope or call unlock() before suspending, or "
    "use an async mutex. Guards of coroutine mutexes (no thread blocks on them) are not reported.",
    true};

namespace {

using namespace clang;

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
      if (!ctx().catalog().isLockGuard(*rd) || !ctx().catalog().guardBlocksThread(*rd)) return;
      const std::string name = className(*rd);
      const Stmt* declStmt = ctx().region().parentOf(var);
      const Stmt* scope = declStmt != nullptr ? ctx().region().parentOf(declStmt) : nullptr;
      if (scope == nullptr) return;
      guards_.push_back({var, name, pos, scope, var->getInit(), locksAtConstruction(*var)});
    } else if (const auto* s = result.Nodes.getNodeAs<Expr>("suspend")) {
      events_.push_back({pos, s, nullptr, nullptr, false});
    } else if (const auto* call = result.Nodes.getNodeAs<CXXMemberCallExpr>("toggle")) {
      const auto* ref = dyn_cast_or_null<DeclRefExpr>(stripImplicit(call->getImplicitObjectArgument()));
      const auto* guard = ref != nullptr ? dyn_cast<VarDecl>(ref->getDecl()) : nullptr;
      if (guard == nullptr) return;
      const std::string method = call->getMethodDecl()->getNameAsString();
      events_.push_back({pos, nullptr, call, guard, method != "unlock" && method != "release"});
    }
  }

  void endRegion() override {
    const Region& region = ctx().region();
    for (const Guard& g : guards_) {
      for (const Event& ev : events_) {
        if (ev.pos < g.pos || ev.suspension == nullptr) continue;
        // The co_await that produces the guard runs before the guard holds anything.
        if (g.init != nullptr && (ev.suspension == g.init || region.isAncestor(g.init, ev.suspension))) continue;
        if (!region.isAncestor(g.scope, ev.suspension)) continue;
        // Held on some path: a lock() anywhere before sets it, an unlock() only clears it when every path from
        // the guard to the suspension runs it.
        bool held = g.held;
        for (const Event& t : events_) {
          if (t.pos < g.pos || t.pos >= ev.pos || t.var != g.var) continue;
          if (t.locks)
            held = true;
          else if (alwaysRunsBefore(*t.toggle, *ev.suspension, g.scope))
            held = false;
        }
        if (!held) continue;
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
    const Expr* init;
    bool held;
  };
  struct Event {
    std::size_t pos;
    const Expr* suspension;  // a co_await/co_yield, or
    const Expr* toggle;      // a lock()/unlock() call
    const VarDecl* var;      // on this guard
    bool locks;
  };

  // `first` runs on every path from the top of `scope` to `later`: no branch between them that holds
  // `first` leaves `later` out.
  bool alwaysRunsBefore(const Stmt& first, const Stmt& later, const Stmt* scope) {
    const Region& region = ctx().region();
    auto covers = [&](const Stmt* branch) { return branch == &later || region.isAncestor(branch, &later); };
    const Stmt* child = &first;
    for (const Stmt* parent = region.parentOf(child); parent != nullptr && child != scope;
         child = parent, parent = region.parentOf(parent)) {
      bool conditional = false;
      if (const auto* ifs = dyn_cast<IfStmt>(parent))
        conditional = child == ifs->getThen() || child == ifs->getElse();
      else if (const auto* ws = dyn_cast<WhileStmt>(parent))
        conditional = child == ws->getBody();
      else if (const auto* fs = dyn_cast<ForStmt>(parent))
        conditional = child == fs->getBody() || child == fs->getInc();
      else if (const auto* rs = dyn_cast<CXXForRangeStmt>(parent))
        conditional = child == rs->getBody();
      else if (const auto* ss = dyn_cast<SwitchStmt>(parent))
        conditional = child == ss->getBody();
      else if (isa<SwitchCase, CXXCatchStmt>(parent))
        conditional = true;
      else if (const auto* co = dyn_cast<AbstractConditionalOperator>(parent))
        conditional = child == co->getTrueExpr() || child == co->getFalseExpr();
      else if (const auto* bo = dyn_cast<BinaryOperator>(parent))
        conditional = bo->isLogicalOp() && child == bo->getRHS();
      if (conditional && !covers(child)) return false;
      if (parent == scope) break;
    }
    return true;
  }

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
