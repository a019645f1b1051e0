// coroscope-lint: flags blocking calls inside C++ coroutines. Command line follows the clang-tool
// conventions (-p, --, --extra-arg) so it drops into scripts written for clang-tidy.
#include "Baseline.h"
#include "Config.h"
#include "Driver.h"
#include "Merge.h"
#include "Output.h"
#include "RuleRegistry.h"

#include <clang/Tooling/CommonOptionsParser.h>
#include <llvm/Support/CommandLine.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/InitLLVM.h>
#include <llvm/Support/Path.h>
#include <llvm/Support/Process.h>

#include <coroscope/support/files.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <iostream>
#include <sstream>
#include <thread>

namespace cl = llvm::cl;
using namespace coroscope::lint;

namespace {

cl::OptionCategory category("coroscope-lint options");

enum class Format { Text, Json, Sarif };

cl::opt<Format> format("format", cl::desc("Report format (default: text)"), cl::init(Format::Text),
                       cl::values(clEnumValN(Format::Text, "text", "clang-style: file:line:col: warning: ... [rule]"),
                                  clEnumValN(Format::Json, "json", "{\"version\": 1, \"findings\": [...], \"summary\": {...}}"),
                                  clEnumValN(Format::Sarif, "sarif", "SARIF 2.1.0, for GitHub code scanning")),
                       cl::cat(category));
cl::opt<unsigned> jobs("j", cl::desc("Translation units analysed in parallel (default: the number of cores)"),
                       cl::value_desc("N"), cl::init(0), cl::cat(category));
cl::alias jobsLong("jobs", cl::desc("Alias for -j"), cl::aliasopt(jobs), cl::cat(category));
cl::opt<std::string> configPath("config",
                                cl::desc("Use this config file instead of the .coroscope-lint.yaml found upward "
                                         "from each file"),
                                cl::value_desc("file"), cl::cat(category));
cl::opt<std::string> baseline("baseline", cl::desc("Do not report findings recorded in this baseline file"),
                              cl::value_desc("file"), cl::cat(category));
cl::opt<std::string> writeBaselinePath("write-baseline",
                                       cl::desc("Record the current findings in this baseline file and exit 0"),
                                       cl::value_desc("file"), cl::cat(category));
cl::list<std::string> enable("enable", cl::desc("Enable these rules (comma-separated), over the config"),
                             cl::CommaSeparated, cl::value_desc("rule,..."), cl::cat(category));
cl::list<std::string> disable("disable", cl::desc("Disable these rules (comma-separated), over the config"),
                              cl::CommaSeparated, cl::value_desc("rule,..."), cl::cat(category));
cl::opt<std::string> resourceDir("resource-dir",
                                 cl::desc("Clang resource directory with the builtin headers (default: found "
                                          "automatically)"),
                                 cl::value_desc("dir"), cl::cat(category));
cl::opt<std::string> root("root", cl::desc("Print paths relative to this directory (default: the working directory)"),
                          cl::value_desc("dir"), cl::cat(category));
cl::opt<std::string> output("o", cl::desc("Write the report to this file instead of stdout"),
                            cl::value_desc("file"), cl::cat(category));
cl::alias outputLong("output", cl::desc("Alias for -o"), cl::aliasopt(output), cl::cat(category));
cl::opt<std::string> shard("shard",
                           cl::desc("Analyse only slice K of N of the files (1 <= K <= N; files sorted by path, "
                                    "every Nth). The report (json or sarif) then also carries the summaries "
                                    "that 'coroscope-lint merge' needs; transitive-blocking-call is reported "
                                    "by the merge"),
                           cl::value_desc("K/N"), cl::cat(category));
cl::opt<bool> listRules("list-rules", cl::desc("Print the rules and blocking categories, then exit"),
                        cl::cat(category));

cl::extrahelp commonHelp(clang::tooling::CommonOptionsParser::HelpMessage);
cl::extrahelp moreHelp(R"(
Rules: blocking-call, transitive-blocking-call, lock-held-across-await, discarded-task,
dangling-task-reference (on by default), blocking-lock (off). Suppress one line with // NOLINT(rule), the next with // NOLINTNEXTLINE(rule), a block
with // NOLINTBEGIN(rule) ... // NOLINTEND(rule).

Exit status: 0 no findings, 1 findings, 2 usage or config error, or a file that could not be parsed (the
other files are still analysed and reported).

Progress "[n/N] file" is printed on stderr when stderr is a terminal.

CI sharding: run `coroscope-lint -p build --shard K/N --format json -o shard-K.json` on N runners, then
`coroscope-lint merge --format sarif -o lint.sarif shard-*.json` (`coroscope-lint merge --help`).
)");

// "K/N" with 1 <= K <= N.
std::optional<std::pair<unsigned, unsigned>> parseShard(const std::string& text) {
  const auto slash = text.find('/');
  if (slash == std::string::npos) return std::nullopt;
  auto number = [](const std::string& s) -> std::optional<unsigned> {
    if (s.empty() || s.size() > 6 || s.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    return static_cast<unsigned>(std::stoul(s));
  };
  auto k = number(text.substr(0, slash));
  auto n = number(text.substr(slash + 1));
  if (!k || !n || *k < 1 || *k > *n) return std::nullopt;
  return std::pair{*k, *n};
}

std::string canonical(const std::string& path) {
  llvm::SmallString<256> out;
  if (llvm::sys::fs::real_path(path, out)) return path;
  return out.str().str();
}

void listAll() {
  std::cout << "rules:\n";
  for (const auto& info : ruleInfos())
    std::cout << "  " << info.id << (info.enabled_by_default ? "" : " (off by default)") << ": " << info.summary
              << '\n';
  std::cout << "categories:\n";
  for (auto c : builtinCategories())
    std::cout << "  " << c << (categoryEnabledByDefault(c) ? "" : " (off by default)") << '\n';
}

}  // namespace

int main(int argc, const char** argv) {
  llvm::InitLLVM init(argc, argv);
  if (argc > 1 && std::string_view(argv[1]) == "merge") return runMerge(argc - 1, argv + 1);
  cl::SetVersionPrinter([](llvm::raw_ostream& os) { os << "coroscope-lint " << COROSCOPE_LINT_VERSION << '\n'; });
  auto parser = clang::tooling::CommonOptionsParser::create(
      argc, argv, category, cl::ZeroOrMore,
      "coroscope-lint: finds blocking calls inside C++ coroutines.\n\n"
      "  coroscope-lint [options] <files...> [-- <compiler args>]\n"
      "  coroscope-lint -p <build dir> [files...]   (all files of compile_commands.json when none given)\n");
  if (!parser) {
    std::cerr << "coroscope-lint: error: " << llvm::toString(parser.takeError()) << '\n';
    return 2;
  }
  if (listRules) {
    listAll();
    return 0;
  }

  RuleSwitches switches;
  std::set<std::string> known;
  for (const auto& info : ruleInfos()) known.insert(std::string(info.id));
  for (const auto* list : {&enable, &disable})
    for (const auto& rule : *list) {
      if (known.count(rule) == 0) {
        std::cerr << "coroscope-lint: error: unknown rule '" << rule << "' (see --list-rules)\n";
        return 2;
      }
      switches.overrides[rule] = list == &enable;
    }

  std::vector<std::string> files = parser->getSourcePathList();
  // -p is loaded here rather than by CommonOptionsParser: a missing database must fail a CI run instead of
  // "running without flags", and without file arguments the parser loads nothing at all.
  const auto& registered = cl::getRegisteredOptions();
  const auto* buildPath = registered.count("p") != 0 ? static_cast<cl::opt<std::string>*>(registered.lookup("p"))
                                                     : nullptr;
  std::unique_ptr<clang::tooling::CompilationDatabase> database;
  if (buildPath != nullptr && buildPath->getNumOccurrences() > 0) {
    std::string error;
    auto loaded = clang::tooling::CompilationDatabase::autoDetectFromDirectory(buildPath->getValue(), error);
    if (!loaded) {
      std::cerr << "coroscope-lint: error: -p " << buildPath->getValue() << ": " << error << '\n';
      return 2;
    }
    auto adjusting = std::make_unique<clang::tooling::ArgumentsAdjustingCompilations>(std::move(loaded));
    // The parser builds its --extra-arg adjuster only when files were named; build it from the options.
    using clang::tooling::ArgumentInsertPosition;
    for (auto [name, where] : {std::pair{"extra-arg-before", ArgumentInsertPosition::BEGIN},
                               std::pair{"extra-arg", ArgumentInsertPosition::END}})
      if (registered.count(name) != 0)
        adjusting->appendArgumentsAdjuster(clang::tooling::getInsertArgumentAdjuster(
            *static_cast<cl::list<std::string>*>(registered.lookup(name)), where));
    database = std::move(adjusting);
    if (files.empty()) files = database->getAllFiles();
  }
  const clang::tooling::CompilationDatabase& compilations = database ? *database : parser->getCompilations();
  if (files.empty()) {
    std::cerr << "coroscope-lint: error: no input files (name files, or give -p with a compile_commands.json)\n";
    return 2;
  }
  bool missing = false;
  for (const auto& f : files)
    if (!llvm::sys::fs::exists(f)) {
      std::cerr << "coroscope-lint: error: no such file: " << f << '\n';
      missing = true;
    }
  if (missing) return 2;
  const bool sharded = shard.getNumOccurrences() > 0;
  if (sharded) {
    auto slice = parseShard(shard);
    if (!slice) {
      std::cerr << "coroscope-lint: error: --shard: expected K/N with 1 <= K <= N, got '" << shard << "'\n";
      return 2;
    }
    if (format == Format::Text) {
      std::cerr << "coroscope-lint: error: --shard needs --format json or sarif (the input of merge)\n";
      return 2;
    }
    // Deterministic on every runner: the same sorted list, every Nth file.
    std::sort(files.begin(), files.end());
    files.erase(std::unique(files.begin(), files.end()), files.end());
    std::vector<std::string> mine;
    for (std::size_t i = 0; i < files.size(); ++i)
      if (i % slice->second == slice->first - 1) mine.push_back(files[i]);
    files = std::move(mine);
  }

  DriverOptions options;
  options.jobs = jobs != 0 ? jobs.getValue() : std::max(1u, std::thread::hardware_concurrency());
  options.progress = llvm::sys::Process::StandardErrIsDisplayed();
  options.resource_dir = resourceDir.empty() ? defaultResourceDir(argv[0]) : resourceDir.getValue();
  options.rules = switches;
  if (!resourceDir.empty() && !llvm::sys::fs::is_directory(resourceDir)) {
    std::cerr << "coroscope-lint: error: --resource-dir: no such directory: " << resourceDir << '\n';
    return 2;
  }

  llvm::SmallString<256> cwd;
  llvm::sys::fs::current_path(cwd);
  const std::string rootDir = canonical(root.empty() ? cwd.str().str() : root.getValue());

  ConfigResolver configs(configPath);
  if (!configPath.empty() && !files.empty()) {
    if (auto cfg = configs.forFile(files.front()); std::holds_alternative<std::string>(cfg)) {
      std::cerr << std::get<std::string>(cfg) << '\n';
      return 2;
    }
  }
  DriverResult result = runAnalysis(compilations, files, configs, options);
  if (sharded)  // solved by merge over every shard's summaries
    result.findings.erase(std::remove_if(result.findings.begin(), result.findings.end(),
                                         [](const Finding& f) { return f.rule == kTransitiveBlockingCallInfo.id; }),
                          result.findings.end());

  // Outputs never replace an input: a source file, the config or the baseline named on the command line.
  std::vector<std::filesystem::path> inputs(files.begin(), files.end());
  for (const std::string* named : {&configPath.getValue(), &baseline.getValue()})
    if (!named->empty()) inputs.emplace_back(*named);
  try {
    for (const std::string* out : {&output.getValue(), &writeBaselinePath.getValue()})
      coroscope::support::refuse_output_over_inputs(*out, inputs);
  } catch (const coroscope::support::io_error& e) {
    std::cerr << "coroscope-lint: error: " << e.what() << '\n';
    return 2;
  }

  if (!writeBaselinePath.empty()) {
    if (auto error = writeBaseline(writeBaselinePath, result.findings, rootDir); !error.empty()) {
      std::cerr << "coroscope-lint: error: " << error << '\n';
      return 2;
    }
    std::cerr << "coroscope-lint: wrote " << result.findings.size() << " findings to " << writeBaselinePath << '\n';
    return result.failed.empty() ? 0 : 2;
  }
  ReportSummary summary{result.files, result.failed, result.stats.suppressed, 0};
  if (!baseline.empty()) {
    if (auto error = applyBaseline(baseline, result.findings, rootDir, summary.baselined); !error.empty()) {
      std::cerr << "coroscope-lint: error: " << error << '\n';
      return 2;
    }
  }

  // Rendered whole, then written with every write checked (temp file + rename for -o): a full disk is an
  // error, never a truncated report with exit 0.
  std::ostringstream os;
  switch (format) {
    case Format::Text:
      writeText(os, result.findings, rootDir);
      break;
    case Format::Json:
      writeJson(os, result.findings, summary, rootDir, sharded ? &result.summaries : nullptr);
      break;
    case Format::Sarif:
      writeSarif(os, result.findings, rootDir, &summary, sharded ? &result.summaries : nullptr);
      break;
  }
  try {
    if (output.empty())
      coroscope::support::write_stdout(os.str());
    else
      coroscope::support::write_file(output.getValue(), os.str());
  } catch (const coroscope::support::io_error& e) {
    std::cerr << "coroscope-lint: error: " << e.what() << '\n';
    return 2;
  }
  if (!result.failed.empty()) return 2;
  return result.findings.empty() ? 0 : 1;
}
