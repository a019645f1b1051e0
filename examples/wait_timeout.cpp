// asyncio.wait with a timeout: what finished in time, what is still running.
//
//   async def worker(name, delay):
//       await asyncio.sleep(delay)
//       return name
//   async def main():
//       tasks = [asyncio.create_task(worker(n, d))
//                for n, d in [('fast', 0.1), ('medium', 0.5), ('slow', 2.0)]]
//       done, pending = await asyncio.wait(tasks, timeout=1.0)
//       print(f"done: {sorted(t.result() for t in done)}")
//       print(f"pending: {len(pending)}")
//       for t in pending:
//           t.cancel()
#include <coroscope/coroscope.hpp>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using coroscope::task;

task<std::string> worker(std::string name, std::chrono::milliseconds delay) {
  co_await coroscope::sleep(delay);
  co_return name;
}

task<void> amain() {
  std::vector<coroscope::task_handle<std::string>> tasks;
  tasks.push_back(coroscope::create_task(worker("fast", 100ms)));
  tasks.push_back(coroscope::create_task(worker("medium", 500ms)));
  tasks.push_back(coroscope::create_task(worker("slow", 2000ms)));
  auto [done, pending] = co_await coroscope::wait(tasks, coroscope::all_completed, 1s);
  std::vector<std::string> names;
  for (auto& t : done) names.push_back(t.result());
  std::sort(names.begin(), names.end());
  std::printf("done: [");
  for (std::size_t i = 0; i < names.size(); ++i) std::printf("%s'%s'", i ? ", " : "", names[i].c_str());
  std::printf("]\npending: %zu\n", pending.size());
  for (auto& t : pending) t.cancel();
}

int main() { coroscope::run(amain()); }
