#pragma once
// A runtime under test, as the runner sees it. ADAPTERS.md explains how to write one; most adapters are a
// traits class for conform::interpreter<R> plus a few lines deriving from `adapter`.
#include <conform/model.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace conform {

struct run_options {
  // Real-time adapters: wall-clock milliseconds per scenario millisecond.
  double time_scale = 2.0;
  // The runner's limits (conform::run_scenario): each scenario runs in a forked child, killed after
  // time_limit_ms of wall-clock time, its address space capped at memory_limit_mb (0: no cap).
  // isolate = false runs in the runner's own process (for a debugger): then a crash ends the run.
  double time_limit_ms = 10000;
  std::size_t memory_limit_mb = 2048;
  bool isolate = true;
};

class adapter {
public:
  virtual ~adapter() = default;
  virtual std::string name() const = 0;
  virtual std::string description() const = 0;
  // Whether the runtime can perform a feature (see SCENARIOS.md "Features"). A scenario needing an
  // unsupported feature is reported "unsupported" without being run.
  virtual bool supports(const std::string& feature) const = 0;
  // How far an event's timestamp may drift from the oracle's: 0 for a virtual clock.
  virtual long long time_tolerance_ms(const run_options& options) const = 0;
  // Runs one scenario and returns its trace. Throws unsupported_error for a feature found missing at run
  // time, scenario_error for a malformed step.
  virtual std::vector<event> run(const scenario& s, const run_options& options) = 0;
};

// The built-in adapter: coroscope's reference runtime on its virtual clock (in the coroscope::conform
// library; conform::main always offers it).
std::unique_ptr<adapter> make_reference_adapter();

}  // namespace conform
