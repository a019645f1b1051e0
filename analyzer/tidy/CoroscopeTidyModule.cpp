// The coroscope-lint rules as a clang-tidy plugin module, for teams that already run clang-tidy:
//   clang-tidy-19 -load libcoroscope-tidy.so -checks='-*,coroscope-*' file.cpp -- -std=c++20
// One analysis per TU whichever checks are enabled: the first enabled coroscope check (in rule order) runs it
// with every enabled check's rule switched on and emits each finding under its own check's name; the other
// checks register nothing. .coroscope-lint.yaml applies as for coroscope-lint (a check being enabled or not
// in clang-tidy overrides the config's rule switch). With COROSCOPE_TIDY_DEBUG set, each analysis says so on
// stderr (the test that there is one per TU reads it).
#include "Analysis.h"
#include "Config.h"
#include "RuleRegistry.h"

#include <clang-tidy/ClangTidyCheck.h>
#include <clang-tidy/ClangTidyModule.h>
#include <clang-tidy/ClangTidyModuleRegistry.h>
#include <clang/AST/ASTContext.h>
#include <clang/ASTMatchers/ASTMatchers.h>
#include <clang/Basic/FileManager.h>

#include <cstdlib>
#include <iostream>

namespace coroscope::lint {
namespace {

using namespace clang;

ConfigResolver& configs() {
  static ConfigResolver resolver{std::string()};
  return resolver;
}

class CoroscopeCheck : public tidy::ClangTidyCheck {
 public:
  CoroscopeCheck(llvm::StringRef name, tidy::ClangTidyContext* context, std::string rule)
      : ClangTidyCheck(name, context), context_(*context), rule_(std::move(rule)) {
    for (const auto& info : ruleInfos()) {
      const bool on = context->isCheckEnabled("coroscope-" + std::string(info.id));
      enabled_.overrides[std::string(info.id)] = on;
      if (on && leader_.empty()) leader_ = std::string(info.id);
    }
  }

  bool isLanguageVersionSupported(const LangOptions& lang) const override { return lang.CPlusPlus20; }

  void registerMatchers(ast_matchers::MatchFinder* finder) override {
    if (rule_ == leader_) finder->addMatcher(ast_matchers::translationUnitDecl().bind("tu"), this);
  }

  void check(const ast_matchers::MatchFinder::MatchResult& result) override {
    ASTContext& ast = *result.Context;
    SourceManager& sm = ast.getSourceManager();
    const auto main = sm.getFileEntryRefForID(sm.getMainFileID());
    if (!main) return;
    auto config = configs().forFile(main->getName().str());
    if (auto* error = std::get_if<std::string>(&config)) {
      diag(sm.getLocForStartOfFile(sm.getMainFileID()), "%0") << *error;
      return;
    }
    AnalysisStats stats;
    TUResult tu = analyzeTranslationUnit(ast, *std::get<std::shared_ptr<const Config>>(config), enabled_, stats);
    if (std::getenv("COROSCOPE_TIDY_DEBUG") != nullptr)
      std::cerr << "coroscope-tidy: analysed " << main->getName().str() << " once for";
    for (const auto& [rule, on] : enabled_.overrides)
      if (on && std::getenv("COROSCOPE_TIDY_DEBUG") != nullptr) std::cerr << " " << rule;
    if (std::getenv("COROSCOPE_TIDY_DEBUG") != nullptr) std::cerr << "\n";
    for (auto& f : solveTransitive({&tu.summary})) tu.findings.push_back(std::move(f));
    for (const Finding& f : tu.findings) {
      const SourceLocation at = toLoc(sm, f.where);
      if (at.isInvalid()) continue;
      const std::string check = "coroscope-" + f.rule;
      {  // the warning is emitted when its builder goes out of scope, before its notes
        auto warning = context_.diag(check, at, "%0");
        warning << f.message;
        for (const Note& n : f.notes)
          if (n.fixit)
            warning << FixItHint::CreateReplacement(
                CharSourceRange::getCharRange(toLoc(sm, n.fixit->begin), toLoc(sm, n.fixit->end)),
                n.fixit->replacement);
      }
      for (const Note& n : f.notes)
        if (SourceLocation nl = toLoc(sm, n.where); nl.isValid())
          context_.diag(check, nl, "%0", DiagnosticIDs::Note) << n.message;
    }
  }

 private:
  static SourceLocation toLoc(SourceManager& sm, const Location& l) {
    auto file = sm.getFileManager().getOptionalFileRef(l.file);
    return file ? sm.translateFileLineCol(*file, l.line, l.column) : SourceLocation();
  }

  tidy::ClangTidyContext& context_;
  std::string rule_;
  std::string leader_;
  RuleSwitches enabled_;
};

class CoroscopeModule : public tidy::ClangTidyModule {
 public:
  void addCheckFactories(tidy::ClangTidyCheckFactories& factories) override {
    for (const auto& info : ruleInfos()) {
      std::string rule(info.id);
      factories.registerCheckFactory("coroscope-" + rule, [rule](llvm::StringRef name, tidy::ClangTidyContext* ctx) {
        return std::make_unique<CoroscopeCheck>(name, ctx, rule);
      });
    }
  }
};

}  // namespace
}  // namespace coroscope::lint

// clang-tidy finds the module through this registration when the plugin is loaded with -load.
static clang::tidy::ClangTidyModuleRegistry::Add<coroscope::lint::CoroscopeModule>
    coroscopeModule("coroscope-module", "Blocking calls inside C++ coroutines (coroscope-lint).");
