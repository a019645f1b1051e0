// Scheduling & ordering (ORD) of docs/semantics.md, on the virtual clock.
#include "support.hpp"

namespace {

cs::loop_options virtual_clock() { return {.clock = cs::clock_kind::virtual_time}; }

TEST(Ordering, ORD001_CallSoonIsFifoAndCancelledHandleNeverRuns) {
  cs::event_loop loop(virtual_clock());
  trace L;
  loop.call_soon([&] { L.push_back("a"); });
  loop.call_soon([&] { L.push_back("b"); });
  loop.call_soon([&] { L.push_back("c"); });
  loop.call_soon([&] { loop.stop(); });
  loop.run_forever();
  EXPECT_EQ(L, (trace{"a", "b", "c"}));

  L.clear();
  auto h1 = loop.call_soon([&] { L.push_back("a"); });
  auto h2 = loop.call_soon([&] { L.push_back("b"); });
  h1.cancel();
  loop.call_soon([&] { loop.stop(); });
  loop.run_forever();
  h2.cancel();  // already ran: no effect on execution
  EXPECT_EQ(L, (trace{"b"}));
  EXPECT_TRUE(h1.cancelled());
}

TEST(Ordering, ORD002_CallbacksScheduledDuringABatchRunNextIteration) {
  cs::event_loop loop(virtual_clock());
  trace L;
  loop.call_soon([&] {
    L.push_back("cb1");
    loop.call_soon([&] { L.push_back("x(from cb1)"); });
  });
  loop.call_soon([&] { L.push_back("cb2"); });
  loop.call_soon([&] { loop.stop(); });
  loop.run_forever();
  L.push_back("|stopped|");
  loop.call_soon([&] { loop.stop(); });
  loop.run_forever();
  EXPECT_EQ(L, (trace{"cb1", "cb2", "|stopped|", "x(from cb1)"}));
}

TEST(Ordering, ORD002_StopLetsTheCurrentBatchFinish) {
  cs::event_loop loop(virtual_clock());
  trace L;
  loop.call_soon([&] {
    L.push_back("cb1");
    loop.stop();
    loop.call_soon([&] { L.push_back("scheduled-by-cb1"); });
  });
  loop.call_soon([&] { L.push_back("cb2 (same batch)"); });
  loop.run_forever();
  L.push_back("|returned|");
  loop.call_soon([&] { loop.stop(); });
  loop.run_forever();
  EXPECT_EQ(L, (trace{"cb1", "cb2 (same batch)", "|returned|", "scheduled-by-cb1"}));
}

TEST(Ordering, ORD002_StopBeforeRunForeverRunsExactlyOneIteration) {
  cs::event_loop loop(virtual_clock());
  trace L;
  loop.call_soon([&] {
    L.push_back("ready-before");
    loop.call_soon([&] { L.push_back("next iteration"); });
  });
  loop.stop();
  loop.run_forever();
  L.push_back("|returned after one iteration|");
  EXPECT_EQ(L, (trace{"ready-before", "|returned after one iteration|"}));
}

TEST(Ordering, ORD003_TimersFireInDeadlineOrderAndCancelledTimerNeverFires) {
  cs::event_loop loop(virtual_clock());
  trace L;
  loop.call_later(30ms, [&] { L.push_back("a"); });
  loop.call_later(10ms, [&] { L.push_back("b"); });
  loop.call_later(20ms, [&] { L.push_back("c"); });
  auto h = loop.call_later(10ms, [&] { L.push_back("x"); });
  h.cancel();
  loop.call_later(40ms, [&] { loop.stop(); });
  loop.run_forever();
  EXPECT_EQ(L, (trace{"b", "c", "a"}));
  EXPECT_TRUE(h.cancelled());
}

TEST(Ordering, ORD003_CallAtUsesTheLoopClockAndWhenReportsTheDeadline) {
  cs::event_loop loop(virtual_clock());
  trace L;
  auto t0 = loop.now();
  auto h = loop.call_at(t0 + 20ms, [&] { L.push_back("f@" + std::to_string(std::lround(loop.time() * 1000))); });
  loop.call_later(10ms, [&] { L.push_back("later(10ms)"); });
  loop.call_later(30ms, [&] { loop.stop(); });
  static_assert(std::is_same_v<decltype(loop.time()), double>);
  EXPECT_EQ(h.when(), t0 + 20ms);
  loop.run_forever();
  EXPECT_EQ(L, (trace{"later(10ms)", "f@20"}));
}

TEST(Ordering, ORD004_TimersWithEqualDeadlinesEachRunExactlyOnce) {
  cs::event_loop loop(virtual_clock());
  std::vector<int> calls;
  auto when = loop.now() + 10ms;
  for (int i = 0; i < 10; ++i) loop.call_at(when, [&calls, i] { calls.push_back(i); });
  loop.call_later(20ms, [&] { loop.stop(); });
  loop.run_forever();
  std::sort(calls.begin(), calls.end());  // the order is undefined: assert the multiset only
  EXPECT_EQ(calls, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

TEST(Ordering, ORD005_DueTimersRunAfterReadyCallbacksSortedByDeadline) {
  cs::event_loop loop(virtual_clock());
  trace L;
  loop.call_later(-1s, [&] { L.push_back("a(-1)"); });
  loop.call_later(-2s, [&] { L.push_back("b(-2)"); });
  loop.call_later(0s, [&] { L.push_back("c(0)"); });
  loop.call_soon([&] { L.push_back("soon"); });
  loop.call_later(1ms, [&] { loop.stop(); });
  loop.run_forever();
  EXPECT_EQ(L, (trace{"soon", "b(-2)", "a(-1)", "c(0)"}));
}

task<void> worker(trace& L, std::string n, std::chrono::milliseconds first_delay) {
  L.push_back(n + "1");
  co_await cs::sleep(first_delay);
  L.push_back(n + "2");
  co_await cs::sleep(0ms);
  L.push_back(n + "3");
}

TEST(Ordering, ORD006_SleepZeroSuspendsForExactlyOneIteration) {
  trace L;
  vrun([&]() -> task<void> { co_await cs::gather(worker(L, "A", 0ms), worker(L, "B", 0ms)); }());
  EXPECT_EQ(L, (trace{"A1", "B1", "A2", "B2", "A3", "B3"}));
}

TEST(Ordering, ORD006_NegativeSleepIsAZeroSleep) {
  trace L;
  vrun([&]() -> task<void> { co_await cs::gather(worker(L, "A", -5000ms), worker(L, "B", 0ms)); }());
  EXPECT_EQ(L, (trace{"A1", "B1", "A2", "B2", "A3", "B3"}));
}

TEST(Ordering, ORD006_SleepReturnsItsResultAfterOtherCallbacksRan) {
  int counter = 0;
  int r = vrun([&]() -> task<int> {
    cs::get_running_loop().call_soon([&] { ++counter; });
    int v = co_await cs::sleep(0ms, 10);
    EXPECT_EQ(counter, 1);
    co_return v;
  }());
  EXPECT_EQ(r, 10);
}

TEST(Ordering, ORD007_CreateTaskSchedulesItDoesNotRunTheCoroutine) {
  trace L;
  vrun([&]() -> task<void> {
    auto t = cs::create_task([&]() -> task<void> {
      L.push_back("child runs");
      co_return;
    });
    L.push_back("after create_task");
    L.push_back(t.done() ? "done=True" : "done=False");
    co_await cs::sleep(0ms);
    L.push_back(t.done() ? "after sleep0 done=True" : "after sleep0 done=False");
  }());
  EXPECT_EQ(L, (trace{"after create_task", "done=False", "child runs", "after sleep0 done=True"}));
}

TEST(Ordering, ORD008_TasksStartInCreationOrder) {
  trace L;
  vrun([&]() -> task<void> {
    std::vector<cs::task_handle<void>> ts;
    for (int i = 0; i < 4; ++i)
      ts.push_back(cs::create_task([](trace& l, int n) -> task<void> {
        l.push_back("s" + std::to_string(n));
        co_await cs::sleep(0ms);
        l.push_back("e" + std::to_string(n));
      }(L, i)));
    for (auto& t : ts) co_await t;
  }());
  EXPECT_EQ(L, (trace{"s0", "s1", "s2", "s3", "e0", "e1", "e2", "e3"}));
}

TEST(Ordering, ORD008_FirstStepIsQueuedFifoWithCallSoon) {
  trace L;
  vrun([&]() -> task<void> {
    auto& loop = cs::get_running_loop();
    loop.call_soon([&] { L.push_back("cs1"); });
    auto t = cs::create_task([&]() -> task<void> {
      L.push_back("child-start");
      co_return;
    });
    loop.call_soon([&] { L.push_back("cs2"); });
    co_await t;
  }());
  EXPECT_EQ(L, (trace{"cs1", "child-start", "cs2"}));
}

TEST(Ordering, ORD009_AwaitingACoroutineDoesNotYield) {
  trace L;
  vrun([&]() -> task<void> {
    auto other = cs::create_task([&]() -> task<void> {
      L.push_back("other task ran");
      co_return;
    });
    int v = co_await [&]() -> task<int> {
      L.push_back("inner (no suspension)");
      co_return 5;
    }();
    L.push_back("after await inner -> " + std::to_string(v));
    co_await cs::sleep(0ms);
    L.push_back("after sleep0");
    co_await other;
  }());
  EXPECT_EQ(L, (trace{"inner (no suspension)", "after await inner -> 5", "other task ran", "after sleep0"}));
}

TEST(Ordering, ORD009_AwaitingADoneFutureOrDoneTaskDoesNotYield) {
  trace L;
  vrun([&]() -> task<void> {
    auto f = cs::create_future<int>();
    f.set_result(1);
    auto done_t = cs::create_task([]() -> task<void> { co_return; }());
    co_await done_t;
    auto other = cs::create_task([&]() -> task<void> {
      L.push_back("other task ran");
      co_return;
    });
    int v = co_await f;
    L.push_back("await done future -> " + std::to_string(v));
    co_await done_t;
    L.push_back("await done task");
    co_await cs::sleep(0ms);
    L.push_back("after sleep0");
    co_await other;
  }());
  EXPECT_EQ(L, (trace{"await done future -> 1", "await done task", "other task ran", "after sleep0"}));
}

TEST(Ordering, ORD010_SetResultDoesNotResumeTheAwaiterSynchronously) {
  trace L;
  vrun([&]() -> task<void> {
    auto f = cs::create_future<int>();
    auto waiter = cs::create_task([&]() -> task<void> {
      int v = co_await f;
      L.push_back("waiter got " + std::to_string(v));
    });
    co_await cs::sleep(0ms);  // the waiter is now parked on f
    f.set_result(7);
    L.push_back("setter continues after set_result");
    L.push_back(waiter.done() ? "waiter done=True" : "waiter done=False");
    co_await cs::sleep(0ms);
    L.push_back(waiter.done() ? "after 1 yield done=True" : "after 1 yield done=False");
  }());
  EXPECT_EQ(L, (trace{"setter continues after set_result", "waiter done=False", "waiter got 7",
                      "after 1 yield done=True"}));
}

TEST(Ordering, ORD011_DoneCallbacksAreScheduledNeverRunInline) {
  trace L;
  vrun([&]() -> task<void> {
    auto f = cs::create_future<int>();
    f.add_done_callback([&](const cs::future<int>& d) { L.push_back("cb(" + std::to_string(d.result()) + ")"); });
    f.set_result(1);
    L.push_back("after set_result");
    co_await cs::sleep(0ms);
    L.push_back("after sleep0");
    // Already done: scheduled too.
    f.add_done_callback([&] { L.push_back("cb"); });
    L.push_back("after add_done_callback");
    co_await cs::sleep(0ms);
    L.push_back("after sleep0 (2)");
  }());
  EXPECT_EQ(L, (trace{"after set_result", "cb(1)", "after sleep0", "after add_done_callback", "cb",
                      "after sleep0 (2)"}));
}

TEST(Ordering, ORD012_DoneCallbacksRunInRegistrationOrderQueuedAtCompletion) {
  trace L;
  vrun([&]() -> task<void> {
    auto& loop = cs::get_running_loop();
    auto f = cs::create_future<int>();
    for (auto n : {"a", "b", "c"}) f.add_done_callback([&L, n] { L.push_back(n); });
    f.set_exception(std::runtime_error("boom"));
    co_await cs::sleep(0ms);
    EXPECT_THROW(f.result(), std::runtime_error);

    auto g = cs::create_future<int>();
    loop.call_soon([&] { L.push_back("x(call_soon before)"); });
    g.add_done_callback([&] { L.push_back("done-cb"); });
    g.set_result(1);
    loop.call_soon([&] { L.push_back("y(call_soon after)"); });
    co_await cs::sleep(0ms);
  }());
  EXPECT_EQ(L, (trace{"a", "b", "c", "x(call_soon before)", "done-cb", "y(call_soon after)"}));
}

TEST(Ordering, ORD014_ExceptionInCallbackGoesToTheHandlerAndTheLoopKeepsRunning) {
  cs::event_loop loop(virtual_clock());
  handler_calls calls;
  calls.install(loop);
  trace L;
  loop.call_soon([&] { L.push_back("before"); });
  loop.call_soon([] { throw std::domain_error("division by zero"); });
  loop.call_soon([&] { L.push_back("after (loop keeps running)"); });
  loop.call_soon([&] { loop.stop(); });
  loop.run_forever();
  EXPECT_EQ(L, (trace{"before", "after (loop keeps running)"}));
  ASSERT_EQ(calls.messages.size(), 1u);
  EXPECT_EQ(calls.messages[0].rfind("Exception in callback", 0), 0u);
  EXPECT_THROW(std::rethrow_exception(calls.exceptions[0]), std::domain_error);
}

TEST(Ordering, ORD014_AFailingDoneCallbackDoesNotStopTheNextOne) {
  handler_calls calls;
  trace L;
  vrun([&]() -> task<void> {
    calls.install(cs::get_running_loop());
    auto f = cs::create_future<void>();
    f.add_done_callback([] { throw std::domain_error("first"); });
    f.add_done_callback([&] { L.push_back("second ran"); });
    f.set_result();
    co_await cs::sleep(0ms);
  }());
  EXPECT_EQ(L, (trace{"second ran"}));
  EXPECT_EQ(calls.messages.size(), 1u);
}

TEST(Ordering, ORD015_CurrentTaskInTaskInCallbackAndInChild) {
  vrun([&]() -> task<void> {
    cs::task_ref me = cs::current_task();
    EXPECT_TRUE(me);
    bool in_callback_is_empty = false;
    cs::get_running_loop().call_soon([&] { in_callback_is_empty = !cs::current_task(); });
    cs::task_ref seen_by_child;
    auto child = cs::create_task([&]() -> task<void> {
      seen_by_child = cs::current_task();
      co_return;
    });
    co_await child;
    EXPECT_TRUE(in_callback_is_empty);
    EXPECT_TRUE(seen_by_child == child);
    EXPECT_FALSE(seen_by_child == me);
  }());
  EXPECT_THROW(cs::current_task(), std::runtime_error);
}

TEST(Ordering, ORD015_AllTasksHoldsTheNotYetFinishedTasksIncludingTheCurrentOne) {
  vrun([&]() -> task<void> {
    auto me = cs::current_task();
    auto a = cs::create_task([]() -> task<void> { co_await cs::sleep(10ms); }());
    auto b = cs::create_task([]() -> task<void> { co_await cs::sleep(0ms); }());
    auto sorted = [](std::vector<std::string> v) {
      std::sort(v.begin(), v.end());
      return v;
    };
    auto names = [] {
      std::vector<std::string> n;
      for (auto& t : cs::all_tasks()) n.push_back(t.get_name());
      std::sort(n.begin(), n.end());
      return n;
    };
    EXPECT_EQ(names(), sorted({a.get_name(), b.get_name(), me.get_name()}));
    co_await b;
    EXPECT_EQ(names(), sorted({a.get_name(), me.get_name()}));
    co_await a;
    EXPECT_EQ(names(), (std::vector<std::string>{me.get_name()}));
  }());
  EXPECT_THROW(cs::all_tasks(), std::runtime_error);
}

TEST(Ordering, ORD016_RunCancelsLeftoverTasksBeforeReturning) {
  trace L;
  cs::task_handle<void> leftover;
  auto r = vrun([&]() -> task<std::string> {
    leftover = cs::create_task([&]() -> task<void> {
      try {
        try {
          co_await cs::sleep(10s);
        } catch (const cs::cancelled_error&) {
          L.push_back("leftover got CancelledError");
          throw;
        }
      } catch (...) {
        L.push_back("leftover finally");
        throw;
      }
    });
    co_await cs::sleep(0ms);
    L.push_back("main returns");
    co_return "R";
  }());
  L.push_back("run returned " + r + "; leftover cancelled=" + (leftover.cancelled() ? "True" : "False"));
  EXPECT_EQ(L, (trace{"main returns", "leftover got CancelledError", "leftover finally",
                      "run returned R; leftover cancelled=True"}));
}

TEST(Ordering, ORD016_ShutdownErrorsOfLeftoversGoToTheExceptionHandler) {
  handler_calls calls;
  auto r = vrun([&]() -> task<int> {
    calls.install(cs::get_running_loop());
    cs::create_task([]() -> task<void> {
      try {
        co_await cs::sleep(10s);
      } catch (const cs::cancelled_error&) {
        throw std::domain_error("division by zero in finally");
      }
    }());
    co_await cs::sleep(0ms);
    co_return 1;
  }());
  EXPECT_EQ(r, 1);
  ASSERT_EQ(calls.messages.size(), 1u);
  EXPECT_EQ(calls.messages[0], "unhandled exception during asyncio.run() shutdown");
  EXPECT_THROW(std::rethrow_exception(calls.exceptions[0]), std::domain_error);
}

TEST(Ordering, ORD017_RunReturnsTheResultOrRaisesTheException) {
  EXPECT_EQ(vrun([]() -> task<int> { co_return 42; }()), 42);
  EXPECT_THROW(vrun([]() -> task<int> {
                 throw std::invalid_argument("bad");
                 co_return 0;
               }()),
               std::invalid_argument);
  bool nested_refused = false;
  vrun([&]() -> task<void> {
    try {
      cs::run([]() -> task<void> { co_return; }());
    } catch (const std::runtime_error&) {
      nested_refused = true;
    }
    co_return;
  }());
  EXPECT_TRUE(nested_refused);
  EXPECT_THROW(cs::create_task([]() -> task<void> { co_return; }()), std::runtime_error);
}

TEST(Ordering, ORD017_RunUntilCompleteContract) {
  cs::event_loop loop(virtual_clock());
  EXPECT_EQ(loop.run_until_complete([]() -> task<int> { co_return 3; }()), 3);
  EXPECT_THROW(loop.run_until_complete([]() -> task<int> {
                 throw std::out_of_range("k");
                 co_return 0;
               }()),
               std::out_of_range);
  auto never = loop.create_future<int>();
  loop.call_soon([&] { loop.stop(); });
  try {
    loop.run_until_complete(never);
    FAIL() << "expected a runtime_error";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "coroscope: Event loop stopped before Future completed.");
  }
  bool reentrant_refused = false;
  loop.run_until_complete([&]() -> task<void> {
    try {
      loop.run_until_complete([]() -> task<void> { co_return; }());
    } catch (const std::runtime_error&) {
      reentrant_refused = true;
    }
    co_return;
  }());
  EXPECT_TRUE(reentrant_refused);
}

TEST(Ordering, ORD018_CreateTaskNeverRunsTheBodyEagerlyAsIn311) {
  // 3.12's eager task factory would run a non-blocking body inside create_task; 3.11 (and coroscope) never do.
  trace L;
  vrun([&]() -> task<void> {
    auto q = cs::create_task([&]() -> task<std::string> {
      L.push_back("quick ran");
      co_return "q";
    });
    L.push_back(std::string("after create_task done=") + (q.done() ? "True" : "False"));
    co_await q;
  }());
  EXPECT_EQ(L, (trace{"after create_task done=False", "quick ran"}));
}

}  // namespace
