// The loop itself: debug mode, diagnostics, deadlock detection, teardown, clocks, and the promises of
// the implementation (no stack growth on long or deep co_await chains).
#include "support.hpp"

#include <cstdlib>
#include <thread>

namespace {

cs::loop_options virtual_clock() { return {.clock = cs::clock_kind::virtual_time}; }

TEST(Loop, CallSoonPassesArguments) {
  cs::event_loop loop(virtual_clock());
  int sum = 0;
  loop.call_soon([&](int a, int b) { sum = a + b; }, 2, 3);
  loop.call_soon([&] { loop.stop(); });
  loop.run_forever();
  EXPECT_EQ(sum, 5);
}

TEST(Loop, ANeverCompletingFutureWithNothingScheduledIsADeadlockErrorNotAHang) {
  cs::event_loop loop(virtual_clock());
  auto f = loop.create_future<int>();
  try {
    loop.run_until_complete(f);
    FAIL() << "expected a deadlock error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("deadlock"), std::string::npos);
  }
}

TEST(Loop, VirtualClockJumpsToTheNextTimer) {
  cs::event_loop loop(virtual_clock());
  EXPECT_EQ(loop.time(), 0.0);
  loop.run_until_complete([]() -> task<void> { co_await cs::sleep(3600s); }());
  EXPECT_DOUBLE_EQ(loop.time(), 3600.0);
}

TEST(Loop, RealClockReallyWaits) {
  auto t0 = std::chrono::steady_clock::now();
  cs::run([]() -> task<void> { co_await cs::sleep(20ms); }(), {.clock = cs::clock_kind::real});
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 20ms);  // a lower bound only: never a timed test
}

TEST(Loop, CancelledTimersAreSkippedAndPurged) {
  cs::event_loop loop(virtual_clock());
  int fired = 0;
  std::vector<cs::timer_handle> hs;
  for (int i = 0; i < 1000; ++i) hs.push_back(loop.call_later(std::chrono::milliseconds(i + 1), [&] { ++fired; }));
  for (int i = 0; i < 1000; ++i)
    if (i % 10) hs[i].cancel();
  loop.call_later(2s, [&] { loop.stop(); });
  loop.run_forever();
  EXPECT_EQ(fired, 100);
}

TEST(Loop, TasksAreNamedTaskNUnlessNamed) {
  vrun([]() -> task<void> {
    auto me = cs::current_task();
    EXPECT_EQ(me.get_name(), "Task-1");
    auto t = cs::create_task([]() -> task<void> { co_return; }(), "worker");
    EXPECT_EQ(t.get_name(), "worker");
    t.set_name("renamed");
    EXPECT_EQ(t.get_name(), "renamed");
    co_await t;
  }());
}

TEST(Debug, SlowCallbacksAreLogged) {
  cs::event_loop loop({.clock = cs::clock_kind::virtual_time, .debug = true,
                       .slow_callback_duration = std::chrono::milliseconds(1)});
  std::vector<std::string> log;
  loop.set_log_handler([&](std::string_view l) { log.emplace_back(l); });
  loop.call_soon([] { std::this_thread::sleep_for(5ms); });
  loop.call_soon([&] { loop.stop(); });
  loop.run_forever();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].rfind("Executing <Handle> took ", 0), 0u) << log[0];
}

TEST(Debug, DebugModeCanBeSwitchedOnFromTheEnvironment) {
  ::setenv("COROSCOPE_DEBUG", "1", 1);
  cs::event_loop on(virtual_clock());
  ::unsetenv("COROSCOPE_DEBUG");
  cs::event_loop off(virtual_clock());
  EXPECT_TRUE(on.get_debug());
  EXPECT_FALSE(off.get_debug());
}

TEST(Debug, TasksDestroyedWhilePendingAreReported) {
  handler_calls calls;
  trace L;
  {
    cs::event_loop loop(virtual_clock());
    calls.install(loop);
    loop.create_task([](trace& l) -> task<void> {
      struct on_destroy {
        trace& l;
        ~on_destroy() { l.push_back("frame destroyed"); }
      } guard{l};
      co_await cs::sleep(3600s);
    }(L));
    loop.call_soon([&] { loop.stop(); });
    loop.run_forever();
    EXPECT_TRUE(L.empty());
  }
  EXPECT_EQ(calls.messages, (std::vector<std::string>{"Task was destroyed but it is pending!"}));
  EXPECT_EQ(L, (trace{"frame destroyed"}));  // no frame outlives its loop
}

TEST(Debug, TheDefaultHandlerWritesToTheLog) {
  cs::event_loop loop(virtual_clock());
  std::vector<std::string> log;
  loop.set_log_handler([&](std::string_view l) { log.emplace_back(l); });
  loop.call_soon([] { throw std::invalid_argument("oops"); });
  loop.call_soon([&] { loop.stop(); });
  loop.run_forever();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_NE(log[0].find("Exception in callback <Handle>"), std::string::npos);
  EXPECT_NE(log[0].find("oops"), std::string::npos);
}

TEST(Lifetime, AFinishedTaskHandleOutlivesItsLoop) {
  cs::task_handle<int> kept;
  vrun([&]() -> task<void> {
    kept = cs::create_task([]() -> task<int> { co_return 9; }());
    co_await kept;
  }());
  EXPECT_EQ(kept.result(), 9);
  EXPECT_THROW(kept.get_loop(), std::runtime_error);
}

// A future still pending when its loop went used to keep a dangling loop pointer: resolving it or adding a
// callback afterwards wrote into freed memory (ASan: stack-use-after-return). Teardown detaches every
// future: what needs the loop raises loop_closed_error, a finished outcome stays readable.
TEST(Lifetime, EveryFutureOperationAfterTheLoopIsGoneRaisesLoopClosed) {
  cs::future<int> pending, finished;
  vrun([&]() -> task<void> {
    pending = cs::create_future<int>();
    finished = cs::create_future<int>();
    finished.set_result(7);
    co_return;
  }());
  EXPECT_THROW(pending.set_result(1), cs::loop_closed_error);
  EXPECT_THROW(pending.set_exception(std::runtime_error("late")), cs::loop_closed_error);
  EXPECT_THROW(pending.cancel(), cs::loop_closed_error);
  EXPECT_THROW(pending.cancel("late"), cs::loop_closed_error);
  EXPECT_THROW(pending.add_done_callback([] {}), cs::loop_closed_error);
  EXPECT_THROW(pending.result(), cs::loop_closed_error);
  EXPECT_THROW(pending.exception(), cs::loop_closed_error);
  EXPECT_THROW(pending.get_loop(), cs::loop_closed_error);
  EXPECT_EQ(pending.remove_done_callback({}), 0u);
  EXPECT_FALSE(pending.done());  // none of the above changed it
  EXPECT_FALSE(pending.cancelled());

  EXPECT_EQ(finished.result(), 7);
  EXPECT_EQ(finished.exception(), nullptr);
  EXPECT_FALSE(finished.cancel());
  EXPECT_THROW(finished.set_result(8), cs::loop_closed_error);
  EXPECT_THROW(finished.add_done_callback([] {}), cs::loop_closed_error);

  // Awaited from another loop: raised at the co_await, not a hang.
  const std::string what = vrun([&]() -> task<std::string> {
    try {
      co_await pending;
    } catch (const cs::loop_closed_error& e) {
      co_return e.what();
    }
    co_return "no error";
  }());
  EXPECT_EQ(what, "coroscope: the future's event loop is closed");
}

TEST(Lifetime, EveryTaskHandleOperationAfterTheLoopIsGoneRaisesLoopClosed) {
  cs::task_handle<int> parked, finished;
  std::vector<std::string> reports;
  {
    cs::event_loop loop(virtual_clock());
    loop.set_exception_handler([&](cs::event_loop&, const cs::exception_context& c) { reports.push_back(c.message); });
    parked = loop.create_task([]() -> task<int> {
      co_await cs::sleep(1h);
      co_return 1;
    }());
    finished = loop.create_task([]() -> task<int> { co_return 2; }());
    EXPECT_EQ(loop.run_until_complete(finished), 2);
  }
  EXPECT_EQ(reports, (std::vector<std::string>{"Task was destroyed but it is pending!"}));
  EXPECT_THROW(parked.cancel(), cs::loop_closed_error);
  EXPECT_THROW(parked.result(), cs::loop_closed_error);
  EXPECT_THROW(parked.exception(), cs::loop_closed_error);
  EXPECT_THROW(parked.add_done_callback([] {}), cs::loop_closed_error);
  EXPECT_THROW(parked.get_loop(), cs::loop_closed_error);
  EXPECT_FALSE(parked.done());
  EXPECT_EQ(parked.get_name(), "Task-1");
  EXPECT_EQ(parked.cancelling(), 0);

  EXPECT_EQ(finished.result(), 2);
  EXPECT_FALSE(finished.cancel());
  EXPECT_THROW(finished.add_done_callback([] {}), cs::loop_closed_error);

  const std::string what = vrun([&]() -> task<std::string> {
    try {
      co_await parked;
    } catch (const cs::loop_closed_error& e) {
      co_return e.what();
    }
    co_return "no error";
  }());
  EXPECT_EQ(what, "coroscope: the future's event loop is closed");
}

task<int> sync_leaf(int i) { co_return i; }

TEST(Chains, AMillionSynchronousAwaitsDoNotGrowTheStack) {
  long sum = vrun([]() -> task<long> {
    long s = 0;
    for (int i = 0; i < 1'000'000; ++i) s += co_await sync_leaf(1);
    co_return s;
  }());
  EXPECT_EQ(sum, 1'000'000);
}

task<int> depth(int n) {
  if (n == 0) co_return 0;
  co_return 1 + co_await depth(n - 1);
}

TEST(Chains, ADeepAwaitChainCompletes) {
  EXPECT_EQ(vrun(depth(100'000)), 100'000);
}

task<int> deep_then_suspend(int n) {
  if (n == 0) {
    co_await cs::sleep(1ms);
    co_return 0;
  }
  co_return 1 + co_await deep_then_suspend(n - 1);
}

TEST(Chains, ADeepChainSuspendedAtItsLeafIsResumedThroughTheLoop) {
  EXPECT_EQ(vrun(deep_then_suspend(10'000)), 10'000);
}

}  // namespace
