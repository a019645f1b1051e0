// discarded-task: a call returning a lazily started coroutine/task whose result is thrown away, never awaited,
// stored or scheduled: the C++ twin of asyncio's "coroutine ... was never awaited". Lazy is decided from the
// promise: its initial_suspend() returns an awaiter whose await_ready() returns a constant false and whose
// await_suspend() returns void (or a constant true). Eager and fire-and-forget types (suspend_never) and
// `void` coroutines run when called; dropping them is the design, so they are not reported.
// Missed on purpose (unclear, so not reported): awaiters whose await_ready() is not a single constant return,
// initial awaiters that transfer to another coroutine, and coroutines declared (not defined) in the TU whose
// promise comes from a std::coroutine_traits specialisation rather than a nested promise_type.
#include "RuleRegistry.h"

#include <clang/AST/ASTContext.h>
#include <clang/AST/DeclCXX.h>
#include <clang/AST/ExprCXX.h>
#include <clang/AST/StmtCXX.h>

namespace coroscope::lint {

const RuleInfo kDiscardedTaskInfo{
    "discarded-task",
    "A coroutine's task is created and thrown away",
    "Calling a lazily started coroutine function only creates its task: nothing runs until the task is "
    "awaited or scheduled, so dropping it silently skips the work. co_await the result, store it, or hand it "
    "to the runtime (e.g. create_task). Cast to (void) to discard on purpose. Eager and fire-and-forget "
    "coroutines (initial_suspend does not suspend, or returning void) are not reported. Extra task types can "
    "be listed under task-types (reported whatever their promise says).",
    true};

namespace {

using namespace clang;

class DiscardedTask final : public Rule {
 public:
  explicit DiscardedTask(RuleContext& ctx) : Rule(kDiscardedTaskInfo, ctx) {}

  Scope scope() const override { return Scope::AllFunctions; }

  void registerMatchers(ast_matchers::MatchFinder& finder) override {
    using namespace ast_matchers;
    finder.addMatcher(callExpr().bind("call"), this);
  }

  void run(const ast_matchers::MatchFinder::MatchResult& result) override {
    const auto* call = result.Nodes.getNodeAs<CallExpr>("call");
    if (call == nullptr || call->isTypeDependent()) return;
    const QualType type = call->getType();
    if (type->isReferenceType() || type->isVoidType()) return;
    const CXXRecordDecl* record = type->getAsCXXRecordDecl();
    const FunctionDecl* callee = call->getDirectCallee();
    if (!isTask(record, callee) || !discarded(*call)) return;
    const std::string name = callee != nullptr ? qualifiedName(*callee) : std::string("<call>");
    report(call->getBeginLoc(),
           "the task returned by '" + name + "' is discarded: the coroutine is never awaited, stored or "
           "scheduled",
           name, "task",
           {NoteSpec{call->getBeginLoc(), "co_await it, keep it, or schedule it; cast to (void) to discard on "
                                          "purpose",
                     std::nullopt, {}}});
  }

 private:
  // A task is what a coroutine function returns. A plain function defined here that returns one may well
  // schedule it (create_task), so only listed types are reported for those.
  bool isTask(const CXXRecordDecl* record, const FunctionDecl* callee) {
    if (record == nullptr) return false;
    const std::string name = className(*record);
    for (const auto& t : ctx().config().task_types)
      if (t == name) return true;
    const FunctionDecl* def = callee != nullptr ? callee->getDefinition() : nullptr;
    if (def != nullptr && !isCoroutine(*def)) return false;
    const CXXRecordDecl* promise = nullptr;
    if (def != nullptr) {
      if (const VarDecl* p = cast<CoroutineBodyStmt>(def->getBody())->getPromiseDecl())
        promise = p->getType()->getAsCXXRecordDecl();
    } else if (record->hasDefinition()) {
      promise = memberType(*record, "promise_type");
    }
    return promise != nullptr && startsLazily(*promise);
  }

  const CXXRecordDecl* memberType(const CXXRecordDecl& record, llvm::StringRef name) {
    for (const NamedDecl* d : record.lookup(&ctx().ast().Idents.get(name))) {
      if (const auto* rd = dyn_cast<CXXRecordDecl>(d)) return rd;
      if (const auto* td = dyn_cast<TypedefNameDecl>(d)) return td->getUnderlyingType()->getAsCXXRecordDecl();
    }
    return nullptr;
  }

  const CXXMethodDecl* method(const CXXRecordDecl& record, llvm::StringRef name) {
    for (const NamedDecl* d : record.lookup(&ctx().ast().Idents.get(name)))
      if (const auto* m = dyn_cast<CXXMethodDecl>(d)) return m;
    return nullptr;
  }

  // `{ return <constant>; }`: the constant, else nothing.
  std::optional<bool> constantReturn(const CXXMethodDecl* m) {
    const FunctionDecl* def = m != nullptr ? m->getDefinition() : nullptr;
    const auto* body = def != nullptr ? dyn_cast_or_null<CompoundStmt>(def->getBody()) : nullptr;
    if (body == nullptr || body->size() != 1) return std::nullopt;
    const auto* ret = dyn_cast<ReturnStmt>(body->body_front());
    bool value = false;
    if (ret == nullptr || ret->getRetValue() == nullptr || ret->getRetValue()->isValueDependent() ||
        !ret->getRetValue()->EvaluateAsBooleanCondition(value, ctx().ast()))
      return std::nullopt;
    return value;
  }

  bool startsLazily(const CXXRecordDecl& promise) {
    const CXXMethodDecl* initial = method(promise, "initial_suspend");
    if (initial == nullptr) return false;
    const CXXRecordDecl* awaiter = initial->getReturnType()->getAsCXXRecordDecl();
    if (awaiter == nullptr || !awaiter->hasDefinition()) return false;
    if (constantReturn(method(*awaiter, "await_ready")) != std::optional<bool>(false)) return false;
    const CXXMethodDecl* suspend = method(*awaiter, "await_suspend");
    if (suspend == nullptr) return false;
    const QualType result = suspend->getReturnType();
    if (result->isVoidType()) return true;
    return result->isBooleanType() && constantReturn(suspend) == std::optional<bool>(true);
  }

  // The value ends up nowhere: the call is a statement of its own (through temporaries and cleanups).
  bool discarded(const CallExpr& call) {
    const Region& region = ctx().region();
    const Stmt* child = &call;
    const Stmt* parent = region.parentOf(child);
    while (parent != nullptr &&
           isa<ExprWithCleanups, CXXBindTemporaryExpr, MaterializeTemporaryExpr, ParenExpr, ConstantExpr>(parent)) {
      child = parent;
      parent = region.parentOf(parent);
    }
    if (parent == nullptr) return false;
    if (isa<CompoundStmt, SwitchCase, LabelStmt, AttributedStmt>(parent)) return true;
    if (const auto* s = dyn_cast<IfStmt>(parent)) return child == s->getThen() || child == s->getElse();
    if (const auto* s = dyn_cast<ForStmt>(parent)) return child == s->getBody() || child == s->getInc();
    if (const auto* s = dyn_cast<WhileStmt>(parent)) return child == s->getBody();
    if (const auto* s = dyn_cast<DoStmt>(parent)) return child == s->getBody();
    if (const auto* s = dyn_cast<CXXForRangeStmt>(parent)) return child == s->getBody();
    if (const auto* op = dyn_cast<BinaryOperator>(parent)) return op->isCommaOp() && child == op->getLHS();
    return false;
  }
};

}  // namespace

std::unique_ptr<Rule> makeDiscardedTask(RuleContext& ctx) { return std::make_unique<DiscardedTask>(ctx); }

}  // namespace coroscope::lint
