// dangling-task-reference: a coroutine takes a reference parameter (or is a lambda coroutine with captures)
// bound to a local or a temporary of its caller, and the caller spawns the task (a catalogue spawn function:
// create_task, co_spawn, ...) and then ends the full-expression (a temporary) or returns (a local) before the
// task is awaited. The task's frame keeps only the reference: it reads a dead object when it runs.
// Reported only in that spawned-and-outlived shape, so reference parameters of coroutines that are awaited
// on the spot (`co_await f(local)`) are never reported.
// Missed on purpose (unclear, so not reported): tasks stored in a variable or container and spawned later,
// spawn results kept by the caller (it may await them before returning), coroutines only declared in the TU,
// spawn functions outside the catalogue, and locals reached through pointers or members.
#include "RuleRegistry.h"

#include <clang/AST/ASTContext.h>
#include <clang/AST/DeclCXX.h>
#include <clang/AST/ExprCXX.h>
#include <clang/AST/StmtCXX.h>

namespace coroscope::lint {

const RuleInfo kDanglingTaskReferenceInfo{
    "dangling-task-reference",
    "A spawned coroutine keeps a reference to a local or temporary that dies first",
    "A coroutine's frame stores its reference parameters (and a lambda coroutine its closure) as references: "
    "when the caller spawns the task and then returns, or the full-expression holding a temporary argument "
    "ends, the task later reads a destroyed object. Pass by value (the frame then owns a copy), keep the "
    "object alive until the task is awaited, or await the task before the object goes away.",
    true};

namespace {

using namespace clang;

class DanglingTaskReference final : public Rule {
 public:
  explicit DanglingTaskReference(RuleContext& ctx) : Rule(kDanglingTaskReferenceInfo, ctx) {}

  Scope scope() const override { return Scope::AllFunctions; }

  void registerMatchers(ast_matchers::MatchFinder& finder) override {
    using namespace ast_matchers;
    finder.addMatcher(callExpr().bind("call"), this);
  }

  void run(const ast_matchers::MatchFinder::MatchResult& result) override {
    const auto* call = result.Nodes.getNodeAs<CallExpr>("call");
    if (call == nullptr || call->isTypeDependent()) return;
    const FunctionDecl* callee = call->getDirectCallee();
    const FunctionDecl* def = callee != nullptr ? callee->getDefinition() : nullptr;
    if (def == nullptr || !isCoroutine(*def)) return;
    // What the task is handed to: a spawn, whose own result is then dropped or returned.
    const Expr* spawn = spawningCall(*call);
    if (spawn == nullptr) return;
    const bool callerMovesOn = dropsOrReturns(*spawn);
    for (const auto& [where, what, temporary] : danglingArguments(*call, *def)) {
      // A temporary dies at the end of this full-expression, which holds no co_await of the task; a local
      // dies when the caller returns, which it is about to do without keeping the spawned task.
      if (!temporary && !callerMovesOn) continue;
      report(where,
             "coroutine '" + functionDisplayName(*def) + "' keeps a reference to " + what + ", which " +
                 (temporary ? "is destroyed at the end of the full-expression" : "dies when '" +
                                                                                    ctx().functionName() +
                                                                                    "' returns") +
                 ", but the task is spawned and may run later",
             functionDisplayName(*def), "lifetime",
             {NoteSpec{spawn->getBeginLoc(), "the task is spawned here and not awaited before that", std::nullopt,
                       {}}});
      return;
    }
  }

 private:
  struct Dangling {
    SourceLocation where;
    std::string what;
    bool temporary;
  };

  // Arguments bound to reference parameters that name a local (or by-value parameter) or a temporary; for a
  // lambda coroutine called on the spot, its captures (the closure is a temporary).
  std::vector<Dangling> danglingArguments(const CallExpr& call, const FunctionDecl& def) {
    std::vector<Dangling> out;
    if (const auto* op = dyn_cast<CXXOperatorCallExpr>(&call); op != nullptr && op->getNumArgs() > 0) {
      if (const auto* lambda = dyn_cast<LambdaExpr>(stripImplicit(op->getArg(0)))) {
        for (const LambdaCapture& c : lambda->captures()) {
          if (!c.capturesVariable() && !c.capturesThis()) continue;
          const std::string name = c.capturesThis() ? "'this'" : "'" + c.getCapturedVar()->getNameAsString() + "'";
          const bool byRef = c.getCaptureKind() == LCK_ByRef;
          out.push_back({c.getLocation(),
                         byRef ? "local " + name + " (captured by reference)"
                               : "capture " + name + " of a temporary closure",
                         !byRef});
        }
        return out;
      }
    }
    const unsigned offset = isa<CXXOperatorCallExpr>(call) && isa<CXXMethodDecl>(def) ? 1 : 0;
    for (unsigned i = 0; i + offset < call.getNumArgs() && i < def.getNumParams(); ++i) {
      if (!def.getParamDecl(i)->getType()->isReferenceType()) continue;
      const Expr* arg = call.getArg(i + offset);
      const Expr* bare = arg->IgnoreParens();
      while (const auto* cast = dyn_cast<ImplicitCastExpr>(bare)) bare = cast->getSubExpr()->IgnoreParens();
      if (isa<MaterializeTemporaryExpr>(bare)) {
        out.push_back({arg->getBeginLoc(), "a temporary", true});
        continue;
      }
      const auto* ref = dyn_cast<DeclRefExpr>(stripImplicit(arg));
      const auto* var = ref != nullptr ? dyn_cast<VarDecl>(ref->getDecl()) : nullptr;
      if (var == nullptr || !var->hasLocalStorage() || var->getType()->isReferenceType()) continue;
      out.push_back({arg->getBeginLoc(), "local '" + var->getNameAsString() + "'", false});
    }
    return out;
  }

  // Skips the implicit nodes between an expression and what uses its value.
  const Stmt* user(const Stmt* s, const Stmt** child = nullptr) {
    const Region& region = ctx().region();
    const Stmt* parent = region.parentOf(s);
    while (parent != nullptr &&
           isa<ExprWithCleanups, CXXBindTemporaryExpr, MaterializeTemporaryExpr, ImplicitCastExpr, ParenExpr,
               CXXFunctionalCastExpr, ConstantExpr>(parent)) {
      s = parent;
      parent = region.parentOf(parent);
    }
    // A by-value task parameter is move-constructed from the temporary.
    if (const auto* ctor = dyn_cast_or_null<CXXConstructExpr>(parent);
        ctor != nullptr && ctor->getConstructor()->isCopyOrMoveConstructor())
      return user(parent, child);
    if (child != nullptr) *child = s;
    return parent;
  }

  // The catalogue spawn call the task is an argument of (or the object of: `task.start(...)`).
  const Expr* spawningCall(const CallExpr& task) {
    const Stmt* parent = user(&task);
    if (isa_and_nonnull<MemberExpr>(parent)) parent = ctx().region().parentOf(parent);  // task.start(...)
    const auto* call = dyn_cast_or_null<CallExpr>(parent);
    if (call == nullptr || call->getDirectCallee() == nullptr) return nullptr;
    return ctx().catalog().isSpawn(*call) ? call : nullptr;
  }

  // The spawn's result (the handle the caller could await) is thrown away or returned.
  bool dropsOrReturns(const Expr& spawn) {
    const Stmt* child = nullptr;
    const Stmt* parent = user(&spawn, &child);
    if (parent == nullptr) return false;
    if (isa<ReturnStmt, CoreturnStmt>(parent)) return true;
    if (isa<CompoundStmt, SwitchCase, LabelStmt, AttributedStmt>(parent)) return true;
    if (const auto* s = dyn_cast<IfStmt>(parent)) return child == s->getThen() || child == s->getElse();
    if (const auto* cast = dyn_cast<CStyleCastExpr>(parent)) return cast->getType()->isVoidType();
    return false;
  }
};

}  // namespace

std::unique_ptr<Rule> makeDanglingTaskReference(RuleContext& ctx) {
  return std::make_unique<DanglingTaskReference>(ctx);
}

}  // namespace coroscope::lint
