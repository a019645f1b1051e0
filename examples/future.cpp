// A future set by another task (asyncio docs, "Futures"):
//
//   async def set_after(fut, delay, value):
//       await asyncio.sleep(delay)
//       fut.set_result(value)
//   async def main():
//       loop = asyncio.get_running_loop()
//       fut = loop.create_future()
//       loop.create_task(set_after(fut, 1, '... world'))
//       print('hello ...')
//       print(await fut)
#include <coroscope/coroscope.hpp>

#include <cstdio>
#include <string>

using namespace std::chrono_literals;
using coroscope::task;

task<void> set_after(coroscope::future<std::string> fut, std::chrono::seconds delay, std::string value) {
  co_await coroscope::sleep(delay);
  fut.set_result(value);
}

task<void> amain() {
  auto& loop = coroscope::get_running_loop();
  auto fut = loop.create_future<std::string>();
  loop.create_task(set_after(fut, 1s, "... world"));
  std::puts("hello ...");
  std::puts((co_await fut).c_str());
}

int main() { coroscope::run(amain()); }
