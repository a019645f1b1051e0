// The workload catalogue every runtime implements, so rows line up in the report. The definitions (what
// one iteration is) live in benchmarks/README.md; the sizes and names live here, once.
#pragma once

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace bench {

inline constexpr int gather_sizes[] = {10, 1000, 100000};
inline constexpr int timer_sizes[] = {1000, 100000};
inline constexpr int cancel_sizes[] = {1000, 100000};
inline constexpr int chain_depth = 100;
inline constexpr int parked_tasks = 10000;          // BM_Memory/suspended_task
inline constexpr int queue_capacity = 64;           // BM_Queue/pipeline
inline constexpr std::int64_t timer_spread_ns = 10'000'000;  // random deadlines in [0, 10 ms)
inline constexpr std::size_t echo_sizes[] = {64, 16 * 1024};
inline constexpr int echo_connections[] = {1, 100};

inline std::string gather_name(int n) { return "BM_Gather/fanout:" + std::to_string(n); }
inline std::string timers_name(int n) { return "BM_Timers/random:" + std::to_string(n); }
inline std::string cancel_name(int n) { return "BM_Cancel/" + std::to_string(n); }
inline std::string chain_name() { return "BM_Chain/depth:" + std::to_string(chain_depth); }
inline std::string echo_name(std::size_t bytes, int conns) {
  return std::string("BM_Echo/") + (bytes >= 1024 ? std::to_string(bytes / 1024) + "KiB" : std::to_string(bytes) + "B") +
         "x" + std::to_string(conns) + "conn";
}

// The same pseudo-random delays for every runtime and every iteration: a fixed seed.
inline std::vector<std::int64_t> random_delays_ns(int n) {
  std::mt19937_64 rng(20240501);
  std::uniform_int_distribution<std::int64_t> pick(0, timer_spread_ns - 1);
  std::vector<std::int64_t> out(static_cast<std::size_t>(n));
  for (auto& d : out) d = pick(rng);
  return out;
}

// Bytes of heap in use (glibc's mallinfo2), to measure what a parked task costs whatever allocator path a
// runtime takes.
std::size_t heap_in_use();

// Runs `fn` (returning a number) on a new thread and returns its result: thread-local caches a runtime
// filled in earlier runs (frame pools, recycling allocators) must not hide what parking tasks costs.
template <class Fn>
double in_fresh_thread(Fn fn) {
  double result = 0;
  std::thread worker([&] { result = fn(); });
  worker.join();
  return result;
}

// BM_Memory/suspended_task: `measure` parks bench::parked_tasks tasks and returns the heap's growth per
// task. One measurement per run is exact; the timed loop only satisfies Google Benchmark.
template <class Measure>
void bytes_per_task(benchmark::State& state, Measure measure) {
  const double per_task = in_fresh_thread(measure);
  for (auto _ : state) benchmark::DoNotOptimize(per_task);
  state.counters["bytes_per_task"] = per_task;
}

// Records what the report needs to tell runs apart: the runtime, its version, compiler and flags, and which
// catalogue workloads this runtime does not run and why ("name=reason;name=reason").
void record_context(const std::string& runtime, const std::string& runtime_version, const std::string& skipped = {});

// One runtime's implementation of the catalogue. register_catalogue() registers the workloads in the one
// catalogue order under the one set of names; a workload left empty is not registered (say why in
// record_context's `skipped`).
struct suite {
  using plain = std::function<void(benchmark::State&)>;
  using sized = std::function<void(benchmark::State&, int)>;
  plain spawn, resume, pingpong, chain;
  sized gather, timers, cancel;
  plain wait_for, queue, executor;
  std::function<void(benchmark::State&, std::size_t bytes, int connections)> echo;
  plain memory;
};
void register_catalogue(const suite& s);

// Every benchmark of the suite: nanoseconds, CPU time (the default; far steadier than wall time here).
template <class Fn>
benchmark::internal::Benchmark* add(const std::string& name, Fn&& fn) {
  return benchmark::RegisterBenchmark(name.c_str(), std::forward<Fn>(fn))->Unit(benchmark::kNanosecond);
}

// What a suite's main() does after registering: runs Google Benchmark with the command line. Besides
// Google Benchmark's flags it takes --iterations=N: every benchmark runs exactly N iterations (instruction counts).
int run_main(int argc, char** argv);

}  // namespace bench
