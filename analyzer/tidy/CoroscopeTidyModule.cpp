// The coroscope-lint rules as a clang-tidy plugin module, for teams that already run clang-tidy:
//   clang-tidy-19 -load libcoroscope-tidy.so -checks='-*,coroscope-*' file.cpp -- -std=c++20
// Each check runs the same analysis with only its own rule switched on; .coroscope-lint.yaml applies as for
// coroscope-lint (the check being enabled in clang-tidy overrides the config's rule switch).
#include "Analysis.h"
#include "Config.h"
#include "RuleRegistry.h"

#include <clang-tidy/ClangTidyCheck.h>
#include <clang-tidy/ClangTidyModule.h>
#include <clang-tidy/ClangTidyModuleRegistry.h>
#include <clang/AST/ASTContext.h>
#include <clang/ASTMatchers/ASTMatchers.h>
#include <clang/Basic/FileManager.h>

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
      : ClangTidyCheck(name, context), rule_(std::move(rule)) {}

  bool isLanguageVersionSupported(const LangOptions& lang) const override { return lang.CPlusPlus20; }

  void registerMatchers(ast_matchers::MatchFinder* finder) override {
    finder->addMatcher(ast_matchers::translationUnitDecl().bind("tu"), this);
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
    RuleSwitches only;
    for (const auto& info : ruleInfos()) only.overrides[std::string(info.id)] = info.id == rule_;
    AnalysisStats stats;
    for (const Finding& f : analyzeTranslationUnit(ast, *std::get<std::shared_ptr<const Config>>(config), only, stats)) {
      const SourceLocation at = toLoc(sm, f.where);
      if (at.isInvalid()) continue;
      {  // the warning is emitted when its builder goes out of scope, before its notes
        auto warning = diag(at, "%0");
        warning << f.message;
        for (const Note& n : f.notes)
          if (n.fixit)
            warning << FixItHint::CreateReplacement(
                CharSourceRange::getCharRange(toLoc(sm, n.fixit->begin), toLoc(sm, n.fixit->end)),
                n.fixit->replacement);
      }
      for (const Note& n : f.notes)
        if (SourceLocation nl = toLoc(sm, n.where); nl.isValid()) diag(nl, "%0", DiagnosticIDs::Note) << n.message;
    }
  }

 private:
  static SourceLocation toLoc(SourceManager& sm, const Location& l) {
    auto file = sm.getFileManager().getOptionalFileRef(l.file);
    return file ? sm.translateFileLineCol(*file, l.line, l.column) : SourceLocation();
  }

  std::string rule_;
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
