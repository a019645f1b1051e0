#include "catalogue.hpp"

#include <malloc.h>

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

void register_catalogue(const suite& s) {
  auto plain = [](const std::string& name, const suite::plain& fn) {
    if (fn) add(name, [fn](benchmark::State& state) { fn(state); });
  };
  auto sized = [](const std::string& name, const suite::sized& fn, int n) {
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

int run_main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace bench
