#include "Region.h"

#include <clang/AST/DeclCXX.h>
#include <clang/AST/ExprCXX.h>
#include <clang/AST/RecursiveASTVisitor.h>
#include <clang/AST/StmtCXX.h>

#include <llvm/ADT/SmallPtrSet.h>

namespace coroscope::lint {

using namespace clang;

namespace {

class Walker : public RecursiveASTVisitor<Walker> {
  using Base = RecursiveASTVisitor<Walker>;

 public:
  explicit Walker(Region& region) : region_(region) {}

  bool shouldVisitImplicitCode() const { return false; }
  bool shouldVisitTemplateInstantiations() const { return false; }

  bool TraverseStmt(Stmt* s, DataRecursionQueue* = nullptr) {
    if (s == nullptr) return true;
    record(s, DynTypedNode::create(*s));
    if (isa<CoawaitExpr, DependentCoawaitExpr>(s)) region_.has_await = true;
    if (isa<CoyieldExpr>(s)) region_.has_yield = true;
    if (const LambdaExpr* lambda = invokedLambda(s)) invoked_.insert(lambda);
    stack_.push_back(s);
    const bool ok = Base::TraverseStmt(s);
    stack_.pop_back();
    return ok;
  }

  bool TraverseLambdaExpr(LambdaExpr* lambda, DataRecursionQueue* = nullptr) {
    // Captures are copied where the lambda is created, so they belong to the enclosing body.
    for (Expr* init : lambda->capture_inits()) TraverseStmt(init);
    const bool runsHere = invoked_.contains(lambda) && !isa<CoroutineBodyStmt>(lambda->getBody());
    return runsHere ? TraverseStmt(lambda->getBody()) : true;
  }

  bool TraverseDecl(Decl* d) {
    // Local classes and functions declared in a body run elsewhere; only variables run here.
    auto* var = dyn_cast_or_null<VarDecl>(d);
    if (var == nullptr) return true;
    record(var, DynTypedNode::create(*var));
    return var->getInit() == nullptr || TraverseStmt(var->getInit());
  }

  // Unevaluated operands never run.
  bool TraverseUnaryExprOrTypeTraitExpr(UnaryExprOrTypeTraitExpr*, DataRecursionQueue* = nullptr) { return true; }
  bool TraverseCXXNoexceptExpr(CXXNoexceptExpr*, DataRecursionQueue* = nullptr) { return true; }
  bool TraverseRequiresExpr(RequiresExpr*, DataRecursionQueue* = nullptr) { return true; }
  bool TraverseCXXTypeidExpr(CXXTypeidExpr* e, DataRecursionQueue* = nullptr) {
    return e->isPotentiallyEvaluated() ? Base::TraverseCXXTypeidExpr(e) : true;
  }

 private:
  void record(const void* key, DynTypedNode node) {
    region_.nodes.push_back(node);
    if (!stack_.empty()) region_.parent[key] = stack_.back();
  }

  Region& region_;
  std::vector<const Stmt*> stack_;
  llvm::SmallPtrSet<const LambdaExpr*, 4> invoked_;
};

}  // namespace

bool Region::isAncestor(const Stmt* ancestor, const void* node) const {
  for (const Stmt* p = parentOf(node); p != nullptr; p = parentOf(p))
    if (p == ancestor) return true;
  return false;
}

const Expr* stripImplicit(const Expr* e) {
  while (e != nullptr) {
    const Expr* next = e->IgnoreImplicit()->IgnoreParens();
    if (next == e) break;
    e = next;
  }
  return e;
}

const LambdaExpr* invokedLambda(const Stmt* s) {
  if (const auto* op = dyn_cast<CXXOperatorCallExpr>(s); op != nullptr && op->getOperator() == OO_Call &&
                                                         op->getNumArgs() > 0)
    return dyn_cast<LambdaExpr>(stripImplicit(op->getArg(0)));
  if (const auto* call = dyn_cast<CallExpr>(s)) return dyn_cast_or_null<LambdaExpr>(stripImplicit(call->getCallee()));
  return nullptr;
}

const FunctionDecl* localDestructor(const VarDecl& var) {
  if (var.getType()->isReferenceType() || var.isStaticLocal()) return nullptr;
  const auto* rd = var.getType()->getAsCXXRecordDecl();
  if (rd == nullptr || !rd->hasDefinition()) return nullptr;
  return rd->getDestructor();
}

bool isCoroutine(const FunctionDecl& fn) { return fn.getBody() != nullptr && isa<CoroutineBodyStmt>(fn.getBody()); }

Region buildRegion(const FunctionDecl& fn) {
  Region region;
  region.function = &fn;
  region.is_coroutine = isCoroutine(fn);
  Walker walker(region);
  if (const auto* ctor = dyn_cast<CXXConstructorDecl>(&fn))
    for (const CXXCtorInitializer* init : ctor->inits())
      if (init->isWritten()) walker.TraverseStmt(init->getInit());
  walker.TraverseStmt(fn.getBody());
  return region;
}

}  // namespace coroscope::lint
