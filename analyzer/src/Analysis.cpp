#include "Analysis.h"

#include "RuleRegistry.h"
#include "Suppression.h"

#include <clang/AST/ASTContext.h>
#include <clang/AST/ExprCXX.h>
#include <clang/AST/RecursiveASTVisitor.h>
#include <clang/AST/StmtCXX.h>
#include <clang/Basic/FileManager.h>
#include <clang/Index/USRGeneration.h>
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
      if (entry.info == &kTransitiveBlockingCallInfo) summarize_ = true;
      rules_.push_back(entry.make(*this));
      Rule& rule = *rules_.back();
      rule.registerMatchers(async_finder_);
      if (rule.scope() == Scope::AllFunctions) {
        rule.registerMatchers(plain_finder_);
        plain_rules_.push_back(&rule);
      }
    }
  }

  TUResult run() {
    Discovery discovery(sm_);
    discovery.TraverseAST(ast_);
    for (const FunctionDecl* fn : discovery.found) check(*fn);
    return TUResult{std::move(findings_), std::move(summary_)};
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
    if (inserted) it->second = catalog_.classify(s, ast_, region_ != nullptr ? region_->function : nullptr);
    return it->second;
  }

  void report(std::string_view rule, SourceLocation loc, std::string message, std::string callee,
              std::string category, std::vector<NoteSpec> notes) override {
    std::optional<Finding> made = start(rule, loc);
    if (!made) return;
    Finding& f = *made;
    f.message = std::move(message);
    f.callee = std::move(callee);
    f.category = std::move(category);
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

  void recordCall(std::string_view rule, SourceLocation loc, const FunctionDecl& callee) override {
    // Several calls can share a location (a local's constructor and destructor): each is kept, and the
    // reduce step reports the location once.
    std::optional<Finding> made = start(rule, loc, false);
    if (!made) return;
    summary_.calls.push_back(CoroutineCall{usr(callee), functionDisplayName(callee), std::move(*made)});
  }

  bool followed(const FunctionDecl* fn) override {
    if (fn == nullptr) return false;
    const FunctionDecl* decl = fn->getDefinition() != nullptr ? fn->getDefinition() : fn;
    if (sm_.isInSystemHeader(sm_.getExpansionLoc(decl->getLocation()))) return false;
    if (decl->getDefinition() != nullptr && isCoroutine(*decl)) return false;
    return !catalog_.isAllowed(qualifiedName(*decl));
  }

 private:
  // A finding at `loc` with what every rule fills the same way; nothing when it was reported already,
  // is suppressed, or lies in a system header.
  std::optional<Finding> start(std::string_view rule, SourceLocation loc, bool once = true) {
    const SourceLocation fileLoc = sm_.getFileLoc(loc);
    if (fileLoc.isInvalid() || sm_.isInSystemHeader(fileLoc)) return std::nullopt;
    Finding f;
    f.rule = std::string(rule);
    f.where = location(fileLoc);
    if (once && !reported_.insert(std::make_tuple(f.rule, f.where.file, f.where.line, f.where.column)).second)
      return std::nullopt;
    const FileID fid = sm_.getFileID(fileLoc);
    if (suppressions(fid).suppressed(rule, f.where.line)) {
      if (once) ++stats_.suppressed;  // a recorded call counts only if it would have been a finding
      return std::nullopt;
    }
    f.function = function_name_;
    f.source_line = lineText(fileLoc);
    if (loc.isMacroID()) {
      const StringRef macro = Lexer::getImmediateMacroName(loc, sm_, ast_.getLangOpts());
      if (!macro.empty())
        f.notes.push_back(Note{location(sm_.getExpansionLoc(loc)), "expanded from macro '" + macro.str() + "'",
                               lineText(sm_.getExpansionLoc(loc)), std::nullopt});
    }
    return f;
  }

  const std::string& usr(const FunctionDecl& fn) {
    auto [it, inserted] = usrs_.try_emplace(fn.getCanonicalDecl());
    if (inserted) {
      llvm::SmallString<128> buf;
      if (index::generateUSRForDecl(fn.getCanonicalDecl(), buf))
        it->second = "(no usr)" + functionDisplayName(fn);
      else
        it->second = buf.str().str();
    }
    return it->second;
  }

  SummarySite site(SourceLocation loc) {
    const SourceLocation fileLoc = sm_.getFileLoc(loc);
    return SummarySite{location(fileLoc), lineText(fileLoc)};
  }

  static const FunctionDecl* calleeOf(const Expr& e) {
    if (const auto* call = dyn_cast<CallExpr>(&e)) return call->getDirectCallee();
    if (const auto* ctor = dyn_cast<CXXConstructExpr>(&e)) return ctor->getConstructor();
    return nullptr;
  }

  // The map step's record of one plain function: the first blocking call it makes, else every function of
  // the program it may call (constructors, and destructors of its locals, included).
  void summarizeFunction(const FunctionDecl& fn, const Region& region) {
    FunctionSummary s;
    s.usr = usr(fn);
    s.name = function_name_;
    s.coroutine = region.is_coroutine;
    if (!s.coroutine) {
      std::set<std::string> seen;
      for (const auto& node : region.nodes) {
        const FunctionDecl* next = nullptr;
        SourceLocation at;
        if (const auto* st = node.get<Stmt>()) {
          if (const auto& hit = blocking(*st)) {
            s.direct = DirectBlock{hit->callee, hit->entry->category, site(st->getBeginLoc())};
            s.calls.clear();
            break;
          }
          if (const auto* e = dyn_cast<Expr>(st)) next = calleeOf(*e), at = st->getBeginLoc();
        } else if (const auto* var = node.get<VarDecl>()) {
          if (var->hasLocalStorage()) next = localDestructor(*var), at = var->getLocation();
        }
        if (next == nullptr || !followed(next)) continue;
        const std::string& callee = usr(*next);
        if (callee == s.usr || !seen.insert(callee).second) continue;
        s.calls.push_back(CallEdge{callee, functionDisplayName(*next), site(at)});
      }
    }
    summary_.functions.push_back(std::move(s));
  }


  void check(const FunctionDecl& fn) {
    ++stats_.functions;
    Region region = buildRegion(fn);
    const bool async =
        region.is_coroutine && (region.has_await || !region.has_yield || config_.generators_are_async);
    if (async) ++stats_.coroutines;
    region_ = &region;
    offloaded_ = false;
    verdicts_.clear();
    function_name_ = functionDisplayName(fn);
    if (summarize_) summarizeFunction(fn, region);
    if (!async && plain_rules_.empty()) return;
    ast_matchers::MatchFinder& finder = async ? async_finder_ : plain_finder_;
    std::vector<Rule*> active;
    if (async)
      for (auto& r : rules_) active.push_back(r.get());
    else
      active = plain_rules_;
    for (Rule* r : active) r->beginRegion();
    for (position_ = 0; position_ < region.nodes.size(); ++position_) {
      const DynTypedNode& node = region.nodes[position_];
      finder.match(node, ast_);
      if (const auto* await = node.get<CoawaitExpr>()) {
        if (isOffload(*await))
          offloaded_ = true;
        else if (auto off = catalog_.hop(*await, ast_))
          offloaded_ = *off;
      }
    }
    for (Rule* r : active) r->endRegion();
    region_ = nullptr;
  }

  // `co_await to_thread(...)`-style hops the config names: what follows runs off the event loop on purpose.
  // The catalog's executor hops (Catalog::hop) also lead back to the loop; these never do.
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
  bool summarize_ = false;
  TUSummary summary_;
  llvm::DenseMap<const FunctionDecl*, std::string> usrs_;
};

}  // namespace

TUResult analyzeTranslationUnit(ASTContext& ast, const Config& config, const RuleSwitches& cli,
                                AnalysisStats& stats) {
  Analysis analysis(ast, config, cli, stats);
  return analysis.run();
}

}  // namespace coroscope::lint
