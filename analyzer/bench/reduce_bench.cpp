// The reduce step (solveTransitive) over a synthetic program: N function summaries in call chains with
// cycles and fan-out, 10% of them blocking directly, and N/10 coroutine calls into them. Prints the time of
// the reduce alone (the map step is per TU and runs in parallel). A benchmark, not a test:
//   coroscope-lint-reduce-bench [N=10000] [repetitions=5]
#include "Summary.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

using namespace coroscope::lint;

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 10000;
  const int reps = argc > 2 ? std::atoi(argv[2]) : 5;
  if (n <= 0 || reps <= 0) {
    std::fprintf(stderr, "usage: coroscope-lint-reduce-bench [N>0] [repetitions>0]\n");
    return 2;
  }
  std::mt19937 rng(42);
  auto usr = [](int i) { return "c:@F@helper_" + std::to_string(i) + "#I#"; };
  auto site = [](int i) {
    return SummarySite{Location{"src/file_" + std::to_string(i / 50) + ".cpp", static_cast<unsigned>(i % 50 + 1), 3},
                       "  helper();"};
  };
  // 20 TUs' worth of summaries, so the reduce also merges duplicates of header functions.
  std::vector<TUSummary> tus(20);
  for (int i = 0; i < n; ++i) {
    FunctionSummary f;
    f.usr = usr(i);
    f.name = "helper_" + std::to_string(i);
    if (rng() % 10 == 0) {
      f.direct = DirectBlock{"fopen", "file-io", site(i)};
    } else {
      const int calls = 1 + static_cast<int>(rng() % 4);
      for (int c = 0; c < calls; ++c) {
        // Mostly forward (chains), sometimes backward (cycles).
        const int target = rng() % 5 == 0 ? static_cast<int>(rng() % n) : std::min(n - 1, i + 1 + static_cast<int>(rng() % 8));
        f.calls.push_back(CallEdge{usr(target), "helper_" + std::to_string(target), site(i)});
      }
    }
    tus[static_cast<std::size_t>(i) % tus.size()].functions.push_back(std::move(f));
  }
  for (int i = 0; i < n / 10; ++i) {
    CoroutineCall call;
    call.callee_usr = usr(static_cast<int>(rng() % n));
    call.finding.rule = "transitive-blocking-call";
    call.finding.where = site(i).where;
    call.finding.where.column = 7;
    call.finding.function = "coro_" + std::to_string(i);
    tus[static_cast<std::size_t>(i) % tus.size()].calls.push_back(std::move(call));
  }
  std::vector<const TUSummary*> all;
  for (const auto& t : tus) all.push_back(&t);
  std::vector<double> ms;
  std::size_t found = 0;
  for (int r = 0; r < reps; ++r) {
    const auto start = std::chrono::steady_clock::now();
    found = solveTransitive(all).size();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(ms.begin(), ms.end());
  std::printf("reduce over %d summaries, %d coroutine calls: %zu findings, median %.1f ms (min %.1f, max %.1f)\n", n,
              n / 10, found, ms[ms.size() / 2], ms.front(), ms.back());
  return 0;
}
