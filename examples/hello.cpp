// asyncio's "Hello World" (asyncio docs, "Coroutines and Tasks"):
//
//   async def main():
//       print('Hello ...')
//       await asyncio.sleep(1)
//       print('... World!')
//   asyncio.run(main())
#include <coroscope/coroscope.hpp>

#include <cstdio>

using namespace std::chrono_literals;

coroscope::task<void> amain() {
  std::puts("Hello ...");
  co_await coroscope::sleep(1s);
  std::puts("... World!");
}

int main() { coroscope::run(amain()); }
