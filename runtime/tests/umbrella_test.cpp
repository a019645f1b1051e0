#include <coroscope/coroscope.hpp>
#include <gtest/gtest.h>

using namespace std::chrono_literals;
using namespace coroscope;

task<int> val(int v, std::chrono::milliseconds d) {
  co_await sleep(d);
  co_return v;
}

TEST(Umbrella, GatherWaitForShieldTimeoutGroup) {
  auto r = run(
      []() -> task<int> {
        auto [a, b, c] = co_await gather(val(1, 30ms), val(2, 10ms), val(3, 20ms));
        int w = co_await wait_for(val(4, 5ms), 1s);
        int s = co_await shield(val(5, 1ms));
        task_group tg;
        int g = 0;
        co_await async_with(tg, [&](task_group& grp) -> task<void> {
          auto h = grp.create_task(val(6, 1ms));
          g = co_await h;
        });
        bool timed_out = false;
        try {
          co_await async_with(timeout(5ms), [&]() -> task<void> { co_await sleep(1s); });
        } catch (const timeout_error&) {
          timed_out = true;
        }
        co_return a + b + c + w + s + g + (timed_out ? 100 : 0);
      }(),
      {.clock = clock_kind::virtual_time});
  EXPECT_EQ(r, 121);
}
