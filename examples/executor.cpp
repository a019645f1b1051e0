// Blocking work moved to a thread pool while the loop keeps ticking (asyncio docs, "Executing code in
// thread or process pools"):
//
//   def blocking_io():
//       time.sleep(0.2)            # stands for a blocking library call
//       return "file contents"
//   async def ticker():
//       while True:
//           await asyncio.sleep(0.01)
//           ticks += 1
//   async def main():
//       t = asyncio.create_task(ticker())
//       result = await asyncio.to_thread(blocking_io)
//       t.cancel()
//       print("blocking call returned:", result)
//       print("the loop kept ticking meanwhile:", ticks > 0)
#include <coroscope/coroscope.hpp>
#include <coroscope/executor.hpp>

#include <cstdio>
#include <string>
#include <thread>

using namespace std::chrono_literals;
using coroscope::task;

std::string blocking_io() {
  std::this_thread::sleep_for(200ms);  // a blocking call: it would freeze the loop if run on it
  return "file contents";
}

task<void> amain() {
  int ticks = 0;
  auto ticker = coroscope::create_task([&]() -> task<void> {
    for (;;) {
      co_await coroscope::sleep(10ms);
      ++ticks;
    }
  });
  std::string result = co_await coroscope::to_thread(blocking_io);
  ticker.cancel();
  std::printf("blocking call returned: %s\n", result.c_str());
  std::printf("the loop kept ticking meanwhile: %s\n", ticks > 0 ? "True" : "False");
}

int main() { coroscope::run(amain()); }
