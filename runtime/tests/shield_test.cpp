// shield (SHD) and as_completed (ASC) of docs/semantics.md.
#include "support.hpp"

namespace {

TEST(Shield, SHD001_TheCallerIsCancelledTheInnerKeepsRunning) {
  trace L;
  vrun([&]() -> task<void> {
    auto inner = cs::create_task([&]() -> task<std::string> {
      co_await cs::sleep(30ms);
      L.push_back("inner completed");
      co_return "R";
    });
    auto c = cs::create_task([&]() -> task<void> {
      try {
        co_await cs::shield(inner);
      } catch (const cs::cancelled_error&) {
        L.push_back("caller got CancelledError");
        throw;
      }
    });
    co_await cs::sleep(10ms);
    c.cancel();
    CO_EXPECT_THROW(c, cs::cancelled_error);
    L.push_back(std::string("caller cancelled ") + (c.cancelled() ? "True" : "False") + " inner cancelled " +
                (inner.cancelled() ? "True" : "False"));
    L.push_back("inner result later " + co_await inner);
  }());
  EXPECT_EQ(L, (trace{"caller got CancelledError", "caller cancelled True inner cancelled False", "inner completed",
                      "inner result later R"}));
}

TEST(Shield, SHD002_ResultAndExceptionPassThrough) {
  vrun([]() -> task<void> {
    CO_EXPECT_EQ(cs::shield(val("res", 10ms)), "res");
    CO_EXPECT_THROW(cs::shield(err(std::invalid_argument("v"), 10ms)), std::invalid_argument);
  }());
}

TEST(Shield, SHD004_ShieldOfADoneFutureIsThatFuture) {
  vrun([]() -> task<void> {
    auto f = cs::create_future<int>();
    f.set_result(1);
    auto g = cs::create_future<int>();
    EXPECT_TRUE(cs::shield(f) == f);
    EXPECT_FALSE(cs::shield(g) == g);
    g.cancel();
    co_return;
  }());
}

TEST(Shield, SHD004_CancellingTheOuterFutureLeavesTheInnerAlone) {
  vrun([]() -> task<void> {
    auto inner = cs::create_task(val("x", 20ms));
    auto outer = cs::shield(inner);
    EXPECT_TRUE(outer.cancel());
    EXPECT_TRUE(outer.cancelled());  // a plain future: cancelled at once
    CO_EXPECT_EQ(inner, "x");
    EXPECT_FALSE(inner.cancelled());
  }());
}

TEST(Shield, SHD005_IgnoringTheCancellationKeepsTheRequestCountRaised) {
  trace L;
  vrun([&]() -> task<void> {
    auto body = cs::create_task([&]() -> task<void> {
      auto inner = cs::create_task(val("r", 20ms));
      std::string res = "<unset>";
      try {
        res = co_await cs::shield(inner);
      } catch (const cs::cancelled_error&) {
        res = "None";
      }
      L.push_back("res " + res + " cancelling() " + std::to_string(cs::current_task().cancelling()));
      co_await cs::sleep(30ms);
      L.push_back("next await not interrupted");
      L.push_back("body-done");
    });
    co_await cs::sleep(5ms);
    body.cancel();
    co_await body;
  }());
  EXPECT_EQ(L, (trace{"res None cancelling() 1", "next await not interrupted", "body-done"}));
}

// ------------------------------------------------------------------------------------------ as_completed

TEST(AsCompleted, ASC001_ResultsArriveInCompletionOrder) {
  trace L;
  vrun([&]() -> task<void> {
    std::vector<task<std::string>> in;
    in.push_back(val("a", 30ms));
    in.push_back(val("b", 10ms));
    in.push_back(val("c", 20ms));
    for (auto next : cs::as_completed(std::move(in))) L.push_back(co_await next);
  }());
  EXPECT_EQ(L, (trace{"b", "c", "a"}));
}

TEST(AsCompleted, ASC002_OnTimeoutTheNextItemRaisesAndNothingIsCancelled) {
  trace L;
  vrun([&]() -> task<void> {
    auto a = cs::create_task(val("a", 10ms));
    auto b = cs::create_task(val("b", 1s));
    std::vector<cs::task_handle<std::string>> in{a, b};
    for (auto next : cs::as_completed(in, 30ms)) {
      try {
        L.push_back(co_await next);
      } catch (const cs::timeout_error&) {
        L.push_back(at("TimeoutError") + " b cancelled? " + (b.cancelled() ? "True" : "False"));
      }
    }
    b.cancel();
  }());
  EXPECT_EQ(L, (trace{"a", "TimeoutError@30 b cancelled? False"}));
}

TEST(AsCompleted, ASC002_AnUnusedTimeoutIsHarmless) {
  trace L;
  vrun([&]() -> task<void> {
    std::vector<task<std::string>> in;
    in.push_back(val("a", 10ms));
    for (auto next : cs::as_completed(std::move(in), 10s)) L.push_back(co_await next);
    L.push_back(at("end"));
  }());
  EXPECT_EQ(L, (trace{"a", "end@10"}));
}

TEST(AsCompleted, ASC003_AnExceptionIsDeliveredForItsOwnItem) {
  trace L;
  vrun([&]() -> task<void> {
    std::vector<task<std::string>> in;
    in.push_back(err(std::invalid_argument("v"), 10ms));
    in.push_back(val("b", 20ms));
    for (auto next : cs::as_completed(std::move(in))) {
      try {
        L.push_back(co_await next);
      } catch (const std::invalid_argument&) {
        L.push_back("ValueError");
      }
    }
  }());
  EXPECT_EQ(L, (trace{"ValueError", "b"}));
}

TEST(AsCompleted, ASC004_DuplicatesAreCollapsed) {
  vrun([]() -> task<void> {
    auto c = cs::create_task(val("x", 0ms));
    std::vector<cs::task_handle<std::string>> in{c, c};
    auto items = cs::as_completed(in);
    EXPECT_EQ(items.size(), 1u);
    for (auto next : items) CO_EXPECT_EQ(next, "x");
  }());
}

TEST(AsCompleted, ASC005_ItemsAreNewAwaitablesNotTheInputTasks) {
  // Plain iteration yields new coroutines in every version; async iteration (3.13) does not exist in 3.11.
  using range = decltype(cs::as_completed(std::declval<std::vector<cs::task_handle<int>>>()));
  static_assert(std::is_same_v<decltype(*std::declval<range>().begin()), task<int>>);
}

}  // namespace
