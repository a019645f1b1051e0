// Task & cancellation (CAN) of docs/semantics.md.
#include "support.hpp"

namespace {

task<void> sleep_forever() { co_await cs::sleep(3600s); }

TEST(Cancellation, CAN001_TaskCancelledBeforeItsFirstStepNeverRunsItsBody) {
  trace L;
  vrun([&]() -> task<void> {
    auto t = cs::create_task([&]() -> task<void> {
      L.push_back("body ran");
      co_return;
    });
    EXPECT_TRUE(t.cancel());
    EXPECT_FALSE(t.cancelled());
    EXPECT_EQ(t.cancelling(), 1);
    CO_EXPECT_THROW(t, cs::cancelled_error);
    EXPECT_TRUE(t.cancelled());
  }());
  EXPECT_TRUE(L.empty());
}

TEST(Cancellation, CAN002_CancelMeExampleFromTheDocs) {
  trace L;
  vrun([&]() -> task<void> {
    auto t = cs::create_task([&]() -> task<void> {
      L.push_back("cancel_me(): before sleep");
      try {
        try {
          co_await cs::sleep(3600s);
        } catch (const cs::cancelled_error&) {
          L.push_back("cancel_me(): cancel sleep");
          throw;
        }
      } catch (...) {
        L.push_back("cancel_me(): after sleep");
        throw;
      }
    });
    co_await cs::sleep(10ms);
    t.cancel();
    try {
      co_await t;
    } catch (const cs::cancelled_error&) {
      L.push_back("main(): cancel_me is cancelled now");
    }
    EXPECT_TRUE(t.done());
    EXPECT_TRUE(t.cancelled());
  }());
  EXPECT_EQ(L, (trace{"cancel_me(): before sleep", "cancel_me(): cancel sleep", "cancel_me(): after sleep",
                      "main(): cancel_me is cancelled now"}));
}

TEST(Cancellation, CAN003_CancelIsOnlyARequestAndFalseOnceDone) {
  vrun([]() -> task<void> {
    auto t = cs::create_task(sleep_forever());
    co_await cs::sleep(0ms);
    EXPECT_TRUE(t.cancel());
    EXPECT_FALSE(t.cancelled());
    EXPECT_FALSE(t.done());
    EXPECT_EQ(t.cancelling(), 1);
    co_await cs::sleep(0ms);
    EXPECT_TRUE(t.cancelled());
    EXPECT_TRUE(t.done());
    EXPECT_FALSE(t.cancel());
    EXPECT_EQ(t.cancelling(), 1);

    auto ok = cs::create_task([]() -> task<int> { co_return 1; }());
    auto bad = cs::create_task([]() -> task<int> {
      throw std::invalid_argument("x");
      co_return 0;
    }());
    co_await cs::sleep(0ms);
    EXPECT_FALSE(ok.cancel());
    EXPECT_FALSE(bad.cancel());
    EXPECT_EQ(ok.result(), 1);
    EXPECT_THROW(bad.result(), std::invalid_argument);
  }());
}

TEST(Cancellation, CAN004_CancelMessageReachesTheCoroutineAndTheAwaiter) {
  vrun([]() -> task<void> {
    std::string inner_saw;
    auto t = cs::create_task([&]() -> task<void> {
      try {
        co_await cs::sleep(10s);
      } catch (const cs::cancelled_error& e) {
        inner_saw = e.message();
        throw;
      }
    });
    co_await cs::sleep(0ms);
    t.cancel("bye");
    std::string awaiter_saw;
    try {
      co_await t;
    } catch (const cs::cancelled_error& e) {
      awaiter_saw = e.message();
    }
    EXPECT_EQ(inner_saw, "bye");
    EXPECT_EQ(awaiter_saw, "bye");
  }());
}

TEST(Cancellation, CAN004_FirstMessageWins) {
  vrun([]() -> task<void> {
    auto t = cs::create_task(sleep_forever());
    co_await cs::sleep(0ms);
    t.cancel("m1");
    t.cancel("m2");
    std::string seen;
    try {
      co_await t;
    } catch (const cs::cancelled_error& e) {
      seen = e.message();
    }
    EXPECT_EQ(seen, "m1");
  }());
}

TEST(Cancellation, CAN004_MessageOfATaskCancelledBeforeStarting) {
  vrun([]() -> task<void> {
    auto t = cs::create_task(sleep_forever());
    t.cancel("my message");
    std::vector<cs::task_handle<void>> ts{t};  // g++ 12 rejects an initializer list inside co_await
    co_await cs::wait(std::move(ts));
    EXPECT_EQ(cancel_message_of([&] { (void)t.exception(); }), "my message");
  }());
}

TEST(Cancellation, CAN005_RepeatedCancelCountsButDeliversOneCancelledError) {
  std::vector<int> seen_inside;
  vrun([&]() -> task<void> {
    auto t = cs::create_task([&]() -> task<void> {
      try {
        co_await cs::sleep(10s);
      } catch (const cs::cancelled_error&) {
        seen_inside.push_back(cs::current_task().cancelling());
        throw;
      }
    });
    co_await cs::sleep(0ms);
    std::vector<int> r;
    for (int i = 0; i < 3; ++i) {
      r.push_back(t.cancel());
      r.push_back(t.cancelling());
    }
    EXPECT_EQ(r, (std::vector<int>{1, 1, 1, 2, 1, 3}));
    CO_EXPECT_THROW(t, cs::cancelled_error);
    EXPECT_FALSE(t.cancel());

    auto u = cs::create_task(sleep_forever());
    u.cancel();
    u.cancel();
    EXPECT_EQ(u.cancelling(), 2);
    CO_EXPECT_THROW(u, cs::cancelled_error);
    EXPECT_TRUE(u.cancelled());
  }());
  EXPECT_EQ(seen_inside, (std::vector<int>{3}));
}

TEST(Cancellation, CAN006_UncancelDecrementsAndIsIneffectiveOnceDone) {
  trace L;
  vrun([&]() -> task<void> {
    auto t = cs::create_task([&]() -> task<void> {
      try {
        co_await cs::sleep(10s);
      } catch (const cs::cancelled_error&) {
        int left = cs::current_task().uncancel();
        L.push_back("uncancel -> " + std::to_string(left) + " cancelling " +
                    std::to_string(cs::current_task().cancelling()));
      }
      co_await cs::sleep(10s);
    });
    co_await cs::sleep(0ms);
    t.cancel();
    co_await cs::sleep(10ms);
    L.push_back(std::string("still running ") + (t.done() ? "False" : "True") + " " + std::to_string(t.cancelling()));
    t.cancel();
    L.push_back("after second cancel " + std::to_string(t.cancelling()));
    CO_EXPECT_THROW(t, cs::cancelled_error);
    EXPECT_EQ(t.uncancel(), 0);
    EXPECT_TRUE(t.cancelled());
  }());
  EXPECT_EQ(L, (trace{"uncancel -> 0 cancelling 0", "still running True 0", "after second cancel 1"}));
}

TEST(Cancellation, CAN007_UncancelToZeroDoesNotRescindAPendingThrowIn311) {
  vrun([]() -> task<void> {
    auto t = cs::create_task([]() -> task<std::string> {
      co_await cs::sleep(0ms);
      co_return "ok";
    }());
    co_await cs::sleep(0ms);  // t is parked in its sleep(0)
    t.cancel();
    EXPECT_EQ(t.uncancel(), 0);
    CO_EXPECT_THROW(t, cs::cancelled_error);  // 3.13 would return "ok"
  }());
}

TEST(Cancellation, CAN008_ACoroutineMaySuppressCancellation) {
  vrun([]() -> task<void> {
    auto t = cs::create_task([]() -> task<int> {
      try {
        co_await cs::sleep(10s);
      } catch (const cs::cancelled_error&) {
        co_return 42;
      }
      co_return 0;
    }());
    co_await cs::sleep(0ms);
    t.cancel();
    CO_EXPECT_EQ(t, 42);
    EXPECT_FALSE(t.cancelled());
    EXPECT_EQ(t.cancelling(), 1);

    int inside = -1;
    auto u = cs::create_task([&]() -> task<std::string> {
      try {
        co_await cs::sleep(10s);
      } catch (const cs::cancelled_error&) {
      }
      inside = cs::current_task().cancelling();
      co_await cs::sleep(10ms);
      co_return "finished";
    });
    co_await cs::sleep(0ms);
    u.cancel();
    CO_EXPECT_EQ(u, "finished");
    EXPECT_EQ(inside, 1);
    EXPECT_FALSE(u.cancelled());
  }());
}

TEST(Cancellation, CAN009_CancellingATaskCancelsTheFutureItAwaitsSynchronously) {
  vrun([]() -> task<void> {
    auto f = cs::create_future<int>();
    auto t = cs::create_task([&]() -> task<void> { co_await f; });
    co_await cs::sleep(0ms);
    t.cancel();
    EXPECT_TRUE(f.cancelled());
    CO_EXPECT_THROW(t, cs::cancelled_error);
    EXPECT_TRUE(t.cancelled());

    auto g = cs::create_future<int>();
    auto u = cs::create_task([&]() -> task<void> { co_await g; });
    co_await cs::sleep(0ms);
    g.cancel();
    CO_EXPECT_THROW(u, cs::cancelled_error);
    EXPECT_TRUE(g.cancelled());
    EXPECT_TRUE(u.cancelled());
  }());
}

TEST(Cancellation, CAN010_CancellationPropagatesDownAChainOfAwaitedTasks) {
  trace L;
  vrun([&]() -> task<void> {
    auto it = cs::create_task(logs_cancel(L, "inner got CancelledError"));
    auto ot = cs::create_task([&]() -> task<void> {
      try {
        co_await it;
      } catch (const cs::cancelled_error&) {
        L.push_back("outer got CancelledError");
        throw;
      }
    });
    co_await cs::sleep(0ms);
    ot.cancel();
    EXPECT_EQ(it.cancelling(), 1);
    CO_EXPECT_THROW(ot, cs::cancelled_error);
    EXPECT_TRUE(it.cancelled());
    EXPECT_TRUE(ot.cancelled());
  }());
  EXPECT_EQ(L, (trace{"inner got CancelledError", "outer got CancelledError"}));
}

TEST(Cancellation, CAN011_AnInnerTaskThatSuppressesCancellationLetsTheOuterGetItsValue) {
  vrun([]() -> task<void> {
    auto it = cs::create_task([]() -> task<int> {
      try {
        co_await cs::sleep(10s);
      } catch (const cs::cancelled_error&) {
      }
      co_return 7;
    }());
    auto ot = cs::create_task([&]() -> task<int> {
      int v = co_await it;
      co_await cs::sleep(1ms);  // a sticky cancel would hit here
      co_return v;
    });
    co_await cs::sleep(0ms);
    ot.cancel();
    CO_EXPECT_EQ(ot, 7);
    EXPECT_FALSE(ot.cancelled());
  }());
}

TEST(Cancellation, CAN012_CancellingOnlyTheInnerTaskRaisesInTheAwaiterWithoutCancellingIt) {
  trace L;
  vrun([&]() -> task<void> {
    auto it = cs::create_task(logs_cancel(L, "inner cancelled"));
    auto ot = cs::create_task([&]() -> task<std::string> {
      try {
        co_await it;
      } catch (const cs::cancelled_error&) {
        L.push_back("outer sees CancelledError; outer.cancelling() " + std::to_string(cs::current_task().cancelling()));
      }
      co_return "outer swallowed";
    });
    co_await cs::sleep(0ms);
    it.cancel();
    L.push_back(co_await ot);
    L.push_back(std::string("outer cancelled ") + (ot.cancelled() ? "True" : "False") + " inner cancelled " +
                (it.cancelled() ? "True" : "False"));
  }());
  EXPECT_EQ(L, (trace{"inner cancelled", "outer sees CancelledError; outer.cancelling() 0", "outer swallowed",
                      "outer cancelled False inner cancelled True"}));
}

TEST(Cancellation, CAN013_SelfCancelRaisesAtTheNextAwait) {
  trace L;
  vrun([&]() -> task<void> {
    auto t = cs::create_task([&]() -> task<void> {
      cs::current_task().cancel();
      L.push_back("after self-cancel, still running");
      try {
        co_await cs::sleep(100s);
      } catch (const cs::cancelled_error&) {
        L.push_back("next await raised immediately@" + std::to_string(now_ms()));
        throw;
      }
    });
    CO_EXPECT_THROW(t, cs::cancelled_error);
    EXPECT_TRUE(t.cancelled());
  }());
  EXPECT_EQ(L, (trace{"after self-cancel, still running", "next await raised immediately@0"}));
}

TEST(Cancellation, CAN013_SelfCancelAlsoCancelsTheAwaitedNestedTask) {
  vrun([]() -> task<void> {
    auto f = cs::create_future<int>();
    cs::task_handle<void> n;
    auto t = cs::create_task([&]() -> task<void> {
      n = cs::create_task([&]() -> task<void> { co_await f; });
      co_await cs::sleep(0ms);
      cs::current_task().cancel();
      co_await n;
    });
    CO_EXPECT_THROW(t, cs::cancelled_error);
    EXPECT_TRUE(t.cancelled());
    EXPECT_TRUE(n.cancelled());
    EXPECT_TRUE(f.cancelled());
  }());
}

TEST(Cancellation, CAN014_SelfCancelThenReturnDiscardsTheResult) {
  vrun([]() -> task<void> {
    auto t = cs::create_task([]() -> task<int> {
      cs::current_task().cancel();
      co_return 5;
    }());
    CO_EXPECT_THROW(t, cs::cancelled_error);
    EXPECT_TRUE(t.cancelled());
  }());
}

TEST(Cancellation, CAN015_CancelledErrorIsNotAStdException) {
  static_assert(!std::is_base_of_v<std::exception, cs::cancelled_error>);
  static_assert(std::is_base_of_v<cs::base_exception, cs::cancelled_error>);
  vrun([]() -> task<void> {
    bool caught_as_std = false;
    auto t = cs::create_task([&]() -> task<void> {
      try {
        co_await cs::sleep(10s);
      } catch (const std::exception&) {
        caught_as_std = true;
      }
    });
    co_await cs::sleep(0ms);
    t.cancel();
    CO_EXPECT_THROW(t, cs::cancelled_error);
    EXPECT_TRUE(t.cancelled());
    EXPECT_FALSE(caught_as_std);
  }());
}

TEST(Cancellation, CAN015_ATaskMayConvertCancellationIntoAnotherException) {
  vrun([]() -> task<void> {
    auto t = cs::create_task([]() -> task<void> {
      try {
        co_await cs::sleep(10s);
      } catch (const cs::cancelled_error&) {
        throw std::out_of_range("converted");
      }
    }());
    co_await cs::sleep(0ms);
    t.cancel();
    CO_EXPECT_THROW(t, std::out_of_range);
    EXPECT_FALSE(t.cancelled());
    EXPECT_THROW(std::rethrow_exception(t.exception()), std::out_of_range);
  }());
}

TEST(Cancellation, CAN015_ACoroutineRaisingCancelledErrorItselfEndsCancelled) {
  vrun([]() -> task<void> {
    auto t = cs::create_task([]() -> task<void> {
      throw cs::cancelled_error("self-raised");
      co_return;
    }());
    std::string seen;
    try {
      co_await t;
    } catch (const cs::cancelled_error& e) {
      seen = e.message();
    }
    EXPECT_TRUE(t.cancelled());
    EXPECT_EQ(seen, "self-raised");
    EXPECT_EQ(t.cancelling(), 0);
  }());
}

TEST(Cancellation, CAN016_CancellationWinsOverAPendingResult) {
  vrun([]() -> task<void> {
    auto f = cs::create_future<int>();
    auto t = cs::create_task([&]() -> task<int> { co_return co_await f; });
    co_await cs::sleep(0ms);
    f.set_result(1);  // t's wake-up is queued...
    t.cancel();       // ...but the cancellation is delivered instead
    CO_EXPECT_THROW(t, cs::cancelled_error);
    EXPECT_TRUE(t.cancelled());
  }());
}

TEST(Cancellation, CAN017_CleanupMayAwaitAndTheTaskIsNotDoneUntilItFinishes) {
  trace L;
  vrun([&]() -> task<void> {
    auto t = cs::create_task([&]() -> task<void> {
      bool cancelled = false;
      try {
        co_await cs::sleep(10s);
      } catch (const cs::cancelled_error&) {
        cancelled = true;
      }
      // C++ cannot co_await in a handler: the cleanup runs after it, then re-raises.
      L.push_back("cleanup awaits");
      co_await cs::sleep(10ms);
      L.push_back("cleanup done");
      if (cancelled) throw cs::cancelled_error();
    });
    co_await cs::sleep(0ms);
    t.cancel();
    co_await cs::sleep(0ms);
    L.push_back(std::string("done right after delivery? ") + (t.done() ? "True" : "False"));
    CO_EXPECT_THROW(t, cs::cancelled_error);
    L.push_back(std::string("cancelled ") + (t.cancelled() ? "True" : "False"));
  }());
  EXPECT_EQ(L, (trace{"cleanup awaits", "done right after delivery? False", "cleanup done", "cancelled True"}));
}

TEST(Cancellation, CAN018_KeyboardInterruptInATaskEscapesTheLoop) {
  long when_ms = -1;
  EXPECT_THROW(vrun([&]() -> task<void> {
                 cs::create_task([]() -> task<void> {
                   co_await cs::sleep(0ms);
                   throw cs::keyboard_interrupt();
                 }());
                 co_await cs::sleep(1s);
                 when_ms = now_ms();  // never reached
               }()),
               cs::keyboard_interrupt);
  EXPECT_EQ(when_ms, -1);
}

TEST(Cancellation, CAN018_SystemExitInATaskGroupChildIsSeenByTheParentAndEscapesRun) {
  trace L;
  try {
    vrun([&]() -> task<void> {
      cs::task_group tg;
      try {
        co_await cs::async_with(tg, [](cs::task_group& g) -> task<void> {
          g.create_task([]() -> task<void> {
            co_await cs::sleep(0ms);
            throw cs::system_exit(3);
          }());
          co_await cs::sleep(1s);
        });
      } catch (const cs::system_exit& e) {
        L.push_back("parent observed SystemExit(" + std::to_string(e.code()) + ")");
        throw;
      }
    }());
    FAIL() << "run() must raise system_exit";
  } catch (const cs::system_exit& e) {
    EXPECT_EQ(e.code(), 3);
  }
  EXPECT_EQ(L, (trace{"parent observed SystemExit(3)"}));
}

// The non-throwing way to observe an outcome (docs/asyncio-mapping.md, "Cancellation fast path").
TEST(Cancellation, SettledWaitsForACancelledTaskWithoutRaisingItsOutcome) {
  trace L;
  vrun([&]() -> task<void> {
    auto t = cs::create_task([]() -> task<int> {
      co_await cs::sleep(1h);
      co_return 1;
    }());
    co_await cs::sleep(0ms);
    t.cancel("stop");
    co_await cs::settled(t);
    L.push_back(std::string("done=") + (t.done() ? "1" : "0") + " cancelled=" + (t.cancelled() ? "1" : "0"));
    try {
      (void)t.result();
    } catch (const cs::cancelled_error& e) {
      L.push_back(std::string("result raises cancelled_error(") + e.what() + ")");
    }
    auto failing = cs::create_task([]() -> task<void> {
      co_await cs::sleep(1ms);
      throw std::invalid_argument("bad");
    }());
    co_await cs::settled(failing);
    L.push_back(std::string("exception: ") + (failing.exception() ? "set" : "none"));
  }());
  EXPECT_EQ(L, (trace{"done=1 cancelled=1", "result raises cancelled_error(stop)", "exception: set"}));
}

TEST(Cancellation, CancellingATaskInSettledRaisesInItAndLeavesTheAwaitedFutureAlone) {
  trace L;
  vrun([&]() -> task<void> {
    auto inner = cs::create_task([]() -> task<int> {
      co_await cs::sleep(10ms);
      co_return 5;
    }());
    auto waiter = cs::create_task([](cs::task_handle<int> i) -> task<std::string> {
      try {
        co_await cs::settled(i);
      } catch (const cs::cancelled_error& e) {
        co_return std::string("cancelled(") + e.what() + ")";
      }
      co_return "settled";
    }(inner));
    co_await cs::sleep(1ms);
    waiter.cancel("why");
    const std::string w = co_await waiter;
    L.push_back(at(w));
    L.push_back(std::string("inner done=") + (inner.done() ? "1" : "0"));
    const int v = co_await inner;
    L.push_back(at("inner=" + std::to_string(v)));
  }());
  EXPECT_EQ(L, (trace{"cancelled(why)@1", "inner done=0", "inner=5@10"}));
}

}  // namespace
