#include "Driver.h"

#include <clang/AST/ASTConsumer.h>
#include <clang/AST/ASTContext.h>
#include <clang/Basic/Diagnostic.h>
#include <clang/Basic/Version.h>
#include <clang/Frontend/CompilerInstance.h>
#include <clang/Frontend/FrontendAction.h>
#include <clang/Frontend/TextDiagnosticPrinter.h>
#include <clang/Tooling/ArgumentsAdjusters.h>
#include <clang/Tooling/CompilationDatabase.h>
#include <clang/Tooling/Tooling.h>

#include <llvm/Support/FileSystem.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/Path.h>
#include <llvm/Support/Program.h>
#include <llvm/Support/VirtualFileSystem.h>
#include <llvm/Support/raw_ostream.h>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>

namespace coroscope::lint {

using namespace clang;

namespace {

// Compiler errors make a file "not parsed"; warnings are the compiler's business, not the linter's.
class ErrorCollector : public TextDiagnosticPrinter {
 public:
  ErrorCollector(llvm::raw_ostream& os, DiagnosticOptions* opts) : TextDiagnosticPrinter(os, opts) {}
  void HandleDiagnostic(DiagnosticsEngine::Level level, const Diagnostic& info) override {
    if (level < DiagnosticsEngine::Error) return;
    ++errors;
    TextDiagnosticPrinter::HandleDiagnostic(level, info);
  }
  unsigned errors = 0;
};

struct TUOutput {
  TUResult result;
  AnalysisStats stats;
  bool analysed = false;
};

class LintConsumer : public ASTConsumer {
 public:
  LintConsumer(const Config& config, const RuleSwitches& rules, TUOutput& out)
      : config_(config), rules_(rules), out_(out) {}
  void HandleTranslationUnit(ASTContext& ctx) override {
    if (ctx.getDiagnostics().hasErrorOccurred()) return;
    out_.result = analyzeTranslationUnit(ctx, config_, rules_, out_.stats);
    out_.analysed = true;
  }

 private:
  const Config& config_;
  const RuleSwitches& rules_;
  TUOutput& out_;
};

class LintAction : public ASTFrontendAction {
 public:
  LintAction(const Config& config, const RuleSwitches& rules, TUOutput& out)
      : config_(config), rules_(rules), out_(out) {}
  std::unique_ptr<ASTConsumer> CreateASTConsumer(CompilerInstance&, llvm::StringRef) override {
    return std::make_unique<LintConsumer>(config_, rules_, out_);
  }

 private:
  const Config& config_;
  const RuleSwitches& rules_;
  TUOutput& out_;
};

class LintActionFactory : public tooling::FrontendActionFactory {
 public:
  LintActionFactory(const Config& config, const RuleSwitches& rules, TUOutput& out)
      : config_(config), rules_(rules), out_(out) {}
  std::unique_ptr<FrontendAction> create() override { return std::make_unique<LintAction>(config_, rules_, out_); }

 private:
  const Config& config_;
  const RuleSwitches& rules_;
  TUOutput& out_;
};

bool hasArg(const tooling::CommandLineArguments& args, llvm::StringRef prefix) {
  return std::any_of(args.begin(), args.end(), [&](const std::string& a) { return llvm::StringRef(a).starts_with(prefix); });
}

// Compile commands written for g++ -Werror must still parse: warnings never fail a lint run, and flags
// Clang does not know are dropped rather than failing the file. Added right after the compiler name: the
// end of a command may be "-- file".
tooling::ArgumentsAdjuster lintAdjuster(const std::string& resourceDir) {
  return [resourceDir](const tooling::CommandLineArguments& args, llvm::StringRef) {
    tooling::CommandLineArguments out;
    for (std::size_t i = 0; i < args.size(); ++i) {
      llvm::StringRef a = args[i];
      if (i > 0 && (a == "-Werror" || a.starts_with("-Werror=") || a == "-pedantic-errors")) continue;
      out.push_back(args[i]);
      if (i != 0) continue;
      if (!resourceDir.empty() && !hasArg(args, "-resource-dir")) out.push_back("-resource-dir=" + resourceDir);
      out.push_back("-Wno-unknown-warning-option");
      out.push_back("-Qunused-arguments");
    }
    return out;
  };
}

struct Job {
  std::string file;
  std::shared_ptr<const Config> config;
};

}  // namespace

std::string defaultResourceDir(const char* argv0) {
  auto usable = [](const std::string& dir) {
    llvm::SmallString<256> probe(dir);
    llvm::sys::path::append(probe, "include", "stddef.h");
    return !dir.empty() && llvm::sys::fs::exists(probe);
  };
  const std::string configured = COROSCOPE_LINT_RESOURCE_DIR;
  if (usable(configured)) return configured;
  // An installed tree: <prefix>/bin/coroscope-lint next to <prefix>/lib/clang/<major>.
  const std::string exe = llvm::sys::fs::getMainExecutable(argv0, reinterpret_cast<void*>(&defaultResourceDir));
  llvm::SmallString<256> installed(llvm::sys::path::parent_path(llvm::sys::path::parent_path(exe)));
  llvm::sys::path::append(installed, "lib", "clang", std::to_string(CLANG_VERSION_MAJOR));
  if (usable(installed.str().str())) return installed.str().str();
  for (const char* name : {"clang++-19", "clang++", "clang-19", "clang"}) {
    auto program = llvm::sys::findProgramByName(name);
    if (!program) continue;
    llvm::SmallString<128> outPath;
    if (llvm::sys::fs::createTemporaryFile("coroscope-lint", "txt", outPath)) continue;
    std::optional<llvm::StringRef> redirects[] = {std::nullopt, llvm::StringRef(outPath), llvm::StringRef("")};
    llvm::StringRef argv[] = {*program, "-print-resource-dir"};
    const int rc = llvm::sys::ExecuteAndWait(*program, argv, std::nullopt, redirects);
    auto buffer = llvm::MemoryBuffer::getFile(outPath);
    llvm::sys::fs::remove(outPath);
    if (rc == 0 && buffer) {
      std::string dir = (*buffer)->getBuffer().trim().str();
      if (usable(dir)) return dir;
    }
  }
  return configured;
}

DriverResult runAnalysis(const tooling::CompilationDatabase& db, const std::vector<std::string>& files,
                         ConfigResolver& configs, const DriverOptions& options) {
  DriverResult result;
  result.files = static_cast<unsigned>(files.size());
  std::vector<Job> jobs;
  std::mutex io;
  for (const auto& file : files) {
    auto config = configs.forFile(file);
    if (auto* error = std::get_if<std::string>(&config)) {
      std::cerr << *error << '\n';
      result.failed.push_back(file);
      continue;
    }
    jobs.push_back({file, std::get<std::shared_ptr<const Config>>(config)});
  }

  std::vector<TUOutput> outputs(jobs.size());
  std::vector<char> failed(jobs.size(), 0);
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> started{0};
  auto worker = [&] {
    for (std::size_t i = next++; i < jobs.size(); i = next++) {
      if (options.progress) {
        std::lock_guard<std::mutex> lock(io);
        std::cerr << '[' << ++started << '/' << jobs.size() << "] " << jobs[i].file << std::endl;
      }
      std::string errors;
      llvm::raw_string_ostream errorStream(errors);
      llvm::IntrusiveRefCntPtr<DiagnosticOptions> diagOpts(new DiagnosticOptions());
      ErrorCollector collector(errorStream, diagOpts.get());
      // Each thread gets its own file system object: the process-wide one shares the working directory.
      tooling::ClangTool tool(db, {jobs[i].file}, std::make_shared<PCHContainerOperations>(),
                              llvm::vfs::createPhysicalFileSystem());
      tool.appendArgumentsAdjuster(lintAdjuster(options.resource_dir));
      tool.setDiagnosticConsumer(&collector);
      tool.setPrintErrorMessage(false);
      LintActionFactory factory(*jobs[i].config, options.rules, outputs[i]);
      const int rc = tool.run(&factory);
      errorStream.flush();
      if (rc != 0 || collector.errors != 0 || !outputs[i].analysed) {
        failed[i] = 1;
        std::lock_guard<std::mutex> lock(io);
        if (!errors.empty()) std::cerr << errors;
        std::cerr << "coroscope-lint: error: " << jobs[i].file
                  << " could not be parsed; it was not analysed (the other files were)\n";
      }
    }
  };
  const unsigned threads = std::max(1u, std::min<unsigned>(options.jobs, static_cast<unsigned>(jobs.size())));
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();

  std::vector<const TUSummary*> summaries;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    if (failed[i] != 0) {
      result.failed.push_back(jobs[i].file);
      continue;
    }
    result.stats.functions += outputs[i].stats.functions;
    result.stats.coroutines += outputs[i].stats.coroutines;
    result.stats.suppressed += outputs[i].stats.suppressed;
    for (auto& f : outputs[i].result.findings) result.findings.push_back(std::move(f));
    summaries.push_back(&outputs[i].result.summary);
  }
  // The reduce step: transitive findings over every TU of the run.
  for (auto& f : solveTransitive(summaries)) result.findings.push_back(std::move(f));
  for (const TUSummary* s : summaries) result.summaries.push_back(*s);
  finishFindings(result.findings);
  return result;
}

void finishFindings(std::vector<Finding>& findings) {
  std::set<std::tuple<std::string, std::string, unsigned, unsigned>> seen;
  std::vector<Finding> unique;
  for (auto& f : findings)
    if (seen.insert(std::make_tuple(f.rule, f.where.file, f.where.line, f.where.column)).second)
      unique.push_back(std::move(f));
  std::sort(unique.begin(), unique.end(), [](const Finding& a, const Finding& b) {
    return std::tie(a.where.file, a.where.line, a.where.column, a.rule) <
           std::tie(b.where.file, b.where.line, b.where.column, b.rule);
  });
  findings = std::move(unique);
}

}  // namespace coroscope::lint
