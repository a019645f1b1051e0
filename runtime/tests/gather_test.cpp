// gather (GAT) of docs/semantics.md.
#include "support.hpp"

namespace {

TEST(Gather, GAT001_ResultsFollowArgumentOrder) {
  trace L;
  auto r = vrun([&]() -> task<std::tuple<std::string, std::string, std::string>> {
    co_return co_await cs::gather(val("a", 30ms, &L), val("b", 10ms, &L), val("c", 20ms, &L));
  }());
  EXPECT_EQ(L, (trace{"done b", "done c", "done a"}));
  EXPECT_EQ(r, std::make_tuple(std::string("a"), std::string("b"), std::string("c")));
}

TEST(Gather, GAT001_VectorFormKeepsOrder) {
  auto r = vrun([]() -> task<std::vector<int>> {
    std::vector<task<int>> ts;
    for (int i = 0; i < 5; ++i)
      ts.push_back([](int v) -> task<int> {
        co_await cs::sleep(std::chrono::milliseconds(50 - 10 * v));
        co_return v;
      }(i));
    co_return co_await cs::gather(std::move(ts));
  }());
  EXPECT_EQ(r, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(Gather, GAT002_FirstExceptionPropagatesAndTheOthersKeepRunning) {
  trace L;
  vrun([&]() -> task<void> {
    auto slow = cs::create_task(val("slow", 30ms, &L));
    auto e1 = cs::create_task(err(std::invalid_argument("e1"), 10ms));
    auto e2 = cs::create_task(err(std::out_of_range("e2"), 20ms));
    try {
      co_await cs::gather(slow, e1, e2);
      ADD_FAILURE() << "gather must raise";
    } catch (const std::invalid_argument& e) {
      L.push_back(at(std::string("gather raised ") + e.what()));
    }
    L.push_back(std::string("done flags ") + (slow.done() ? "T" : "F") + (e1.done() ? "T" : "F") +
                (e2.done() ? "T" : "F"));
    co_await cs::sleep(30ms);
    EXPECT_THROW(e2.result(), std::out_of_range);
    EXPECT_TRUE(slow.done() && e1.done() && e2.done());
    EXPECT_FALSE(slow.cancelled() || e1.cancelled() || e2.cancelled());
  }());
  EXPECT_EQ(L, (trace{"gather raised e1@10", "done flags FTF", "done slow"}));
}

TEST(Gather, GAT003_ReturnExceptionsPutsExceptionsInPosition) {
  vrun([]() -> task<void> {
    auto [a, b, c] = co_await cs::gather(cs::return_exceptions, val("1", 20ms), err(std::invalid_argument("x"), 10ms),
                                         val("3", 0ms));
    EXPECT_EQ(a.value(), "1");
    EXPECT_TRUE(b.holds<std::invalid_argument>());
    EXPECT_EQ(c.value(), "3");
  }());
}

TEST(Gather, GAT004_CancellingTheGatherFutureCancelsUnfinishedChildren) {
  trace L;
  vrun([&]() -> task<void> {
    auto ta = cs::create_task(logs_cancel(L, "a cancelled"));
    auto tb = cs::create_task(logs_cancel(L, "b cancelled"));
    auto g = cs::gather(ta, tb);
    co_await cs::sleep(0ms);
    EXPECT_TRUE(g.cancel());
    EXPECT_FALSE(g.cancelled());  // like a Task, only a request
    CO_EXPECT_THROW(g, cs::cancelled_error);
    EXPECT_TRUE(ta.cancelled() && tb.cancelled());
  }());
  EXPECT_EQ(L, (trace{"a cancelled", "b cancelled"}));
}

TEST(Gather, GAT004_AChildWithAResultKeepsIt) {
  trace L;
  vrun([&]() -> task<void> {
    auto a = cs::create_task(val("a", 0ms));
    co_await a;
    auto b = cs::create_task(logs_cancel(L, "b cancelled"));
    auto g = cs::gather(a, b);
    EXPECT_TRUE(g.cancel());
    CO_EXPECT_THROW(g, cs::cancelled_error);
    EXPECT_EQ(a.result(), "a");
    EXPECT_TRUE(b.cancelled());
  }());
}

TEST(Gather, GAT004_CancelMessageReachesChildrenAndAwaiter) {
  trace L;
  vrun([&]() -> task<void> {
    auto g = cs::gather(logs_cancel(L, "a cancelled"), logs_cancel(L, "b cancelled"));
    co_await cs::sleep(0ms);
    g.cancel("stop!");
    try {
      co_await g;
    } catch (const cs::cancelled_error& e) {
      L.push_back("outer (" + e.message() + ")");
    }
  }());
  EXPECT_EQ(L, (trace{"a cancelled (stop!)", "b cancelled (stop!)", "outer (stop!)"}));
}

TEST(Gather, GAT005_CancellingTheAwaitingTaskCancelsTheChildren) {
  trace L;
  vrun([&]() -> task<void> {
    auto p = cs::create_task([&]() -> task<void> { co_await cs::gather(logs_cancel(L, "a cancelled"), logs_cancel(L, "b cancelled")); });
    co_await cs::sleep(10ms);  // the children are running
    p.cancel();
    CO_EXPECT_THROW(p, cs::cancelled_error);
    L.push_back(std::string("parent cancelled ") + (p.cancelled() ? "True" : "False"));
  }());
  EXPECT_EQ(L, (trace{"a cancelled", "b cancelled", "parent cancelled True"}));
}

TEST(Gather, GAT005_NestedGathersAreCancelledToo) {
  trace L;
  vrun([&]() -> task<void> {
    auto outer = cs::gather(cs::gather(logs_cancel(L, "x cancelled"), logs_cancel(L, "y cancelled")), logs_cancel(L, "z cancelled"));
    co_await cs::sleep(0ms);
    EXPECT_TRUE(outer.cancel());
    CO_EXPECT_THROW(outer, cs::cancelled_error);
    EXPECT_FALSE(outer.cancel());  // done now
  }());
  std::sort(L.begin(), L.end());
  EXPECT_EQ(L, (trace{"x cancelled", "y cancelled", "z cancelled"}));
}

TEST(Gather, GAT006_AChildsCancellationRaisesWithoutCancellingGatherOrItsCaller) {
  trace L;
  vrun([&]() -> task<void> {
    auto b = cs::create_task(logs_cancel(L, "b cancelled"));
    auto caller = cs::create_task([&]() -> task<void> {
      try {
        co_await cs::gather(val("a", 10ms), b);
      } catch (const cs::cancelled_error&) {
        L.push_back("caller saw CancelledError, cancelling()=" + std::to_string(cs::current_task().cancelling()));
      }
    });
    co_await cs::sleep(0ms);
    b.cancel();
    co_await caller;
    EXPECT_FALSE(caller.cancelled());
  }());
  EXPECT_EQ(L, (trace{"b cancelled", "caller saw CancelledError, cancelling()=0"}));
}

TEST(Gather, GAT007_ACancelledChildWithReturnExceptionsHoldsCancelledError) {
  trace L;
  vrun([&]() -> task<void> {
    auto b = cs::create_task(logs_cancel(L, "b cancelled"));
    auto g = cs::gather(cs::return_exceptions, val("a", 10ms), b);
    co_await cs::sleep(0ms);
    b.cancel("why");
    auto [a, bb] = co_await g;
    EXPECT_EQ(a.value(), "a");
    EXPECT_TRUE(bb.holds<cs::cancelled_error>());
  }());
}

TEST(Gather, GAT008_CancellingGatherPropagatesEvenWithReturnExceptions) {
  trace L;
  vrun([&]() -> task<void> {
    auto g = cs::gather(cs::return_exceptions, val("fast", 0ms), logs_cancel(L, "slow cancelled"));
    co_await cs::sleep(10ms);
    g.cancel();
    try {
      co_await g;
    } catch (const cs::cancelled_error&) {
      L.push_back("CancelledError raised (not a list)");
    }
  }());
  EXPECT_EQ(L, (trace{"slow cancelled", "CancelledError raised (not a list)"}));
}

TEST(Gather, GAT009_CancelAfterDoneReturnsFalse) {
  vrun([]() -> task<void> {
    auto g = cs::gather(val("a", 0ms));
    co_await g;
    EXPECT_FALSE(g.cancel());
  }());
}

TEST(Gather, GAT010_EmptyGatherIsAlreadyDone) {
  vrun([]() -> task<void> {
    auto g = cs::gather();
    EXPECT_TRUE(g.done());
    auto r = co_await g;
    EXPECT_EQ(std::tuple_size_v<decltype(r)>, 0u);
    auto v = co_await cs::gather(std::vector<task<int>>{});
    EXPECT_TRUE(v.empty());
  }());
}

TEST(Gather, GAT001_ManyCoroutinesEachRunOnceAndTheirResultsKeepArgumentOrder) {
  std::vector<int> ran;
  vrun([&]() -> task<void> {
    std::vector<task<int>> children;
    for (int i = 0; i < 40; ++i)
      children.push_back([](std::vector<int>& log, int v) -> task<int> {
        co_await cs::sleep(std::chrono::milliseconds(40 - v));  // finish in reverse order
        log.push_back(v);
        co_return v * 10;
      }(ran, i));
    auto r = co_await cs::gather(std::move(children));
    std::vector<int> expected;
    for (int i = 0; i < 40; ++i) expected.push_back(i * 10);
    EXPECT_EQ(r, expected);
  }());
  ASSERT_EQ(ran.size(), 40u);
  EXPECT_EQ(ran.front(), 39);
  EXPECT_EQ(ran.back(), 0);
}

TEST(Gather, GAT010_DuplicatesAmongManyHandlesRunOnceAndRepeatTheirResult) {
  int runs = 0;
  vrun([&]() -> task<void> {
    std::vector<cs::task_handle<int>> hs;
    for (int i = 0; i < 20; ++i)
      hs.push_back(cs::create_task([&runs, i]() -> task<int> {
        ++runs;
        co_return i;
      }));
    std::vector<cs::task_handle<int>> dup;
    for (int k = 0; k < 3; ++k)
      for (auto& h : hs) dup.push_back(h);
    auto r = co_await cs::gather(std::move(dup));
    std::vector<int> expected;
    for (int i = 0; i < 60; ++i) expected.push_back(i % 20);
    EXPECT_EQ(r, expected);
  }());
  EXPECT_EQ(runs, 20);
}

TEST(Gather, GAT010_DuplicateAwaitablesRunOnceAndRepeatTheirResult) {
  int runs_c = 0, runs_d = 0;
  vrun([&]() -> task<void> {
    auto c = cs::create_task([&]() -> task<std::string> {
      ++runs_c;
      co_return "x";
    });
    auto d = cs::create_task([&]() -> task<std::string> {
      ++runs_d;
      co_return "y";
    });
    std::vector<cs::task_handle<std::string>> dup{c, c, d, d, d};
    auto r = co_await cs::gather(std::move(dup));
    EXPECT_EQ(r, (std::vector<std::string>{"x", "x", "y", "y", "y"}));
    auto f = cs::create_future<int>();
    f.set_result(1);
    auto [p, q] = co_await cs::gather(f, f);
    EXPECT_EQ(p + q, 2);
  }());
  EXPECT_EQ(runs_c, 1);
  EXPECT_EQ(runs_d, 1);
}

TEST(Gather, GAT011_GatherOfADoneFutureCompletesOneIterationLater) {
  vrun([]() -> task<void> {
    auto f = cs::create_future<int>();
    f.set_result(1);
    auto g = cs::gather(f);
    EXPECT_FALSE(g.done());  // 3.11: its done callback is scheduled, not run inline
    co_await cs::sleep(0ms);
    EXPECT_TRUE(g.done());
    auto [first] = co_await g;
    EXPECT_EQ(first, 1);
  }());
}

TEST(Gather, GAT012_ExceptionsOfTheOtherChildrenAreMarkedRetrieved) {
  handler_calls calls;
  vrun([&]() -> task<void> {
    calls.install(cs::get_running_loop());
    try {
      co_await cs::gather(err(std::invalid_argument("v"), 10ms), err(std::out_of_range("k"), 20ms));
    } catch (const std::invalid_argument&) {
    }
    co_await cs::sleep(30ms);
  }());
  EXPECT_TRUE(calls.messages.empty());
}

}  // namespace
