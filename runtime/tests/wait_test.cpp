// wait (WAI) and wait_for (WF) of docs/semantics.md.
#include "support.hpp"

namespace {

using handles = std::vector<cs::task_handle<std::string>>;

template <class V>
concept accepted_by_wait = requires(V v) { cs::wait(std::move(v)); };

std::vector<std::string> results_of(const handles& hs) {
  std::vector<std::string> r;
  for (auto& h : hs) r.push_back(h.cancelled() ? "<cancelled>" : h.result());
  return r;
}

TEST(Wait, WAI001_AllCompletedWaitsForEverythingAndNeverRaises) {
  vrun([]() -> task<void> {
    auto a = cs::create_task(val("a", 20ms));
    auto b = cs::create_task(err(std::invalid_argument("b"), 10ms));
    handles in{a, b};
    auto [done, pending] = co_await cs::wait(in);
    EXPECT_EQ(done.size(), 2u);
    EXPECT_TRUE(pending.empty());
    EXPECT_THROW(std::rethrow_exception(b.exception()), std::invalid_argument);
    EXPECT_EQ(now_ms(), 20);
  }());
}

TEST(Wait, WAI002_FirstCompletedReturnsAfterTheFirstAndCancelsNothing) {
  vrun([]() -> task<void> {
    auto a = cs::create_task(val("a", 30ms));
    auto b = cs::create_task(val("b", 10ms));
    auto c = cs::create_task(val("c", 20ms));
    handles in{a, b, c};
    auto [done, pending] = co_await cs::wait(in, cs::first_completed);
    EXPECT_EQ(results_of(done), (std::vector<std::string>{"b"}));
    EXPECT_EQ(pending.size(), 2u);
    CO_EXPECT_EQ(a, "a");
    CO_EXPECT_EQ(c, "c");
  }());
}

TEST(Wait, WAI002_EveryFutureDoneWhenWaitReturnsIsInDone) {
  vrun([]() -> task<void> {
    auto a = cs::create_task(val("a", 10ms));
    auto b = cs::create_task(val("b", 10ms));
    handles in{a, b};
    auto [done, pending] = co_await cs::wait(in, cs::first_completed);
    EXPECT_EQ(done.size(), 2u);
    EXPECT_TRUE(pending.empty());
  }());
}

TEST(Wait, WAI003_FirstExceptionReturnsOnTheFirstException) {
  vrun([]() -> task<void> {
    auto a = cs::create_task(val("a", 30ms));
    auto b = cs::create_task(err(std::invalid_argument("b"), 10ms));
    auto c = cs::create_task(val("c", 5ms));
    handles in{a, b, c};
    auto [done, pending] = co_await cs::wait(in, cs::first_exception);
    EXPECT_EQ(done.size(), 2u);  // b, and c which finished earlier
    EXPECT_TRUE(pending.size() == 1 && pending[0] == a);
    co_await a;
  }());
}

TEST(Wait, WAI003_FirstExceptionWithoutExceptionsIsAllCompleted) {
  vrun([]() -> task<void> {
    auto x = cs::create_task(val("x", 10ms));
    auto y = cs::create_task(val("y", 20ms));
    handles in{x, y};
    auto [done, pending] = co_await cs::wait(in, cs::first_exception);
    EXPECT_EQ(results_of(done), (std::vector<std::string>{"x", "y"}));
    EXPECT_TRUE(pending.empty());
  }());
}

TEST(Wait, WAI004_FirstExceptionIgnoresCancelledFutures) {
  vrun([]() -> task<void> {
    auto a = cs::create_task(val("a", 30ms));
    auto b = cs::create_task(val("b", 100ms));
    cs::get_running_loop().call_later(5ms, [b]() mutable { b.cancel(); });
    handles in{a, b};
    auto [done, pending] = co_await cs::wait(in, cs::first_exception);
    EXPECT_EQ(done.size(), 2u);
    EXPECT_EQ(now_ms(), 30);
  }());
}

TEST(Wait, WAI005_TimeoutReturnsWithoutRaisingOrCancelling) {
  vrun([]() -> task<void> {
    auto a = cs::create_task(val("a", 10ms));
    auto b = cs::create_task(val("b", 100ms));
    handles in{a, b};
    auto [done, pending] = co_await cs::wait(in, cs::all_completed, 30ms);
    EXPECT_EQ(results_of(done), (std::vector<std::string>{"a"}));
    EXPECT_TRUE(pending.size() == 1 && pending[0] == b);
    EXPECT_EQ(now_ms(), 30);
    EXPECT_FALSE(b.cancelled());
    CO_EXPECT_EQ(b, "b");

    auto t = cs::create_task(val("1", 10ms));
    handles one{t};
    auto r0 = co_await cs::wait(one, cs::all_completed, 0ms);
    EXPECT_EQ(r0.done.size(), 0u);
    EXPECT_EQ(r0.pending.size(), 1u);
    co_await t;
  }());
}

TEST(Wait, WAI006_ArgumentValidation) {
  vrun([]() -> task<void> {
    CO_EXPECT_THROW(cs::wait(handles{}), std::invalid_argument);
    auto t = cs::create_task(val("x", 0ms));
    handles in{t};
    CO_EXPECT_THROW(cs::wait(in, static_cast<cs::return_when>(-1)), std::invalid_argument);
    co_await t;
  }());
  // Passing coroutines is forbidden (TypeError in Python): here it does not compile.
  static_assert(!accepted_by_wait<std::vector<task<int>>>);
  static_assert(accepted_by_wait<handles>);
}

TEST(Wait, WAI007_DuplicatesCollapse) {
  vrun([]() -> task<void> {
    auto t = cs::create_task(val("x", 1ms));
    handles in{t, t, t};
    auto [done, pending] = co_await cs::wait(in);
    EXPECT_EQ(done.size(), 1u);
    EXPECT_TRUE(pending.empty());
  }());
}

TEST(Wait, WAI008_CancellingTheWaitingTaskCancelsNothingItWaitsOn) {
  vrun([]() -> task<void> {
    auto a = cs::create_task(val("a", 30ms));
    auto w = cs::create_task([&]() -> task<void> {
      handles in{a};
      co_await cs::wait(in);
    });
    co_await cs::sleep(10ms);
    w.cancel();
    CO_EXPECT_THROW(w, cs::cancelled_error);
    EXPECT_FALSE(a.cancelled());
    CO_EXPECT_EQ(a, "a");
  }());
}

// ------------------------------------------------------------------------------------------- wait_for

TEST(WaitFor, WF001_ResultBeforeTheDeadlineAndInnerExceptionUnchanged) {
  vrun([]() -> task<void> {
    CO_EXPECT_EQ(cs::wait_for(val("ok", 10ms), 1s), "ok");
    CO_EXPECT_THROW(cs::wait_for(err(std::out_of_range("k"), 1ms), 1s), std::out_of_range);
    CO_EXPECT_EQ(cs::wait_for(val("slow-ok", 50ms), std::nullopt), "slow-ok");
    EXPECT_EQ(now_ms(), 61);
  }());
}

TEST(WaitFor, WF002_OnTimeoutTheInnerIsCancelledAndTimeoutErrorRaised) {
  trace L;
  vrun([&]() -> task<void> {
    auto t = cs::create_task(logs_cancel(L, "inner got CancelledError"));
    try {
      co_await cs::wait_for(t, 10ms);
      ADD_FAILURE() << "expected timeout_error";
    } catch (const cs::timeout_error& e) {
      L.push_back(at("TimeoutError"));
      bool cause_is_cancel = false;
      try {
        std::rethrow_if_nested(e);
      } catch (const cs::cancelled_error&) {
        cause_is_cancel = true;
      }
      EXPECT_TRUE(cause_is_cancel);
    }
    EXPECT_TRUE(t.cancelled());
    EXPECT_EQ(cs::current_task().cancelling(), 0);
  }());
  EXPECT_EQ(L, (trace{"inner got CancelledError", "TimeoutError@10"}));
}

TEST(WaitFor, WF003_ZeroTimeoutCancelsACoroutineBeforeItsFirstStep) {
  trace L;
  vrun([&]() -> task<void> {
    auto started = [](trace& l) -> task<int> {
      l.push_back("started");
      co_return 1;
    };
    CO_EXPECT_THROW(cs::wait_for(started(L), 0ms), cs::timeout_error);
    auto done = cs::create_future<int>();
    done.set_result(5);
    CO_EXPECT_EQ(cs::wait_for(done, 0ms), 5);
  }());
  EXPECT_TRUE(L.empty());
}

TEST(WaitFor, WF004_AfterATimeoutWaitForWaitsForTheInnerToFinishCancelling) {
  trace L;
  vrun([&]() -> task<void> {
    try {
      co_await cs::wait_for(
          [](trace& l) -> task<void> {
            bool cancelled = false;
            try {
              co_await cs::sleep(10s);
            } catch (const cs::cancelled_error&) {
              cancelled = true;
            }
            co_await cs::sleep(50ms);
            l.push_back(at("inner cleanup finished"));
            if (cancelled) throw cs::cancelled_error();
          }(L),
          10ms);
    } catch (const cs::timeout_error&) {
      L.push_back(at("TimeoutError"));
    }
  }());
  EXPECT_EQ(L, (trace{"inner cleanup finished@60", "TimeoutError@60"}));
}

TEST(WaitFor, WF005_AnInnerThatSuppressesCancellationMakesWaitForReturnItsValue) {
  auto r = vrun([]() -> task<int> {
    co_return co_await cs::wait_for(
        []() -> task<int> {
          try {
            co_await cs::sleep(10s);
          } catch (const cs::cancelled_error&) {
          }
          co_return 42;
        }(),
        10ms);
  }());
  EXPECT_EQ(r, 42);
}

TEST(WaitFor, WF006_AnExceptionRaisedDuringCancellationReplacesTimeoutError) {
  vrun([]() -> task<void> {
    auto inner = []() -> task<void> {
      try {
        co_await cs::sleep(10s);
      } catch (const cs::cancelled_error&) {
        throw std::length_error("Foo");
      }
    };
    CO_EXPECT_THROW(cs::wait_for(inner(), 10ms), std::length_error);
  }());
}

TEST(WaitFor, WF007_CancellingTheCallerCancelsTheInnerAndRaisesCancelledError) {
  trace L;
  vrun([&]() -> task<void> {
    auto it = cs::create_task(logs_cancel(L, "inner cancelled"));
    auto wt = cs::create_task([&]() -> task<void> { co_await cs::wait_for(it, 5s); });
    co_await cs::sleep(10ms);
    wt.cancel();
    try {
      co_await wt;
    } catch (const cs::cancelled_error&) {
      L.push_back("outer CancelledError (not Timeout)");
    } catch (const cs::timeout_error&) {
      L.push_back("outer TimeoutError");
    }
  }());
  EXPECT_EQ(L, (trace{"inner cancelled", "outer CancelledError (not Timeout)"}));
}

TEST(WaitFor, WF008_InnerAlreadyDoneWhenTheCallerIsCancelledLosesTheCancelIn311) {
  trace L;
  vrun([&]() -> task<void> {
    auto inner = cs::create_task([]() -> task<std::string> { co_return "done"; });
    auto t = cs::create_task([&]() -> task<void> {
      auto r = co_await cs::wait_for(inner, 100s);
      L.push_back("wait_for returned " + r);
      co_await cs::sleep(10ms);
      L.push_back("reached end");
    });
    co_await cs::sleep(0ms);
    t.cancel();
    try {
      co_await t;
      L.push_back("task completed normally (cancel lost)");
    } catch (const cs::cancelled_error&) {
      L.push_back("task CancelledError");
    }
  }());
  EXPECT_EQ(L, (trace{"wait_for returned done", "reached end", "task completed normally (cancel lost)"}));
}

TEST(WaitFor, WF009_ACoroutinePassedToWaitForRunsInANewTaskIn311) {
  vrun([]() -> task<void> {
    auto me = cs::current_task();
    bool same = co_await cs::wait_for([&]() -> task<bool> { co_return cs::current_task() == me; }(), 1s);
    EXPECT_FALSE(same);
  }());
}

TEST(WaitFor, WF010_OuterCancelledWhileTheInnerRefusesRaisesCancelledErrorIn311) {
  vrun([]() -> task<void> {
    auto inner = cs::create_task([]() -> task<int> {
      for (int i = 0; i < 2; ++i) {
        try {
          co_await cs::sleep(300ms);
        } catch (const cs::cancelled_error&) {
        }
      }
      co_return 42;
    });
    auto t = cs::create_task([&]() -> task<int> { co_return co_await cs::wait_for(inner, 100ms); });
    co_await cs::sleep(200ms);
    t.cancel();
    CO_EXPECT_THROW(t, cs::cancelled_error);
    CO_EXPECT_EQ(inner, 42);
  }());
}

TEST(WaitFor, WF011_WaitForOfAShieldTimesOutWithoutCancellingTheTask) {
  vrun([]() -> task<void> {
    auto t = cs::create_task(val("done", 50ms));
    CO_EXPECT_THROW(cs::wait_for(cs::shield(t), 10ms), cs::timeout_error);
    EXPECT_FALSE(t.cancelled());
    EXPECT_FALSE(t.done());
    CO_EXPECT_EQ(t, "done");
  }());
}

// The iterations wait_for takes, against a task that logs one tick per iteration. Expected traces are
// CPython 3.11's: the inner task runs one iteration after the call, its done callback releases the waiter
// the next, and the caller resumes the one after (three iterations for an inner that finishes at once).
task<void> ticker(trace& L, int n) {
  for (int i = 0; i < n; ++i) {
    L.push_back("tick" + std::to_string(i));
    co_await cs::sleep(0ms);
  }
}

TEST(WaitFor, WF001_AnInnerThatFinishesAtOnceResumesTheCallerThreeIterationsLater) {
  trace L;
  vrun([&]() -> task<void> {
    auto t = cs::create_task(ticker(L, 6));
    co_await cs::sleep(0ms);
    L.push_back("wait_for starts");
    int v = co_await cs::wait_for(
        [](trace& l) -> task<int> {
          l.push_back("leaf runs");
          co_return 7;
        }(L),
        1s);
    L.push_back("wait_for returned " + std::to_string(v));
    co_await t;
    EXPECT_EQ(now_ms(), 0);
  }());
  EXPECT_EQ(L, (trace{"tick0", "wait_for starts", "tick1", "leaf runs", "tick2", "tick3", "wait_for returned 7",
                      "tick4", "tick5"}));
}

TEST(WaitFor, WF001_AFutureThatIsAlreadyDoneStillTakesTwoIterations) {
  trace L;
  vrun([&]() -> task<void> {
    auto f = cs::create_future<int>();
    f.set_result(3);
    auto t = cs::create_task(ticker(L, 4));
    co_await cs::sleep(0ms);
    L.push_back("wait_for starts");
    int v = co_await cs::wait_for(f, 1s);
    L.push_back("wait_for returned " + std::to_string(v));
    co_await t;
  }());
  EXPECT_EQ(L, (trace{"tick0", "wait_for starts", "tick1", "tick2", "wait_for returned 3", "tick3"}));
}

TEST(WaitFor, WF007_TheCallersCancelMessageReachesItAfterTheInnerFinishedCancelling) {
  trace L;
  vrun([&]() -> task<void> {
    auto w = cs::create_task([&]() -> task<void> {
      try {
        co_await cs::wait_for(logs_cancel(L, "inner cancelled"), 100s);
      } catch (const cs::cancelled_error& e) {
        L.push_back("caller cancelled (" + e.message() + ")");
        throw;
      }
    });
    auto t = cs::create_task(ticker(L, 7));
    co_await cs::sleep(0ms);
    L.push_back("cancel caller");
    w.cancel("stop");
    co_await cs::settled(w);
    L.push_back("awaited caller: " + std::string(w.cancelled() ? "cancelled" : "not cancelled") +
                ", cancelling()=" + std::to_string(w.cancelling()));
    co_await t;
    EXPECT_EQ(now_ms(), 0);
  }());
  EXPECT_EQ(L, (trace{"tick0", "cancel caller", "tick1", "tick2", "inner cancelled", "tick3", "tick4",
                      "caller cancelled (stop)", "tick5", "awaited caller: cancelled, cancelling()=1", "tick6"}));
}

TEST(WaitFor, WF002_TheTimeoutFiresAtItsDeadlineAndAWinningInnerReturnsAtItsOwnTime) {
  trace L;
  vrun([&]() -> task<void> {
    try {
      co_await cs::wait_for(logs_cancel(L, "inner cancelled"), 25ms);
    } catch (const cs::timeout_error&) {
      L.push_back(at("TimeoutError"));
    }
    CO_EXPECT_EQ(cs::wait_for(val("fast", 5ms), 1s), "fast");
    L.push_back(at("fast returned"));
    co_await cs::sleep(2s);
    L.push_back(at("slept"));
  }());
  EXPECT_EQ(L, (trace{"inner cancelled", "TimeoutError@25", "fast returned@30", "slept@2030"}));
}

TEST(Wait, WAI009_WaitTakesAVectorOfHandlesNotALazySequence) {
  // 3.11 rejects a generator with TypeError; here wait() takes a std::vector, so a lazy view does not compile.
  static_assert(!accepted_by_wait<std::vector<int>>);
  static_assert(accepted_by_wait<std::vector<cs::future<int>>>);
}

}  // namespace
