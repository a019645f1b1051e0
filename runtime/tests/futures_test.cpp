// Future semantics (FUT) of docs/semantics.md.
#include "support.hpp"

namespace {

TEST(Futures, FUT001_InitialStateIsPendingAndResultRaisesInvalidState) {
  vrun([]() -> task<void> {
    auto f = cs::create_future<int>();
    EXPECT_FALSE(f.done());
    EXPECT_FALSE(f.cancelled());
    EXPECT_THROW(f.result(), cs::invalid_state_error);
    EXPECT_THROW(f.exception(), cs::invalid_state_error);
    f.set_result(42);
    EXPECT_TRUE(f.done());
    EXPECT_FALSE(f.cancelled());
    EXPECT_EQ(f.result(), 42);
    EXPECT_EQ(f.exception(), nullptr);
    co_return;
  }());
}

const void* address_of_thrown(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return &e;
  }
  return nullptr;
}

TEST(Futures, FUT002_SetExceptionReraisesTheSameObject) {
  vrun([]() -> task<void> {
    auto f = cs::create_future<int>();
    auto e = std::make_exception_ptr(std::invalid_argument("v"));
    f.set_exception(e);
    EXPECT_EQ(f.exception(), e);
    const void* stored = address_of_thrown([&] { std::rethrow_exception(e); });
    EXPECT_EQ(address_of_thrown([&] { f.result(); }), stored);
    const void* awaited = nullptr;
    try {
      co_await f;
    } catch (const std::exception& x) {
      awaited = &x;
    }
    EXPECT_EQ(awaited, stored);
    // An exception object (rather than an exception_ptr) is stored as thrown.
    auto g = cs::create_future<void>();
    g.set_exception(std::runtime_error("made from an object"));
    EXPECT_THROW(std::rethrow_exception(g.exception()), std::runtime_error);
  }());
}

TEST(Futures, FUT003_SecondSetRaisesInvalidStateAndKeepsTheFirstResult) {
  vrun([]() -> task<void> {
    auto f = cs::create_future<int>();
    f.set_result(1);
    EXPECT_THROW(f.set_result(2), cs::invalid_state_error);
    EXPECT_THROW(f.set_exception(std::invalid_argument("x")), cs::invalid_state_error);
    EXPECT_EQ(f.result(), 1);
    auto g = cs::create_future<int>();
    g.cancel();
    EXPECT_THROW(g.set_result(1), cs::invalid_state_error);
    co_return;
  }());
}

TEST(Futures, FUT004_CancelStateMachine) {
  vrun([]() -> task<void> {
    auto f = cs::create_future<int>();
    EXPECT_TRUE(f.cancel());
    EXPECT_TRUE(f.cancelled());
    EXPECT_TRUE(f.done());
    EXPECT_FALSE(f.cancel());
    EXPECT_THROW(f.result(), cs::cancelled_error);
    EXPECT_THROW(f.exception(), cs::cancelled_error);

    auto r = cs::create_future<int>();
    r.set_result(1);
    auto x = cs::create_future<int>();
    x.set_exception(std::invalid_argument("e"));
    EXPECT_FALSE(r.cancel());
    EXPECT_FALSE(x.cancel());
    EXPECT_EQ(r.result(), 1);
    EXPECT_FALSE(x.cancelled());
    co_return;
  }());
}

TEST(Futures, FUT005_CancelMessageReachesResultAndAwait) {
  vrun([]() -> task<void> {
    auto f = cs::create_future<int>();
    f.cancel("my msg");
    EXPECT_EQ(cancel_message_of([&] { f.result(); }), "my msg");
    std::string awaited;
    try {
      co_await f;
    } catch (const cs::cancelled_error& e) {
      awaited = e.message();
    }
    EXPECT_EQ(awaited, "my msg");
  }());
}

TEST(Futures, FUT007_AFutureCanBeAwaitedManyTimesByManyAwaiters) {
  trace L;
  vrun([&]() -> task<void> {
    auto f = cs::create_future<std::string>();
    auto a = cs::create_task([&]() -> task<void> { L.push_back("a:" + co_await f); });
    auto b = cs::create_task([&]() -> task<void> { L.push_back("b:" + co_await f); });
    co_await cs::sleep(0ms);
    f.set_result("same");
    co_await a;
    co_await b;
    L.push_back("again:" + co_await f);
    L.push_back("again2:" + co_await f);
  }());
  EXPECT_EQ(L, (trace{"a:same", "b:same", "again:same", "again2:same"}));
}

TEST(Futures, FUT008_UnretrievedExceptionIsReportedWhenTheLastReferenceGoes) {
  handler_calls calls;
  vrun([&]() -> task<void> {
    calls.install(cs::get_running_loop());
    {
      auto never_read = cs::create_future<int>();
      never_read.set_exception(std::invalid_argument("lost"));
      auto exception_read = cs::create_future<int>();
      exception_read.set_exception(std::invalid_argument("read"));
      (void)exception_read.exception();
      auto result_read = cs::create_future<int>();
      result_read.set_exception(std::invalid_argument("raised"));
      EXPECT_THROW(result_read.result(), std::invalid_argument);
      auto cancelled = cs::create_future<int>();
      cancelled.set_exception(std::invalid_argument("then cancelled"));
      cancelled.cancel();
      auto with_value = cs::create_future<int>();
      with_value.set_result(1);
    }
    EXPECT_EQ(calls.messages, (std::vector<std::string>{"Future exception was never retrieved"}));
    cs::create_task([]() -> task<void> {
      throw std::invalid_argument("nobody reads me");
      co_return;
    }());
    co_await cs::sleep(0ms);
    co_await cs::sleep(0ms);
  }());
  EXPECT_EQ(calls.messages,
            (std::vector<std::string>{"Future exception was never retrieved", "Task exception was never retrieved"}));
}

TEST(Futures, FUT009_CallbackContract) {
  std::vector<std::string> L;
  vrun([&]() -> task<void> {
    auto f = cs::create_future<void>();
    int cb_calls = 0;
    auto cb = [&] { ++cb_calls; };
    auto id1 = f.add_done_callback(cb);
    auto id2 = f.add_done_callback(cb);
    cs::future_ref seen;
    auto keep = f.add_done_callback([&](const cs::future<void>& d) { seen = d; });
    EXPECT_EQ(f.remove_done_callback(id1), 1u);
    EXPECT_EQ(f.remove_done_callback(id2), 1u);
    f.set_result();
    co_await cs::sleep(0ms);
    EXPECT_EQ(cb_calls, 0);
    EXPECT_TRUE(seen == f);  // called with the future itself
    EXPECT_EQ(f.remove_done_callback(keep), 0u);

    auto g = cs::create_future<int>();
    g.add_done_callback([&](const cs::future<int>& d) { L.push_back(d.cancelled() ? "cb cancelled=True" : "cb"); });
    g.cancel();
    L.push_back("after cancel");
    co_await cs::sleep(0ms);
  }());
  EXPECT_EQ(L, (std::vector<std::string>{"after cancel", "cb cancelled=True"}));
}

TEST(Futures, FUT010_TasksRefuseSetResultAndCannotAwaitThemselves) {
  vrun([]() -> task<void> {
    auto t = cs::create_task([]() -> task<int> {
      co_await cs::sleep(10ms);
      co_return 1;
    }());
    cs::future<int> as_future = t;
    EXPECT_THROW(as_future.set_result(1), std::runtime_error);
    EXPECT_THROW(as_future.set_exception(std::invalid_argument("x")), std::runtime_error);
    co_await t;

    auto self = cs::create_task([]() -> task<void> {
      auto me = cs::current_task();
      co_await cs::future<void>(me.core_ptr());
    }());
    try {
      co_await self;
      ADD_FAILURE() << "awaiting itself must fail";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("Task cannot await on itself"), std::string::npos);
    }
  }());
}

TEST(Futures, FUT006_ARejectedSetExceptionLeavesTheFuturePending) {
  // C++ has no StopIteration; the closest misuse, an empty exception_ptr, is rejected the same way 3.11
  // rejects StopIteration: an error, and the future stays pending.
  vrun([]() -> task<void> {
    auto f = cs::create_future<int>();
    EXPECT_THROW(f.set_exception(std::exception_ptr()), std::invalid_argument);
    EXPECT_FALSE(f.done());
    f.cancel();
    co_return;
  }());
}

}  // namespace
