// TaskGroup (TG) of docs/semantics.md.
#include "support.hpp"

namespace {

template <class E>
std::vector<std::string> member_whats(const E& group) {
  std::vector<std::string> out;
  for (auto& e : group.exceptions()) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      out.push_back(x.what());
    } catch (const cs::base_exception& x) {
      out.push_back(std::string("base:") + x.what());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(TaskGroup, TG001_ExitAwaitsEveryTaskAndResultsAreAvailable) {
  trace L;
  vrun([&]() -> task<void> {
    cs::task_group tg;
    cs::task_handle<std::string> a, b;
    co_await cs::async_with(tg, [&](cs::task_group& g) -> task<void> {
      a = g.create_task(val("a", 20ms));
      b = g.create_task(val("b", 10ms));
      L.push_back("body end");
      co_return;
    });
    L.push_back(at("after exit " + a.result() + " " + b.result()));
  }());
  EXPECT_EQ(L, (trace{"body end", "after exit a b@20"}));
}

TEST(TaskGroup, TG002_TheFirstFailureCancelsSiblingsAndRaisesAGroup) {
  trace L;
  vrun([&]() -> task<void> {
    cs::task_group tg;
    cs::task_handle<void> sib;
    try {
      co_await cs::async_with(tg, [&](cs::task_group& g) -> task<void> {
        sib = g.create_task(logs_cancel(L, "sibling cancelled"));
        g.create_task(err(std::invalid_argument("v"), 10ms));
        co_return;
      });
    } catch (const cs::exception_group& eg) {
      L.push_back("ExceptionGroup " + member_whats(eg)[0]);
    }
    L.push_back(std::string("sibling cancelled() ") + (sib.cancelled() ? "True" : "False"));
  }());
  EXPECT_EQ(L, (trace{"sibling cancelled", "ExceptionGroup v", "sibling cancelled() True"}));
}

TEST(TaskGroup, TG003_SeveralFailuresAreAggregated) {
  vrun([]() -> task<void> {
    cs::task_group tg;
    try {
      co_await cs::async_with(tg, [](cs::task_group& g) -> task<void> {
        g.create_task(err(std::invalid_argument("v"), 10ms));
        g.create_task(err(std::out_of_range("k"), 10ms));
        co_return;
      });
      ADD_FAILURE() << "expected a group";
    } catch (const cs::exception_group& eg) {
      EXPECT_STREQ(eg.what(), "unhandled errors in a TaskGroup");
      EXPECT_EQ(member_whats(eg), (std::vector<std::string>{"k", "v"}));
      EXPECT_EQ(eg.count<std::invalid_argument>(), 1u);
      EXPECT_EQ(eg.count<std::out_of_range>(), 1u);
    }
  }());
}

TEST(TaskGroup, TG004_AChildFailureInterruptsTheBodyAndRestoresTheCancelCount) {
  trace L;
  vrun([&]() -> task<void> {
    cs::task_group tg;
    try {
      co_await cs::async_with(tg, [&](cs::task_group& g) -> task<void> {
        g.create_task(err(std::invalid_argument("v"), 10ms));
        try {
          co_await cs::sleep(10s);
        } catch (const cs::cancelled_error&) {
          L.push_back(at("body interrupted"));
          throw;
        }
      });
    } catch (const cs::exception_group&) {
      L.push_back("group");
    }
    L.push_back("cancelling() " + std::to_string(cs::current_task().cancelling()));
    co_await cs::sleep(1ms);
    L.push_back("next await fine");
  }());
  EXPECT_EQ(L, (trace{"body interrupted@10", "group", "cancelling() 0", "next await fine"}));
}

TEST(TaskGroup, TG005_AnExceptionFromTheBodyCancelsChildrenAndJoinsTheGroup) {
  trace L;
  vrun([&]() -> task<void> {
    cs::task_group tg;
    try {
      co_await cs::async_with(tg, [&](cs::task_group& g) -> task<void> {
        g.create_task(logs_cancel(L, "child cancelled"));
        co_await cs::sleep(0ms);
        throw std::out_of_range("body");
      });
    } catch (const cs::exception_group& eg) {
      L.push_back("ExceptionGroup " + member_whats(eg)[0]);
    }
  }());
  EXPECT_EQ(L, (trace{"child cancelled", "ExceptionGroup body"}));
}

TEST(TaskGroup, TG006_AnExternalCancelPropagatesPlainCancelledError) {
  trace L;
  vrun([&]() -> task<void> {
    auto t = cs::create_task([&]() -> task<void> {
      cs::task_group tg;
      co_await cs::async_with(tg, [&](cs::task_group& g) -> task<void> {
        g.create_task(logs_cancel(L, "child cancelled"));
        g.create_task(logs_cancel(L, "child cancelled"));
        co_await cs::sleep(10s);
      });
    });
    co_await cs::sleep(10ms);
    t.cancel();
    try {
      co_await t;
    } catch (const cs::cancelled_error&) {
      L.push_back("CancelledError (not group)");
    }
  }());
  EXPECT_EQ(L, (trace{"child cancelled", "child cancelled", "CancelledError (not group)"}));
}

TEST(TaskGroup, TG007_ChildErrorsTakePriorityOverAnExternalCancel) {
  vrun([]() -> task<void> {
    auto t = cs::create_task([]() -> task<void> {
      cs::task_group tg;
      co_await cs::async_with(tg, [](cs::task_group& g) -> task<void> {
        g.create_task([]() -> task<void> {
          try {
            co_await cs::sleep(10s);
          } catch (const cs::cancelled_error&) {
            throw std::invalid_argument("failed while cancelled");
          }
        }());
        co_await cs::sleep(10s);
      });
    });
    co_await cs::sleep(10ms);
    t.cancel();
    CO_EXPECT_THROW(t, cs::exception_group);
  }());
}

struct my_base : cs::base_exception {
  my_base() : cs::base_exception("MyBase") {}
};

task<void> crash_soon() {
  co_await cs::sleep(10ms);
  throw std::domain_error("division by zero");
}

template <class X>
task<void> group_with_nested_raising() {
  cs::task_group tg;
  co_await cs::async_with(tg, [](cs::task_group& g) -> task<void> {
    g.create_task(crash_soon());
    co_await []() -> task<void> {
      bool interrupted = false;
      try {
        co_await cs::sleep(10s);
      } catch (...) {
        interrupted = true;
      }
      if (interrupted) throw X();
    }();
  });
}

TEST(TaskGroup, TG008_KeyboardInterruptIsReRaisedBare) {
  EXPECT_THROW(vrun(group_with_nested_raising<cs::keyboard_interrupt>()), cs::keyboard_interrupt);
}

TEST(TaskGroup, TG008_OtherBaseExceptionsAreGroupedInABaseExceptionGroup) {
  vrun([]() -> task<void> {
    try {
      co_await group_with_nested_raising<my_base>();
      ADD_FAILURE() << "expected a group";
    } catch (const cs::exception_group&) {
      ADD_FAILURE() << "a group with a base_exception member is not an exception_group";
    } catch (const cs::base_exception_group& eg) {
      EXPECT_EQ(member_whats(eg), (std::vector<std::string>{"base:MyBase", "division by zero"}));
    }
  }());
}

TEST(TaskGroup, TG009_CreateTaskRestrictions) {
  vrun([]() -> task<void> {
    cs::task_group tg;
    try {
      tg.create_task(val("x", 0ms));
      ADD_FAILURE();
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "TaskGroup has not been entered");
    }
    co_await cs::async_with(tg, [](cs::task_group&) -> task<void> { co_return; });
    try {
      tg.create_task(val("x", 0ms));
      ADD_FAILURE();
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "TaskGroup is finished");
    }
    try {
      co_await cs::async_with(tg, [](cs::task_group&) -> task<void> { co_return; });
      ADD_FAILURE();
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "TaskGroup has already been entered");
    }
    cs::task_group failing;
    std::string shutting_down;
    try {
      co_await cs::async_with(failing, [&](cs::task_group& g) -> task<void> {
        g.create_task(err(std::invalid_argument("v"), 0ms));
        try {
          co_await cs::sleep(1s);
        } catch (const cs::cancelled_error&) {
        }
        try {
          g.create_task(val("late", 0ms));
        } catch (const std::runtime_error& e) {
          shutting_down = e.what();
        }
      });
    } catch (const cs::exception_group&) {
    }
    EXPECT_EQ(shutting_down, "TaskGroup is shutting down");
  }());
}

TEST(TaskGroup, TG010_CancellingOneChildIsNotAFailure) {
  vrun([]() -> task<void> {
    cs::task_group tg;
    cs::task_handle<void> a;
    cs::task_handle<std::string> b;
    co_await cs::async_with(tg, [&](cs::task_group& g) -> task<void> {
      a = g.create_task([]() -> task<void> { co_await cs::sleep(10s); }());
      b = g.create_task(val("b", 10ms));
      a.cancel();
      co_return;
    });
    EXPECT_TRUE(a.cancelled());
    EXPECT_EQ(b.result(), "b");
  }());
}

TEST(TaskGroup, TG010_TasksMayBeAddedWhileTheGroupIsExiting) {
  trace L;
  vrun([&]() -> task<void> {
    cs::task_group tg;
    co_await cs::async_with(tg, [&](cs::task_group& g) -> task<void> {
      g.create_task([&]() -> task<void> {
        co_await cs::sleep(10ms);
        g.create_task([&]() -> task<void> {
          co_await cs::sleep(10ms);
          L.push_back(at("late child ran"));
        });
      });
      co_return;
    });
    L.push_back(at("exit waited for late child"));
  }());
  EXPECT_EQ(L, (trace{"late child ran@20", "exit waited for late child@20"}));
}

TEST(TaskGroup, TG011_AnInnerGroupBecomesAMemberOfTheOuterGroup) {
  vrun([]() -> task<void> {
    cs::task_group outer;
    try {
      co_await cs::async_with(outer, [](cs::task_group& g) -> task<void> {
        g.create_task([]() -> task<void> {
          cs::task_group inner;
          co_await cs::async_with(inner, [](cs::task_group& ig) -> task<void> {
            ig.create_task(err(std::invalid_argument("deep"), 1ms));
            co_return;
          });
        }());
        co_return;
      });
      ADD_FAILURE();
    } catch (const cs::exception_group& eg) {
      EXPECT_EQ(eg.exceptions().size(), 1u);
      try {
        std::rethrow_exception(eg.exceptions()[0]);
      } catch (const cs::exception_group& in) {
        EXPECT_EQ(member_whats(in), (std::vector<std::string>{"deep"}));
      }
    }
  }());
}

TEST(TaskGroup, TG012_CancelCountLeaksWhenTheChildFailsDuringExitIn311) {
  vrun([]() -> task<void> {
    cs::task_group tg;
    try {
      co_await cs::async_with(tg, [](cs::task_group& g) -> task<void> {
        g.create_task(err(std::runtime_error("r"), 0ms));
        co_return;  // no await: the child fails while the parent waits in aexit
      });
    } catch (const cs::exception_group&) {
    }
    EXPECT_EQ(cs::current_task().cancelling(), 1);  // 3.11/3.12; 3.13 restores 0
    cs::current_task().uncancel();
  }());
}

TEST(TaskGroup, TG013_AnExternalCancelRacingAChildErrorIsLostIn311) {
  trace L;
  vrun([&]() -> task<void> {
    auto ev = cs::create_future<void>();
    auto t = cs::create_task([&]() -> task<void> {
      try {
        cs::task_group tg;
        co_await cs::async_with(tg, [&](cs::task_group& g) -> task<void> {
          g.create_task([&]() -> task<void> {
            ev.set_result();
            co_await cs::sleep(0ms);
            throw std::runtime_error("child error");
          });
          co_await cs::sleep(1s);
        });
      } catch (const cs::exception_group&) {
        L.push_back("except* RuntimeError, cancelling() " + std::to_string(cs::current_task().cancelling()));
      }
      try {
        co_await cs::sleep(10ms);
        L.push_back("sleep after group NOT cancelled (cancel lost)");
      } catch (const cs::cancelled_error&) {
        L.push_back("sleep after group raised CancelledError");
        throw;
      }
    });
    co_await ev;
    t.cancel();
    try {
      co_await t;
      L.push_back("task finished normally");
    } catch (const cs::cancelled_error&) {
      L.push_back("task cancelled");
    }
  }());
  EXPECT_EQ(L, (trace{"except* RuntimeError, cancelling() 1", "sleep after group NOT cancelled (cancel lost)",
                      "task finished normally"}));
}

struct terminate_task_group : std::exception {
  const char* what() const noexcept override { return "terminate"; }
};

TEST(TaskGroup, TG014_TheTerminateATaskGroupRecipe) {
  trace L;
  vrun([&]() -> task<void> {
    auto job = [&L](int n, std::chrono::milliseconds d) -> task<void> {
      L.push_back("Task " + std::to_string(n) + ": start");
      co_await cs::sleep(d);
      L.push_back("Task " + std::to_string(n) + ": done");
    };
    cs::task_group tg;
    try {
      co_await cs::async_with(tg, [&](cs::task_group& g) -> task<void> {
        g.create_task(job(1, 50ms));
        g.create_task(job(2, 150ms));
        co_await cs::sleep(100ms);
        g.create_task([]() -> task<void> {
          throw terminate_task_group();
          co_return;
        }());
      });
    } catch (const cs::exception_group& eg) {
      EXPECT_EQ(eg.count<terminate_task_group>(), 1u);
    }
  }());
  EXPECT_EQ(L, (trace{"Task 1: start", "Task 2: start", "Task 1: done"}));
}

}  // namespace
