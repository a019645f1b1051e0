// discarded-task: a call returning a coroutine/task whose result is thrown away, never awaited, stored or
// scheduled: the C++ twin of asyncio's "coroutine ... was never awaited".
#include "RuleRegistry.h"

#include <clang/AST/ASTContext.h>
#include <clang/AST/DeclCXX.h>
#include <clang/AST/ExprCXX.h>
#include <clang/AST/StmtCXX.h>

namespace coroscope::lint {

const RuleInfo kDiscardedTaskInfo{
    "discarded-task",
    "A coroutine's task is created and thrown away",
    "Calling a coroutine function only creates its task; with lazily started tasks nothing runs until the "
    "task is awaited or scheduled, and an eagerly started one is cancelled or destroyed with the temporary. "
    "co_await the result, store it, or hand it to the runtime (e.g. create_task). Cast to (void) to discard "
    "on purpose. Extra task types can be listed under task-types.",
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
    if (type->isReferenceType()) return;
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
    const FunctionDecl* def = callee != nullptr ? callee->getDefinition() : nullptr;
    if (def != nullptr && isCoroutine(*def)) return true;
    if (record == nullptr) return false;
    const std::string name = className(*record);
    if (name == "asio::awaitable" || name == "boost::asio::awaitable") return true;
    for (const auto& t : ctx().config().task_types)
      if (t == name) return true;
    if (def != nullptr || !record->hasDefinition()) return false;
    return !record->lookup(&ctx().ast().Idents.get("promise_type")).empty();
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
