// The statements that run as part of one function's body, with their parents, in source order.
// "Part of the body" follows the rules for coroutines: a lambda defined in the body runs wherever it is
// called, so its body is left out, unless it is invoked on the spot ([&]{ ... }()).
#pragma once

#include <clang/AST/ASTTypeTraits.h>
#include <llvm/ADT/DenseMap.h>

#include <vector>

namespace clang {
class Expr;
class FunctionDecl;
class LambdaExpr;
class Stmt;
class VarDecl;
}  // namespace clang

namespace coroscope::lint {

struct Region {
  const clang::FunctionDecl* function = nullptr;
  std::vector<clang::DynTypedNode> nodes;  // statements and local variables, pre-order
  llvm::DenseMap<const void*, const clang::Stmt*> parent;
  bool is_coroutine = false;
  bool has_await = false;
  bool has_yield = false;

  const clang::Stmt* parentOf(const void* node) const {
    auto it = parent.find(node);
    return it == parent.end() ? nullptr : it->second;
  }
  bool isAncestor(const clang::Stmt* ancestor, const void* node) const;
};

Region buildRegion(const clang::FunctionDecl& fn);

// The body of `fn` starts with a coroutine body (co_await, co_yield or co_return somewhere in it).
bool isCoroutine(const clang::FunctionDecl& fn);

// `e` without the implicit nodes and parentheses around what was written (casts, temporaries, cleanups).
const clang::Expr* stripImplicit(const clang::Expr* e);

// The destructor a local variable runs at the end of its scope (none for references and statics).
const clang::FunctionDecl* localDestructor(const clang::VarDecl& var);

// The lambda `s` invokes on the spot (`[&]{ ... }()`), if it is such a call.
const clang::LambdaExpr* invokedLambda(const clang::Stmt* s);

}  // namespace coroscope::lint
