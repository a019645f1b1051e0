// The shape every rule has: like a clang-tidy check, a rule registers AST matchers and reports from their
// callbacks. The matchers run on each statement of one function body at a time (see Region), so a rule
// never has to ask which function a node belongs to.
#pragma once

#include "Catalog.h"
#include "Config.h"
#include "Region.h"

#include <clang/ASTMatchers/ASTMatchFinder.h>
#include <clang/Basic/SourceLocation.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coroscope::lint {

struct RuleInfo {
  std::string_view id;
  std::string_view summary;  // one line: SARIF shortDescription, --list-rules
  std::string_view help;     // why it matters and how to fix it: SARIF fullDescription/help
  bool enabled_by_default;
};

struct NoteSpec {
  clang::SourceLocation loc;
  std::string message;
  std::optional<clang::CharSourceRange> fix_range;  // the text the fix-it replaces
  std::string fix_text;
};

// What a rule sees of the analysis: the body being checked and where to report.
class RuleContext {
 public:
  virtual ~RuleContext() = default;
  virtual clang::ASTContext& ast() = 0;
  virtual const Catalog& catalog() const = 0;
  virtual const Config& config() const = 0;
  virtual const Region& region() const = 0;
  virtual std::size_t position() const = 0;           // index of the current node in region().nodes
  virtual bool offloaded() const = 0;                 // an offload awaitable was awaited before this node
  virtual const std::string& functionName() const = 0;  // display name of region().function
  // The catalog's verdict on a node, computed once per node however many rules ask.
  virtual const std::optional<BlockingHit>& blocking(const clang::Stmt& s) = 0;
  virtual void report(std::string_view rule, clang::SourceLocation loc, std::string message,
                      std::string callee, std::string category, std::vector<NoteSpec> notes) = 0;
  // A call from the coroutine to a plain function: reported by `rule` once the whole program's summaries
  // show that the callee reaches a blocking call (see Summary.h).
  virtual void recordCall(std::string_view rule, clang::SourceLocation loc, const clang::FunctionDecl& callee) = 0;
  // Whether a plain function call is one the transitive analysis follows: a function of the program (not a
  // system header), not allowed by the config.
  virtual bool followed(const clang::FunctionDecl* callee) = 0;
};

// Which bodies a rule looks at. Synchronous generators (co_yield, no co_await) are not async contexts.
enum class Scope { AsyncCoroutines, AllFunctions };

class Rule : public clang::ast_matchers::MatchFinder::MatchCallback {
 public:
  Rule(const RuleInfo& info, RuleContext& ctx) : info_(info), ctx_(ctx) {}
  const RuleInfo& info() const { return info_; }
  virtual Scope scope() const { return Scope::AsyncCoroutines; }
  virtual void registerMatchers(clang::ast_matchers::MatchFinder& finder) = 0;
  virtual void beginRegion() {}
  virtual void endRegion() {}

 protected:
  void report(clang::SourceLocation loc, std::string message, std::string callee, std::string category,
              std::vector<NoteSpec> notes = {}) {
    ctx_.report(info_.id, loc, std::move(message), std::move(callee), std::move(category), std::move(notes));
  }
  RuleContext& ctx() { return ctx_; }

 private:
  const RuleInfo& info_;
  RuleContext& ctx_;
};

}  // namespace coroscope::lint
