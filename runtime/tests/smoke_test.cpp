#include <coroscope/sleep.hpp>
#include <coroscope/task.hpp>
#include <gtest/gtest.h>

using namespace std::chrono_literals;
using coroscope::task;

task<int> child(std::vector<std::string>& log, std::string n) {
  log.push_back(n + "1");
  co_await coroscope::sleep(0ms);
  log.push_back(n + "2");
  co_await coroscope::sleep(10ms);
  log.push_back(n + "3");
  co_return 7;
}

task<int> main_task(std::vector<std::string>& log) {
  auto a = coroscope::create_task(child(log, "A"));
  auto b = coroscope::create_task(child(log, "B"));
  int x = co_await a;
  int y = co_await b;
  int z = co_await child(log, "C");
  co_return x + y + z;
}

TEST(Smoke, RunsTasks) {
  std::vector<std::string> log;
  coroscope::event_loop loop({.clock = coroscope::clock_kind::virtual_time});
  int r = loop.run_until_complete(main_task(log));
  EXPECT_EQ(r, 21);
  EXPECT_EQ(log, (std::vector<std::string>{"A1", "B1", "A2", "B2", "A3", "B3", "C1", "C2", "C3"}));
  EXPECT_DOUBLE_EQ(loop.time(), 0.02);
}
