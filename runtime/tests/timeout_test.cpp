// asyncio.timeout / timeout_at (TMO) of docs/semantics.md.
#include "support.hpp"

namespace {

bool cause_is_cancelled(const cs::timeout_error& e) {
  try {
    std::rethrow_if_nested(e);
  } catch (const cs::cancelled_error&) {
    return true;
  } catch (...) {
  }
  return false;
}

TEST(Timeout, TMO001_ExpiryBecomesTimeoutErrorOutsideAndTheTaskIsNotLeftCancelled) {
  trace L;
  vrun([&]() -> task<void> {
    auto cm = cs::timeout(10ms);
    try {
      co_await cs::async_with(cm, [&]() -> task<void> {
        try {
          co_await cs::sleep(10s);
        } catch (const cs::cancelled_error&) {
          L.push_back("body sees CancelledError");
          throw;
        }
      });
    } catch (const cs::timeout_error& e) {
      L.push_back(std::string("TimeoutError outside expired ") + (cm.expired() ? "True" : "False") + " cause " +
                  (cause_is_cancelled(e) ? "CancelledError" : "?"));
    }
    L.push_back("continues; cancelling() " + std::to_string(cs::current_task().cancelling()));
    co_await cs::sleep(0ms);
    L.push_back("next await fine");
  }());
  EXPECT_EQ(L, (trace{"body sees CancelledError", "TimeoutError outside expired True cause CancelledError",
                      "continues; cancelling() 0", "next await fine"}));
}

TEST(Timeout, TMO002_ABlockThatDoesNotExpireLeavesNoTrace) {
  vrun([]() -> task<void> {
    auto cm = cs::timeout(1s);
    auto r = co_await cs::async_with(cm, []() -> task<std::string> { co_return co_await val("ok", 10ms); });
    EXPECT_EQ(r, "ok");
    EXPECT_FALSE(cm.expired());
    EXPECT_EQ(cs::current_task().cancelling(), 0);
  }());
}

TEST(Timeout, TMO003_NoneNeverFiresAndRescheduleMovesOrDisablesTheDeadline) {
  vrun([]() -> task<void> {
    auto never = cs::timeout(std::nullopt);
    EXPECT_FALSE(never.when().has_value());
    co_await cs::async_with(never, []() -> task<void> { co_await cs::sleep(20ms); });

    auto later = cs::timeout(std::nullopt);
    CO_EXPECT_THROW(cs::async_with(later,
                                         [](cs::timeout_scope& cm) -> task<void> {
                                           cm.reschedule(cs::get_running_loop().now() + 10ms);
                                           co_await cs::sleep(1s);
                                         }),
                 cs::timeout_error);

    auto off = cs::timeout(10ms);
    co_await cs::async_with(off, [](cs::timeout_scope& cm) -> task<void> {
      cm.reschedule(std::nullopt);
      co_await cs::sleep(30ms);
    });
    EXPECT_FALSE(off.expired());
  }());
}

TEST(Timeout, TMO004_ZeroOrPastDeadlineFiresAtTheFirstAwait) {
  trace L;
  vrun([&]() -> task<void> {
    auto body = [&](std::string n) {
      return [&L, n]() -> task<void> {
        L.push_back(n + ": body starts");
        co_await cs::sleep(0ms);
        L.push_back(n + ": after sleep0");
      };
    };
    try {
      co_await cs::async_with(cs::timeout(0ms), body("timeout(0)"));
    } catch (const cs::timeout_error&) {
      L.push_back("timeout(0): TimeoutError at first await");
    }
    try {
      co_await cs::async_with(cs::timeout_at(cs::get_running_loop().now() - 1s), body("timeout_at(past)"));
    } catch (const cs::timeout_error&) {
      L.push_back("timeout_at(past): TimeoutError at first await");
    }
    auto cm = cs::timeout(0ms);
    int x = co_await cs::async_with(cm, []() -> task<int> { co_return 45; });  // no await: cannot time out
    EXPECT_EQ(x, 45);
    EXPECT_FALSE(cm.expired());
  }());
  EXPECT_EQ(L, (trace{"timeout(0): body starts", "timeout(0): TimeoutError at first await",
                      "timeout_at(past): body starts", "timeout_at(past): TimeoutError at first await"}));
}

TEST(Timeout, TMO005_NestedTimeoutsOnlyTheInnerRaises) {
  trace L;
  vrun([&]() -> task<void> {
    auto outer = cs::timeout(1s);
    co_await cs::async_with(outer, [&]() -> task<void> {
      auto inner = cs::timeout(10ms);
      try {
        co_await cs::async_with(inner, []() -> task<void> { co_await cs::sleep(10s); });
      } catch (const cs::timeout_error&) {
        L.push_back(std::string("inner TimeoutError ") + (inner.expired() ? "True " : "False ") +
                    (outer.expired() ? "True" : "False"));
      }
      co_await cs::sleep(10ms);
      L.push_back("outer body continues");
    });
  }());
  EXPECT_EQ(L, (trace{"inner TimeoutError True False", "outer body continues"}));
}

TEST(Timeout, TMO006_WhenNestedScopesExpireTogetherOnlyTheOutermostConverts) {
  vrun([]() -> task<void> {
    auto outer = cs::timeout(10ms);
    auto inner = cs::timeout(10ms);
    bool inner_raised_timeout = false;
    try {
      co_await cs::async_with(outer, [&]() -> task<void> {
        try {
          co_await cs::async_with(inner, []() -> task<void> { co_await cs::sleep(1s); });
        } catch (const cs::timeout_error&) {
          inner_raised_timeout = true;
          throw;
        }
      });
      ADD_FAILURE() << "the outer scope must raise";
    } catch (const cs::timeout_error&) {
    }
    EXPECT_FALSE(inner_raised_timeout);
    EXPECT_TRUE(inner.expired());
    EXPECT_TRUE(outer.expired());
    EXPECT_EQ(cs::current_task().cancelling(), 0);
  }());
}

TEST(Timeout, TMO007_ForeignExceptionsPassThroughUnchanged) {
  vrun([]() -> task<void> {
    auto cm = cs::timeout(1s);
    CO_EXPECT_THROW(cs::async_with(cm,
                                         []() -> task<void> {
                                           throw std::out_of_range("k");
                                           co_return;
                                         }),
                 std::out_of_range);
    EXPECT_FALSE(cm.expired());
    auto cm2 = cs::timeout(10ms);
    CO_EXPECT_THROW(cs::async_with(cm2,
                                         []() -> task<void> {
                                           try {
                                             co_await cs::sleep(1s);
                                           } catch (const cs::cancelled_error&) {
                                             throw std::out_of_range("k");
                                           }
                                         }),
                 std::out_of_range);
    EXPECT_TRUE(cm2.expired());
  }());
}

TEST(Timeout, TMO008_AnExternalCancelPropagatesAsCancelledError) {
  vrun([]() -> task<void> {
    auto cm = cs::timeout(1s);
    auto t = cs::create_task([&]() -> task<void> {
      co_await cs::async_with(cm, []() -> task<void> { co_await cs::sleep(10s); });
    });
    co_await cs::sleep(10ms);
    t.cancel();
    CO_EXPECT_THROW(t, cs::cancelled_error);
    EXPECT_FALSE(cm.expired());
    EXPECT_TRUE(t.cancelled());

    auto self = cs::create_task([]() -> task<void> {
      co_await cs::async_with(cs::timeout(1s), []() -> task<void> {
        cs::current_task().cancel();
        co_await cs::sleep(2s);
      });
    });
    CO_EXPECT_THROW(self, cs::cancelled_error);
  }());
}

TEST(Timeout, TMO008_ExpiryAndExternalCancelInTheSameIterationEndCancelled) {
  vrun([]() -> task<void> {
    bool body_saw_cancel = false;
    auto t = cs::create_task([&]() -> task<void> {
      co_await cs::async_with(cs::timeout(10ms), [&]() -> task<void> {
        try {
          co_await cs::sleep(1s);
        } catch (const cs::cancelled_error&) {
          body_saw_cancel = true;
          throw;
        }
      });
    });
    cs::get_running_loop().call_later(10ms, [t]() mutable { t.cancel(); });
    try {
      co_await t;
    } catch (const cs::cancelled_error&) {
    } catch (const cs::timeout_error&) {
      ADD_FAILURE() << "the external cancel must win";
    }
    EXPECT_TRUE(body_saw_cancel);
    EXPECT_TRUE(t.cancelled());
  }());
}

TEST(Timeout, TMO008_TimeoutStillWorksWhenTheTaskCarriesAnUnhandledCancel) {
  vrun([]() -> task<void> {
    cs::current_task().cancel();
    try {
      co_await cs::sleep(1s);
    } catch (const cs::cancelled_error&) {
    }
    EXPECT_EQ(cs::current_task().cancelling(), 1);
    CO_EXPECT_THROW(cs::async_with(cs::timeout(0ms), []() -> task<void> { co_await cs::sleep(1s); }),
                 cs::timeout_error);
  }());
}

TEST(Timeout, TMO009_ABodyThatSwallowsTheCancellationRaisesNothingButExpired) {
  vrun([]() -> task<void> {
    auto cm = cs::timeout(10ms);
    co_await cs::async_with(cm, []() -> task<void> {
      try {
        co_await cs::sleep(10s);
      } catch (const cs::cancelled_error&) {
      }
    });
    EXPECT_TRUE(cm.expired());
    EXPECT_EQ(cs::current_task().cancelling(), 0);
  }());
}

TEST(Timeout, TMO010_TimeoutAtWhenAndStateErrors) {
  vrun([]() -> task<void> {
    auto d = cs::get_running_loop().now() + 10ms;
    auto cm = cs::timeout_at(d);
    EXPECT_EQ(cm.when(), d);
    EXPECT_THROW(cm.reschedule(d), std::runtime_error);  // not entered yet
    CO_EXPECT_THROW(cs::async_with(cm, []() -> task<void> { co_await cs::sleep(1s); }), cs::timeout_error);
    EXPECT_TRUE(cm.expired());
    EXPECT_THROW(cm.reschedule(d), std::runtime_error);  // after exit
    CO_EXPECT_THROW(cs::async_with(cm, []() -> task<void> { co_return; }), std::runtime_error);  // twice

    auto outside = cs::timeout(1s);
    bool refused = false;
    cs::get_running_loop().call_soon([&] {
      try {
        outside.aenter();
      } catch (const std::runtime_error& e) {
        refused = std::string(e.what()) == "Timeout should be used inside a task";
      }
    });
    co_await cs::sleep(0ms);
    EXPECT_TRUE(refused);
  }());
}

}  // namespace
