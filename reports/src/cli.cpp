#include "cli.hpp"

#include "json_input.hpp"
#include "limits.hpp"
#include "report.hpp"

#include <coroscope/support/files.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace coroscope::report {
namespace {

constexpr const char* usage = R"(coroscope-report: benchmark, conformance and lint results as Markdown, HTML and a CI verdict.

Usage:
  coroscope-report [report|render] --out DIR [inputs] [options]
  coroscope-report compare --baseline FILE... --current FILE... [--out DIR] [options]

"report" writes DIR/report.md (under 65,536 characters: fits a CI step summary or a PR comment),
DIR/report.html (self-contained, charts inline) and DIR/verdict.json. "compare" prints the comparison
with the baseline as Markdown on stdout, and writes the same three files when --out is given.

Inputs (each may be repeated):
  --bench FILE         Google Benchmark JSON of one runtime (the runtime is context.runtime, else the file
                       name). Several files of one runtime are its history; the latest by context.date is
                       the current run. Bare NaN/Infinity are accepted.
  --current FILE       same as --bench
  --baseline FILE      Google Benchmark JSON to compare against, matched by runtime and benchmark name
  --conformance FILE   conformance JSON: coroscope-conform --format json (one run per runtime), or
                       version 1 (scenarios with id, group, status, expected, actual, duration; summary)
  --lint FILE          coroscope-lint JSON (version 1) or SARIF 2.1.0

Options:
  --out DIR            output directory, created if missing (required for "report"). Only report.md,
                       report.html and verdict.json are written there, each to a temporary file that is
                       then renamed over the old one. An existing one is replaced only when it carries the
                       generator marker this tool writes at its start; otherwise it is the user's and the
                       run stops (exit 2) before writing anything. One that is a symbolic link or not a
                       regular file, or that is one of the inputs, is refused too, even with --force.
  --force              replace report.md, report.html and verdict.json in --out even without the marker
  --title TEXT         report title (default "coroscope report")
  --metric cpu|real    which time to use (default cpu: far less noisy on shared machines)
  --alpha P            significance level of the two-sided Mann-Whitney U test (default 0.05)
  --min-effect F       smallest relative change of the median called a change (default 0.05 = 5%)
  --fail-on LIST       comma-separated causes of exit 1: regression, conformance, lint, missing, or none
                       (default regression,conformance)
  --help               this text
  --version            print the version

Verdicts per benchmark: regressed / improved (p < alpha and |change| >= min-effect), unchanged,
inconclusive (too few repetitions for the test to ever reach alpha, or a large change the repetitions do
not confirm), error. Use --benchmark_repetitions=9 or more when comparing.

Limits: an input file of at most 256 MiB, JSON nested at most 64 levels, whole numbers for lines, columns
and iterations; names in report.md are cut to 200 bytes and traces to 160 (report.html has them whole).

Exit status: 0 pass; 1 failure (see --fail-on); 2 usage error, unreadable or invalid input (the file and
field are named), an output that cannot be written (full disk, a refused file in --out), or a benchmark
that errored.
)";

struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

double parse_double(const std::string& flag, const std::string& value, double lo, double hi) {
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != value.size() || !std::isfinite(v) || v < lo || v > hi) {
    std::ostringstream msg;
    msg << flag << ": '" << value << "' is not a number between " << lo << " and " << hi;
    throw usage_error(msg.str());
  }
  return v;
}

namespace fs = std::filesystem;

// The files `--out DIR` owns; nothing else in DIR is ever touched.
struct owned_output {
  const char* name;
  std::string_view marker;
};
constexpr owned_output owned_outputs[] = {
    {"report.md", markdown_marker}, {"report.html", html_marker}, {"verdict.json", verdict_marker}};

// Checked for all three before any is written, so a refusal leaves DIR exactly as it was.
void check_output(const fs::path& target, std::string_view marker, bool force, const std::vector<fs::path>& inputs) {
  support::refuse_output_over_inputs(target, inputs);
  std::error_code ec;
  const fs::file_status st = fs::symlink_status(target, ec);
  if (st.type() == fs::file_type::not_found) return;
  if (ec) throw support::io_error(target.string() + ": " + ec.message());
  if (st.type() == fs::file_type::symlink)
    throw support::io_error(target.string() + ": is a symbolic link; coroscope-report never writes through one "
                            "nor replaces it (remove it, or choose another --out)");
  if (st.type() != fs::file_type::regular)
    throw support::io_error(target.string() + ": exists and is not a regular file; refusing to replace it");
  if (force) return;
  std::ifstream in(target, std::ios::binary);
  std::string head(limits::marker_search_bytes, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(in.gcount()));
  if (head.find(marker) == std::string::npos)
    throw support::io_error(target.string() + ": exists and was not written by coroscope-report (its first " +
                            std::to_string(limits::marker_search_bytes) + " bytes lack the marker " +
                            std::string(marker) + "); refusing to replace it (remove it, pass --force, or choose "
                            "another --out)");
}

}  // namespace

int run_cli(const std::vector<std::string>& raw, std::ostream& out, std::ostream& err) {
  std::vector<std::string> args;
  for (const auto& a : raw) {  // --flag=value is the same as --flag value
    const auto eq = a.find('=');
    if (a.rfind("--", 0) == 0 && eq != std::string::npos) {
      args.push_back(a.substr(0, eq));
      args.push_back(a.substr(eq + 1));
    } else {
      args.push_back(a);
    }
  }
  try {
    std::string mode = "report";
    std::size_t i = 0;
    if (!args.empty() && (args[0] == "report" || args[0] == "render" || args[0] == "compare")) mode = args[i++];
    if (mode == "render") mode = "report";
    std::vector<std::string> bench, baseline, conformance, lint;
    std::string out_dir;
    bool force = false;
    report_options options;
    for (; i < args.size(); ++i) {
      const std::string& flag = args[i];
      if (flag == "--help" || flag == "-h") {
        out << usage;
        return 0;
      }
      if (flag == "--version") {
        out << "coroscope-report " << COROSCOPE_REPORT_VERSION << "\n";
        return 0;
      }
      if (flag == "--force") {
        force = true;
        continue;
      }
      if (i + 1 >= args.size()) throw usage_error(flag.rfind("--", 0) == 0 ? flag + ": needs a value" : "unexpected argument '" + flag + "'");
      const std::string& value = args[++i];
      if (flag == "--bench" || flag == "--current") bench.push_back(value);
      else if (flag == "--baseline") baseline.push_back(value);
      else if (flag == "--conformance") conformance.push_back(value);
      else if (flag == "--lint") lint.push_back(value);
      else if (flag == "--out") out_dir = value;
      else if (flag == "--title") options.title = value;
      else if (flag == "--alpha") options.compare.alpha = parse_double(flag, value, 1e-9, 0.5);
      else if (flag == "--min-effect") options.compare.min_effect = parse_double(flag, value, 0, 10);
      else if (flag == "--metric") {
        if (value == "cpu") options.compare.which = metric::cpu;
        else if (value == "real") options.compare.which = metric::real;
        else throw usage_error("--metric: '" + value + "' is neither cpu nor real");
      } else if (flag == "--fail-on") {
        options.fail_on.clear();
        std::stringstream list(value);
        for (std::string item; std::getline(list, item, ',');) {
          if (item == "none") continue;
          if (item != "regression" && item != "conformance" && item != "lint" && item != "missing")
            throw usage_error("--fail-on: unknown cause '" + item + "' (regression, conformance, lint, missing, none)");
          options.fail_on.insert(item);
        }
      } else {
        throw usage_error("unknown option '" + flag + "'");
      }
    }
    if (mode == "compare" && (baseline.empty() || bench.empty()))
      throw usage_error("compare needs --baseline FILE and --current FILE");
    if (mode == "report" && out_dir.empty()) throw usage_error("report needs --out DIR");
    if (bench.empty() && conformance.empty() && lint.empty())
      throw usage_error("nothing to report: give --bench, --conformance or --lint");

    report_input input;
    for (const auto& f : bench) input.bench.push_back(parse_bench_json(f));
    for (const auto& f : baseline) input.baseline.push_back(parse_bench_json(f));
    for (const auto& f : conformance)
      for (auto& run : parse_conformance_json(f)) input.conformance.push_back(std::move(run));
    for (const auto& f : lint) input.lint.push_back(parse_lint_json(f));

    const report_data data = analyse(input, options);
    if (mode == "compare") out << render_comparison_markdown(data, static_cast<std::size_t>(-1));
    if (!out_dir.empty()) {
      std::error_code ec;
      fs::create_directories(out_dir, ec);
      if (ec) throw support::io_error(out_dir + ": cannot create directory: " + ec.message());
      const fs::path dir(out_dir);
      std::vector<fs::path> inputs;
      for (const auto* list : {&bench, &baseline, &conformance, &lint}) inputs.insert(inputs.end(), list->begin(), list->end());
      for (const auto& o : owned_outputs) check_output(dir / o.name, o.marker, force, inputs);
      const std::string md = render_markdown(data);
      support::write_file(dir / "report.md", md);
      support::write_file(dir / "report.html", render_html(data));
      support::write_file(dir / "verdict.json", render_verdict_json(data));
      err << "coroscope-report: wrote " << (dir / "report.md").string() << " (" << md.size() << " bytes), report.html, verdict.json\n";
    }
    err << "coroscope-report: " << data.status;
    for (std::size_t k = 0; k < data.reasons.size(); ++k) err << (k ? "; " : ": ") << data.reasons[k];
    err << "\n";
    for (const auto& e : data.errors) err << "coroscope-report: errored: " << e << "\n";
    return data.exit_code;
  } catch (const usage_error& e) {
    err << "coroscope-report: " << e.what() << "\n(see coroscope-report --help)\n";
    return 2;
  } catch (const input_error& e) {
    err << "coroscope-report: " << e.what() << "\n";
    return 2;
  } catch (const support::io_error& e) {
    err << "coroscope-report: " << e.what() << "\n";
    return 2;
  }
}

}  // namespace coroscope::report
