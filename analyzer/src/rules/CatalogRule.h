// What blocking-call and blocking-lock share: both report calls and constructions the catalog knows,
// split by category (the lock category belongs to blocking-lock).
#pragma once

#include "Rule.h"

#include <clang/AST/ExprCXX.h>

namespace coroscope::lint {

class CatalogRule : public Rule {
 public:
  CatalogRule(const RuleInfo& info, RuleContext& ctx, bool locks) : Rule(info, ctx), locks_(locks) {}

  void registerMatchers(clang::ast_matchers::MatchFinder& finder) override {
    using namespace clang::ast_matchers;
    finder.addMatcher(callExpr().bind("call"), this);
    finder.addMatcher(cxxConstructExpr().bind("call"), this);
    finder.addMatcher(whileStmt().bind("loop"), this);
    finder.addMatcher(doStmt().bind("loop"), this);
    finder.addMatcher(forStmt().bind("loop"), this);
  }

  void run(const clang::ast_matchers::MatchFinder::MatchResult& result) override {
    const clang::Stmt* s = result.Nodes.getNodeAs<clang::Expr>("call");
    if (s == nullptr) s = result.Nodes.getNodeAs<clang::Stmt>("loop");
    if (s == nullptr || ctx().offloaded()) return;
    const auto& hit = ctx().blocking(*s);
    if (!hit || (hit->entry->category == "lock") != locks_) return;
    const clang::Expr* e = hit->expr;
    std::string message = describe(*hit);
    std::vector<NoteSpec> notes;
    const std::string& pattern = hit->entry->replacement;
    if (!pattern.empty()) {
      const std::string filled = fillReplacement(pattern, *e, ctx().ast());
      message += "; use '" + filled + "' instead";
      // Only a pattern that says where the arguments go is a mechanical rewrite.
      if (pattern.find('{') != std::string::npos && !e->getBeginLoc().isMacroID() && !e->getEndLoc().isMacroID())
        notes.push_back({e->getBeginLoc(), "fix-it: replace with '" + filled + "'",
                         clang::CharSourceRange::getTokenRange(e->getSourceRange()), filled});
    }
    report(e->getBeginLoc(), std::move(message), hit->callee, hit->entry->category, std::move(notes));
  }

 protected:
  virtual std::string describe(const BlockingHit& hit) = 0;

 private:
  bool locks_;
};

}  // namespace coroscope::lint
