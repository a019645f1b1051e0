#pragma once
// Results of a run and the four report formats (text, json, junit, markdown).
#include <conform/adapter.hpp>
#include <conform/model.hpp>

#include <string>
#include <vector>

namespace conform {

// pass | fail | unsupported | note (a failure of an observed-only or version-specific scenario) |
// crash (the run died: a signal, the memory limit, an exception escaping the adapter) |
// timeout (no result within the wall-clock limit: a hang, a livelock)
struct scenario_result {
  const scenario* s = nullptr;
  std::string status;
  std::vector<event> actual;
  double duration_ms = 0;
  std::string message;               // the first difference; for crash and timeout the reason
  std::vector<std::string> missing;  // unsupported: the features the runtime lacks
};

// Every status, in report order.
const std::vector<std::string>& all_statuses();
// Whether a status fails the run: fail, crash and timeout.
bool is_failure(const std::string& status);

// Runs scenarios on `a` and judges each: unsupported (a feature `a` lacks, without running), pass, fail,
// note, or, when the run dies or hangs, crash / timeout with the reason. With options.isolate the runs
// happen in a forked worker process under the options' limits, so nothing the runtime does stops the
// caller: a worker that crashes or overruns is killed and replaced, and a crash is run again in a fresh
// worker before it is blamed on the scenario. A worker serves a few dozen scenarios (forking one per
// scenario would cost more than the reference runtime's whole run).
class scenario_runner {
public:
  scenario_runner(adapter& a, const run_options& options, std::vector<const scenario*> scenarios);
  ~scenario_runner();
  scenario_runner(const scenario_runner&) = delete;
  scenario_runner& operator=(const scenario_runner&) = delete;
  scenario_result run(std::size_t index);  // scenarios[index]

private:
  json attempt_isolated(std::size_t index);
  void start();
  void stop(bool kill);

  adapter& a_;
  run_options o_;
  std::vector<const scenario*> scenarios_;
  int pid_ = -1, to_worker_ = -1, from_worker_ = -1, served_ = 0;
  std::string pending_;
};

// One scenario, in a worker of its own (fuzzing's programs are made after any worker could be forked).
scenario_result run_scenario(adapter& a, const scenario& s, const run_options& options);

struct runtime_result {
  std::string runtime;
  std::string description;
  std::vector<scenario_result> results;
  std::size_t count(const std::string& status) const;
};

std::string report_text(const std::vector<runtime_result>& runs);
json report_json(const std::vector<runtime_result>& runs);
std::string report_junit(const std::vector<runtime_result>& runs);
std::string report_markdown(const std::vector<runtime_result>& runs);

}  // namespace conform
