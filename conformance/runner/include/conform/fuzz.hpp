#pragma once
// Differential fuzzing: random well-formed scenario programs run on the CPython oracle and on a runtime.
#include <conform/adapter.hpp>

#include <cstdint>
#include <functional>
#include <string>

namespace conform {

struct fuzz_options {
  std::uint64_t seed = 1;
  int count = 0;
  std::string save_dir = "fuzz-divergences";
  std::string python;
  std::string oracle;
  bool emit = false;  // print the programs (JSON lines) instead of running them
};

// A random program: task trees with sleeps, cancels, gathers, waits, wait_for, timeouts and exceptions.
// The same seed gives the same program on every platform (the generator does not use <random>'s
// distributions, whose results are implementation-defined).
json generate_program(std::uint64_t seed, int index);
// The same, drawing only steps whose features `supports` accepts (fuzzing a runtime without cancellation
// still gives runnable programs). With every feature supported it is the program above.
json generate_program(std::uint64_t seed, int index, const std::function<bool(const std::string&)>& supports);

// Runs `count` programs the runtime supports (replacing ambiguous and unsupported ones, within 4 x count
// generated) and prints how many ran, were unsupported, were ambiguous and diverged. Returns the exit code:
// 0 no divergence, 1 divergences (each minimised, printed and saved) or no program ran at all.
int run_fuzz(adapter& a, const fuzz_options& o, const run_options& ro);

}  // namespace conform
