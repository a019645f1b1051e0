// A producer/consumer pipeline over a bounded queue (asyncio docs, "Queues"):
//
//   async def producer(q, n):
//       for i in range(n):
//           await q.put(i)
//           print(f"produced {i}")
//       await q.put(None)
//   async def consumer(q):
//       total = 0
//       while (item := await q.get()) is not None:
//           total += item
//           print(f"consumed {item}")
//           await asyncio.sleep(0.01)
//       return total
//   async def main():
//       q = asyncio.Queue(maxsize=2)
//       _, total = await asyncio.gather(producer(q, 5), consumer(q))
//       print("total:", total)
//
// The bounded queue makes the producer wait for the consumer: the interleaving below is CPython's.
#include <coroscope/coroscope.hpp>

#include <cstdio>
#include <optional>

using namespace std::chrono_literals;
using coroscope::task;

task<void> producer(coroscope::queue<std::optional<int>>& q, int n) {
  for (int i = 0; i < n; ++i) {
    co_await q.put(i);
    std::printf("produced %d\n", i);
  }
  co_await q.put(std::nullopt);  // Python's None: the end of the stream
}

task<int> consumer(coroscope::queue<std::optional<int>>& q) {
  int total = 0;
  for (;;) {
    std::optional<int> item = co_await q.get();
    if (!item) break;
    total += *item;
    std::printf("consumed %d\n", *item);
    co_await coroscope::sleep(10ms);
  }
  co_return total;
}

task<void> amain() {
  coroscope::queue<std::optional<int>> q(2);
  auto [done, total] = co_await coroscope::gather(producer(q, 5), consumer(q));
  (void)done;
  std::printf("total: %d\n", total);
}

int main() { coroscope::run(amain()); }
