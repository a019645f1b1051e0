#include "Analysis.h"

#include "RuleRegistry.h"
#include "Suppression.h"

#include <clang/AST/ASTContext.h>
#include <clang/AST/ExprCXX.h>
#include <clang/AST/RecursiveASTVisitor.h>
#include <clang/AST/StmtCXX.h>
#include <clang/Basic/FileManager.h>
#include <clang/Lex/Lexer.h>

#include <llvm/ADT/DenseMap.h>
#include <llvm/ADT/SetVector.h>

#include <map>
#include <set>
#include <tuple>

namespace coroscope::lint {

using namespace clang;

namespace {

// Every function body the user wrote, including template instantiations (a call on a dependent object is
// only resolved there) and lambda call operators.
class Discovery : public RecursiveASTVisitor<Discovery> {
 public:
  explicit Discovery(SourceManager& sm) : sm_(sm) {}
  bool shouldVisitTemplateInstantiations() const { return true; }

  bool VisitFunctionDecl(FunctionDecl* fn) {
    add(fn);
    return true;
  }
  bool VisitLambdaExpr(LambdaExpr* lambda) {
    add(lambda->getCallOperator());
    if (const FunctionTemplateDecl* generic = lambda->getDependentCallOperator())
      for (FunctionDecl* spec : generic->specializations()) add(spec);
    return true;
  }

  llvm::SetVector<const FunctionDecl*> found;

 private:
  void add(const FunctionDecl* fn) {
    if (fn == nullptr || fn->isInvalidDecl() || !fn->doesThisDeclarationHaveABody() || fn->getBody() == nullptr)
      return;
    if (sm_.isInSystemHeader(sm_.getExpansionLoc(fn->getLocation()))) return;
    found.insert(fn);
  }
  SourceManager& sm_;
};

class Analysis : public RuleContext {
 public:
  Analysis(ASTContext& ast, const Config& config, const RuleSwitches& cli, AnalysisStats& stats)
      : ast_(ast), sm_(ast.getSourceManager()), config_(config), catalog_(buildCatalog(config, cli)),
        stats_(stats) {
    for (const auto& entry : ruleEntries()) {
      if (!ruleEnabled(std::string(entry.info->id), config, cli)) continue;
      rules_.push_back(entry.make(*this));
      Rule& rule = *rules_.back();
      rule.registerMatchers(async_finder_);
      if (rule.scope() == Scope::AllFunctions) {
        rule.registerMatchers(plain_finder_);
        plain_rules_.push_back(&rule);
      }
    }
  }

  std::vector<Finding> run() {
    Discovery discovery(sm_);
    discovery.TraverseAST(ast_);
    for (const FunctionDecl* fn : discovery.found) check(*fn);
    return std::move(findings_);
  }

  ASTContext& ast() override { return ast_; }
  const Catalog& catalog() const override { return catalog_; }
  const Config& config() const override { return config_; }
  const Region& region() const override { return *region_; }
  std::size_t position() const override { return position_; }
  bool offloaded() const override { return offloaded_; }
  const std::string& functionName() const override { return function_name_; }

  const std::optional<BlockingHit>& blocking(const Stmt& s) override {
    auto [it, inserted] = verdicts_.try_emplace(&s);
    if (inserted) it->second = catalog_.classify(s, ast_);
    return it->second;
  }

  void report(std::string_view rule, SourceLocation loc, std::string message, std::string callee,
              std::string category, std::vector<NoteSpec> notes) override {
    const SourceLocation fileLoc = sm_.getFileLoc(loc);
    if (fileLoc.isInvalid() || sm_.isInSystemHeader(fileLoc)) return;
    Finding f;
    f.rule = std::string(rule);
    f.where = location(fileLoc);
    if (!reported_.insert(std::make_tuple(f.rule, f.where.file, f.where.line, f.where.column)).second) return;
    const FileID fid = sm_.getFileID(fileLoc);
    if (suppressions(fid).suppressed(rule, f.where.line)) {
      ++stats_.suppressed;
      return;
    }
    f.message = std::move(message);
    f.function = function_name_;
    f.callee = std::move(callee);
    f.category = std::move(category);
    f.source_line = lineText(fileLoc);
    if (loc.isMacroID()) {
      const StringRef macro = Lexer::getImmediateMacroName(loc, sm_, ast_.getLangOpts());
      if (!macro.empty())
        f.notes.push_back(Note{location(sm_.getExpansionLoc(loc)), "expanded from macro '" + macro.str() + "'",
                               lineText(sm_.getExpansionLoc(loc)), std::nullopt});
    }
    for (auto& spec : notes) {
      const SourceLocation nloc = sm_.getFileLoc(spec.loc);
      if (nloc.isInvalid()) continue;
      Note note{location(nloc), std::move(spec.message), lineText(nloc), std::nullopt};
      if (spec.fix_range) {
        const CharSourceRange range = Lexer::makeFileCharRange(*spec.fix_range, sm_, ast_.getLangOpts());
        if (range.isValid())
          note.fixit = FixIt{location(range.getBegin()), location(range.getEnd()), std::move(spec.fix_text)};
      }
      f.notes.push_back(std::move(note));
    }
    findings_.push_back(std::move(f));
  }

 private:
  void check(const FunctionDecl& fn) {
    ++stats_.functions;
    Region region = buildRegion(fn);
    const bool async =
        region.is_coroutine && (region.has_await || !region.has_yield || config_.generators_are_async);
    if (async) ++stats_.coroutines;
    if (!async && plain_rules_.empty()) return;
    ast_matchers::MatchFinder& finder = async ? async_finder_ : plain_finder_;
    std::vector<Rule*> active;
    if (async)
      for (auto& r : rules_) active.push_back(r.get());
    else
      active = plain_rules_;
    region_ = &region;
    offloaded_ = false;
    verdicts_.clear();
    function_name_ = functionDisplayName(fn);
    for (Rule* r : active) r->beginRegion();
    for (position_ = 0; position_ < region.nodes.size(); ++position_) {
      const DynTypedNode& node = region.nodes[position_];
      finder.match(node, ast_);
      if (const auto* await = node.get<CoawaitExpr>(); await != nullptr && isOffload(*await)) offloaded_ = true;
    }
    for (Rule* r : active) r->endRegion();
    region_ = nullptr;
  }

  // `co_await to_thread(...)`-style hops the config names: what follows runs off the event loop on purpose.
  bool isOffload(const CoawaitExpr& await) const {
    if (config_.offload_awaitables.empty()) return false;
    const Expr* operand = stripImplicit(await.getOperand());
    auto listed = [&](const std::string& name) {
      for (const auto& o : config_.offload_awaitables)
        if (o == name) return true;
      return false;
    };
    if (const auto* call = dyn_cast_or_null<CallExpr>(operand))
      if (const FunctionDecl* fd = call->getDirectCallee(); fd != nullptr && listed(qualifiedName(*fd))) return true;
    if (operand != nullptr)
      if (const auto* rd = operand->getType()->getAsCXXRecordDecl(); rd != nullptr && listed(className(*rd)))
        return true;
    return false;
  }

  Location location(SourceLocation loc) {
    Location out;
    const FileID fid = sm_.getFileID(loc);
    out.file = fileName(fid);
    out.line = sm_.getSpellingLineNumber(loc);
    out.column = sm_.getSpellingColumnNumber(loc);
    return out;
  }

  const std::string& fileName(FileID fid) {
    auto [it, inserted] = file_names_.try_emplace(fid);
    if (inserted) {
      if (auto entry = sm_.getFileEntryRefForID(fid))
        it->second = sm_.getFileManager().getCanonicalName(*entry).str();
      else
        it->second = sm_.getBufferName(sm_.getLocForStartOfFile(fid)).str();
    }
    return it->second;
  }

  std::string lineText(SourceLocation loc) {
    bool invalid = false;
    const StringRef buffer = sm_.getBufferData(sm_.getFileID(loc), &invalid);
    if (invalid) return {};
    const unsigned offset = sm_.getFileOffset(loc);
    const auto begin = buffer.rfind('\n', offset == 0 ? 0 : offset - 1);
    const std::size_t start = (begin == StringRef::npos || offset == 0) ? 0 : begin + 1;
    const auto end = buffer.find('\n', offset);
    std::string text = buffer.substr(start, end == StringRef::npos ? StringRef::npos : end - start).str();
    if (!text.empty() && text.back() == '\r') text.pop_back();
    return text;
  }

  const SuppressionIndex& suppressions(FileID fid) {
    auto it = suppression_.find(fid);
    if (it == suppression_.end()) {
      bool invalid = false;
      const StringRef text = sm_.getBufferData(fid, &invalid);
      it = suppression_.emplace(fid, SuppressionIndex(invalid ? StringRef() : text)).first;
    }
    return it->second;
  }

  ASTContext& ast_;
  SourceManager& sm_;
  const Config& config_;
  Catalog catalog_;
  AnalysisStats& stats_;
  std::vector<std::unique_ptr<Rule>> rules_;
  std::vector<Rule*> plain_rules_;
  ast_matchers::MatchFinder async_finder_;
  ast_matchers::MatchFinder plain_finder_;
  const Region* region_ = nullptr;
  std::size_t position_ = 0;
  bool offloaded_ = false;
  std::string function_name_;
  llvm::DenseMap<const Stmt*, std::optional<BlockingHit>> verdicts_;
  std::set<std::tuple<std::string, std::string, unsigned, unsigned>> reported_;
  std::map<FileID, std::string> file_names_;
  std::map<FileID, SuppressionIndex> suppression_;
  std::vector<Finding> findings_;
};

}  // namespace

std::vector<Finding> analyzeTranslationUnit(ASTContext& ast, const Config& config, const RuleSwitches& cli,
                                            AnalysisStats& stats) {
  Analysis analysis(ast, config, cli, stats);
  return analysis.run();
}

}  // namespace coroscope::lint
