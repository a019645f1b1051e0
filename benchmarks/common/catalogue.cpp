#include "catalogue.hpp"

#include <malloc.h>

#include <cstdio>
#include <cstdlib>

namespace bench {

std::size_t heap_in_use() { return mallinfo2().uordblks; }

void record_context(const std::string& runtime, const std::string& runtime_version, const std::string& skipped) {
  benchmark::AddCustomContext("runtime", runtime);
  benchmark::AddCustomContext("runtime_version", runtime_version);
#if defined(__clang__)
  benchmark::AddCustomContext("compiler", "clang++ " __clang_version__);
#elif defined(__GNUC__)
  benchmark::AddCustomContext("compiler", "g++ " __VERSION__);
#endif
  benchmark::AddCustomContext("cxx_flags", COROSCOPE_BENCH_CXX_FLAGS);
  benchmark::AddCustomContext("build_type", COROSCOPE_BENCH_BUILD_TYPE);
  if (!skipped.empty()) benchmark::AddCustomContext("skipped_workloads", skipped);
}

namespace {
// The suite registered by register_catalogue, registered with Google Benchmark by run_main once the
// command line is known (--iterations must reach every benchmark).
suite registered;
std::int64_t fixed_iterations = 0;

void register_with_benchmark(const suite& s) {
  auto add = [](const std::string& name, auto fn) {
    auto* b = bench::add(name, std::move(fn));
    if (fixed_iterations > 0) b->Iterations(fixed_iterations);
  };
  auto plain = [&](const std::string& name, const suite::plain& fn) {
    if (fn) add(name, [fn](benchmark::State& state) { fn(state); });
  };
  auto sized = [&](const std::string& name, const suite::sized& fn, int n) {
    if (fn) add(name, [fn, n](benchmark::State& state) { fn(state, n); });
  };
  plain("BM_Spawn", s.spawn);
  plain("BM_Resume", s.resume);
  plain("BM_PingPong", s.pingpong);
  plain(chain_name(), s.chain);
  for (int n : gather_sizes) sized(gather_name(n), s.gather, n);
  for (int n : timer_sizes) sized(timers_name(n), s.timers, n);
  for (int n : cancel_sizes) sized(cancel_name(n), s.cancel, n);
  plain("BM_WaitFor/overhead", s.wait_for);
  plain("BM_Queue/pipeline", s.queue);
  plain("BM_Executor/roundtrip", s.executor);
  if (s.echo)
    for (std::size_t bytes : echo_sizes)
      for (int conns : echo_connections)
        add(echo_name(bytes, conns), [fn = s.echo, bytes, conns](benchmark::State& state) { fn(state, bytes, conns); });
  plain("BM_Memory/suspended_task", s.memory);
}
}  // namespace

void register_catalogue(const suite& s) { registered = s; }

int run_main(int argc, char** argv) {
  // --iterations=N (ours, not Google Benchmark's): every benchmark runs exactly N iterations, once.
  // benchmarks/run.sh instructions runs each workload at N and 2N under callgrind, so setup cancels out.
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--iterations=", 0) == 0) {
      const std::string v = arg.substr(13);
      char* end = nullptr;
      const long long n = std::strtoll(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || n <= 0) {
        std::fprintf(stderr, "%s: --iterations: '%s' is not a positive integer\n", argv[0], v.c_str());
        return 2;
      }
      fixed_iterations = n;
      continue;
    }
    argv[kept++] = argv[i];
  }
  argc = kept;
  register_with_benchmark(registered);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace bench
