// Threads (THR) of docs/semantics.md, and the loop's I/O readiness callbacks. These run on the
// real clock (other threads take real time) and under TSan (label "threads").
#include "support.hpp"

#include <coroscope/executor.hpp>

#include <atomic>
#include <thread>

#include <sys/socket.h>
#include <unistd.h>

namespace {

template <class T>
T rrun(task<T> t) {
  return cs::run(std::move(t), {.clock = cs::clock_kind::real});
}

TEST(Threads, THR001_RunInExecutorRunsInAnotherThreadAndPropagatesTheResult) {
  rrun([]() -> task<void> {
    const auto loop_thread = std::this_thread::get_id();
    auto pool = std::make_shared<cs::thread_pool_executor>(2);
    auto f = cs::run_in_executor(pool, [] { return std::this_thread::get_id(); });
    auto worker = co_await f;
    EXPECT_NE(worker, loop_thread);
    auto g = cs::run_in_executor(pool, []() -> int { throw std::invalid_argument("from the pool"); });
    CO_EXPECT_THROW(g, std::invalid_argument);
    pool->shutdown(true);
  }());
}

TEST(Threads, THR002_ToThreadPassesArguments) {
  int r = rrun([]() -> task<int> {
    co_return co_await cs::to_thread([](int a, std::string b) { return a + static_cast<int>(b.size()); }, 40,
                                     std::string("ab"));
  }());
  EXPECT_EQ(r, 42);
}

TEST(Threads, THR003_CallSoonThreadsafeWakesTheLoopInOrderPerThread) {
  std::vector<int> got;
  rrun([&]() -> task<void> {
    auto& loop = cs::get_running_loop();
    auto done = cs::create_future<void>();
    // The thread touches the future only by reference, inside callbacks that run on the loop's thread:
    // futures are single-threaded objects.
    std::thread t([&loop, &got, &done] {
      for (int i = 0; i < 100; ++i) loop.call_soon_threadsafe([&got, i] { got.push_back(i); });
      loop.call_soon_threadsafe([&done] { done.set_result(); });
    });
    co_await done;
    t.join();
  }());
  ASSERT_EQ(got.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(got[i], i);
}

TEST(Threads, THR003_CallSoonThreadsafeOnAClosedLoopRaises) {
  cs::event_loop loop;
  loop.close();
  EXPECT_THROW(loop.call_soon_threadsafe([] {}), std::runtime_error);
}

TEST(Threads, THR005_CancellingTheFutureDoesNotStopTheThreadAndTheLateResultIsDropped) {
  std::atomic<bool> finished{false};
  rrun([&]() -> task<void> {
    auto pool = std::make_shared<cs::thread_pool_executor>(1);
    auto f = cs::run_in_executor(pool, [&finished] {
      std::this_thread::sleep_for(20ms);
      finished = true;
      return 7;
    });
    auto waiter = cs::create_task([](cs::future<int> fut) -> task<int> { co_return co_await fut; }(f));
    co_await cs::sleep(1ms);
    waiter.cancel();
    CO_EXPECT_THROW(waiter, cs::cancelled_error);
    EXPECT_TRUE(f.cancelled());
    co_await cs::sleep(50ms);  // the result arrives and is dropped, without a crash
    pool->shutdown(true);
  }());
  EXPECT_TRUE(finished);
}

TEST(Threads, THR006_RunShutsDownTheDefaultExecutorAndLaterUseRaises) {
  std::atomic<int> ran{0};
  rrun([&]() -> task<void> {
    for (int i = 0; i < 8; ++i) co_await cs::to_thread([&ran] { ++ran; });
    auto& loop = cs::get_running_loop();
    loop.shutdown_default_executor();
    bool refused = false;
    try {
      (void)cs::to_thread([] {});
    } catch (const std::runtime_error&) {
      refused = true;
    }
    EXPECT_TRUE(refused);
  }());
  EXPECT_EQ(ran.load(), 8);
}

TEST(Threads, TheLoopKeepsTickingWhileBlockingWorkRunsInTheExecutor) {
  int ticks = 0;
  rrun([&]() -> task<void> {
    auto work = cs::to_thread([] { std::this_thread::sleep_for(60ms); });
    auto ticker = cs::create_task([&]() -> task<void> {
      for (;;) {
        co_await cs::sleep(5ms);
        ++ticks;
      }
    });
    co_await work;
    ticker.cancel();
    std::vector<cs::task_handle<void>> t{ticker};
    co_await cs::wait(std::move(t));
  }());
  EXPECT_GE(ticks, 3);
}

TEST(Reactor, AddReaderRunsTheCallbackWhileTheFdIsReadableAndRemoveReaderStopsIt) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
  std::string received;
  rrun([&]() -> task<void> {
    auto& loop = cs::get_running_loop();
    auto got = cs::create_future<void>();
    loop.add_reader(fds[0], [&, got]() mutable {
      char buf[16];
      auto n = ::read(fds[0], buf, sizeof buf);
      if (n > 0) received.append(buf, static_cast<std::size_t>(n));
      if (received.size() >= 5 && !got.done()) got.set_result();
    });
    EXPECT_EQ(::write(fds[1], "hello", 5), 5);
    co_await got;
    EXPECT_TRUE(loop.remove_reader(fds[0]));
    EXPECT_FALSE(loop.remove_reader(fds[0]));
  }());
  EXPECT_EQ(received, "hello");
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(Reactor, AddWriterRunsWhenTheFdIsWritable) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
  int calls = 0;
  rrun([&]() -> task<void> {
    auto& loop = cs::get_running_loop();
    auto writable = cs::create_future<void>();
    loop.add_writer(fds[1], [&, writable]() mutable {
      ++calls;
      cs::get_running_loop().remove_writer(fds[1]);
      writable.set_result();
    });
    co_await writable;
  }());
  EXPECT_EQ(calls, 1);
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(Threads, OnTheVirtualClockExecutorWorkTakesNoTime) {
  trace L;
  vrun([&]() -> task<void> {
    cs::get_running_loop().call_later(5ms, [&L] { L.push_back(at("timer")); });
    int v = co_await cs::to_thread([] {
      std::this_thread::sleep_for(20ms);  // real time; the virtual clock must not run ahead meanwhile
      return 1;
    });
    L.push_back(at("await f = " + std::to_string(v)));
    co_await cs::sleep(10ms);
    L.push_back(at("final"));
  }());
  EXPECT_EQ(L, (trace{"await f = 1@0", "timer@5", "final@10"}));
}

TEST(Threads, RunLetsExecutorWorkComeBackBeforeItReturns) {
  trace L;
  rrun([&]() -> task<void> {
    auto& loop = cs::get_running_loop();
    auto f = cs::to_thread([&loop, &L] {
      std::this_thread::sleep_for(20ms);
      loop.call_soon_threadsafe([&L] { L.push_back("posted"); });
      return 1;
    });
    f.add_done_callback([&L] { L.push_back("done callback"); });
    L.push_back("main ends");
    co_return;
  }());
  EXPECT_EQ(L, (trace{"main ends", "posted", "done callback"}));
}

}  // namespace
