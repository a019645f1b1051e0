#pragma once
// Differential fuzzing: random well-formed scenario programs run on the CPython oracle and on a runtime.
#include <conform/adapter.hpp>

#include <cstdint>
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

// Returns the exit code: 0 no divergence, 1 divergences (each minimised, printed and saved).
int run_fuzz(adapter& a, const fuzz_options& o, const run_options& ro);

}  // namespace conform
