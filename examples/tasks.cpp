// Running coroutines concurrently as tasks (asyncio docs, "Coroutines and Tasks"):
//
//   async def say_after(delay, what):
//       await asyncio.sleep(delay)
//       print(what)
//   async def main():
//       task1 = asyncio.create_task(say_after(1, 'hello'))
//       task2 = asyncio.create_task(say_after(2, 'world'))
//       print(f"started at {time.strftime('%X')}")
//       await task1
//       await task2
//       print(f"finished at {time.strftime('%X')}")
//
// The port prints the loop's clock instead of the wall clock, so the output is the same on every run:
// both tasks sleep concurrently and the whole program takes 2 seconds, not 3.
#include <coroscope/coroscope.hpp>

#include <cstdio>
#include <string>

using namespace std::chrono_literals;
using coroscope::task;

task<void> say_after(std::chrono::seconds delay, std::string what) {
  co_await coroscope::sleep(delay);
  std::puts(what.c_str());
}

double elapsed(double start) { return coroscope::get_running_loop().time() - start; }

task<void> amain() {
  const double start = coroscope::get_running_loop().time();
  auto task1 = coroscope::create_task(say_after(1s, "hello"));
  auto task2 = coroscope::create_task(say_after(2s, "world"));
  std::printf("started at %.1f s\n", elapsed(start));
  co_await task1;
  co_await task2;
  std::printf("finished at %.1f s\n", elapsed(start));
}

int main() { coroscope::run(amain()); }
