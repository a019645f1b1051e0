// Running tasks concurrently with gather (asyncio docs, asyncio.gather example):
//
//   async def factorial(name, number):
//       f = 1
//       for i in range(2, number + 1):
//           print(f"Task {name}: Compute factorial({number}), currently i={i}...")
//           await asyncio.sleep(1)
//           f *= i
//       print(f"Task {name}: factorial({number}) = {f}")
//       return f
//   async def main():
//       L = await asyncio.gather(factorial("A", 2), factorial("B", 3), factorial("C", 4))
//       print(L)
#include <coroscope/coroscope.hpp>

#include <cstdio>
#include <string>

using namespace std::chrono_literals;
using coroscope::task;

task<long> factorial(std::string name, int number) {
  long f = 1;
  for (int i = 2; i <= number; ++i) {
    std::printf("Task %s: Compute factorial(%d), currently i=%d...\n", name.c_str(), number, i);
    co_await coroscope::sleep(1s);
    f *= i;
  }
  std::printf("Task %s: factorial(%d) = %ld\n", name.c_str(), number, f);
  co_return f;
}

task<void> amain() {
  auto [a, b, c] = co_await coroscope::gather(factorial("A", 2), factorial("B", 3), factorial("C", 4));
  std::printf("[%ld, %ld, %ld]\n", a, b, c);
}

int main() { coroscope::run(amain()); }
