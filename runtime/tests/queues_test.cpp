// Queues (Q) of docs/semantics.md. Expected traces are CPython 3.11.7's.
#include "support.hpp"

#include "alloc_count.hpp"

#include <memory>
#include <thread>
#include <tuple>
#include <utility>

namespace {

template <class Q>
std::vector<typename Q::value_type> drain(Q& q) {
  std::vector<typename Q::value_type> out;
  while (!q.empty()) out.push_back(q.get_nowait());
  return out;
}

TEST(Queues, Q001_QueueIsFifoLifoQueueIsLifoPriorityQueueIsLowestFirst) {
  cs::queue<int> fifo;
  cs::lifo_queue<int> lifo;
  for (int x : {3, 1, 2}) {
    fifo.put_nowait(x);
    lifo.put_nowait(x);
  }
  EXPECT_EQ(drain(fifo), (std::vector<int>{3, 1, 2}));
  EXPECT_EQ(drain(lifo), (std::vector<int>{2, 1, 3}));

  using item = std::pair<int, std::string>;
  cs::priority_queue<item> prio;
  for (const item& x : {item{3, "c"}, item{1, "a"}, item{2, "b"}}) prio.put_nowait(x);
  EXPECT_EQ(drain(prio), (std::vector<item>{{1, "a"}, {2, "b"}, {3, "c"}}));
}

// Items that compare equal come out in heapq's order (not insertion order), as from asyncio.PriorityQueue.
TEST(Queues, Q001_PriorityTiesComeOutInHeapqOrder) {
  struct by_priority {
    bool operator()(const std::string& a, const std::string& b) const { return a[0] < b[0]; }
  };
  cs::priority_queue<std::string, by_priority> q;
  for (std::string s : {"1a", "1b", "1c", "0z", "1d", "2x", "1e", "0y"}) q.put_nowait(s);
  EXPECT_EQ(drain(q), (std::vector<std::string>{"0z", "0y", "1c", "1e", "1d", "1a", "1b", "2x"}));
}

TEST(Queues, Q001_BlockedGettersAreServedInTheOrderTheyStartedWaiting) {
  trace L;
  vrun([&]() -> task<void> {
    cs::queue<int> q;
    std::vector<cs::task_handle<void>> ts;
    for (std::string n : {"a", "b", "c"})
      ts.push_back(cs::create_task([&q, &L, n]() -> task<void> {
        int v = co_await q.get();
        L.push_back(n + " " + std::to_string(v));
      }));
    co_await cs::sleep(0ms);
    EXPECT_EQ(q.getter_count(), 3u);
    q.put_nowait(1);
    q.put_nowait(2);
    q.put_nowait(3);
    co_await cs::gather(std::move(ts));
  }());
  EXPECT_EQ(L, (trace{"a 1", "b 2", "c 3"}));
}

TEST(Queues, Q002_PutBlocksWhileTheQueueIsFullAndResumesAfterAGet) {
  trace L;
  vrun([&]() -> task<void> {
    cs::queue<std::string> q(1);
    q.put_nowait("x");
    auto t = cs::create_task([&]() -> task<void> {
      L.push_back("put blocks");
      co_await q.put("y");
      L.push_back("put completed");
    });
    co_await cs::sleep(0ms);
    L.push_back("full " + std::string(q.full() ? "True" : "False") + " put done? " +
                (t.done() ? "True" : "False"));
    std::string got = co_await q.get();
    L.push_back("got " + got);
    co_await t;
    L.push_back("qsize " + std::to_string(q.qsize()));
    EXPECT_EQ(q.get_nowait(), "y");
  }());
  EXPECT_EQ(L, (trace{"put blocks", "full True put done? False", "got x", "put completed", "qsize 1"}));
}

TEST(Queues, Q003_NowaitErrorsAndMaxsizeZeroOrLessIsUnbounded) {
  cs::queue<int> empty;
  EXPECT_THROW(empty.get_nowait(), cs::queue_empty);
  cs::queue<int> one(1);
  one.put_nowait(1);
  EXPECT_TRUE(one.full());
  EXPECT_THROW(one.put_nowait(2), cs::queue_full);
  EXPECT_EQ(one.qsize(), 1u);

  cs::queue<int> zero(0);
  EXPECT_FALSE(zero.full());
  cs::queue<int> negative(-5);
  for (int i = 0; i < 100; ++i) negative.put_nowait(i);
  EXPECT_EQ(negative.qsize(), 100u);
  EXPECT_FALSE(negative.full());
  EXPECT_EQ(negative.maxsize(), -5);
  EXPECT_EQ(one.maxsize(), 1);
}

TEST(Queues, Q003_AWaitingGetAndPutReturnOnceTheQueueAllowsIt) {
  vrun([]() -> task<void> {
    cs::queue<int> q(1);
    cs::get_running_loop().call_later(5ms, [&] { q.put_nowait(7); });
    int v = co_await q.get();
    EXPECT_EQ(v, 7);
    EXPECT_EQ(now_ms(), 5);
    co_await q.put(8);  // room: no wait
    EXPECT_EQ(now_ms(), 5);
    CO_EXPECT_THROW(cs::wait_for(q.put(9), 10ms), cs::timeout_error);
    EXPECT_EQ(q.putter_count(), 0u);
    EXPECT_EQ(q.get_nowait(), 8);
  }());
}

TEST(Queues, Q004_TaskDoneAndJoin) {
  trace L;
  vrun([&]() -> task<void> {
    cs::queue<int> q;
    co_await q.join();  // nothing outstanding: returns at once
    L.push_back("empty join returned");
    auto worker = cs::create_task([&]() -> task<void> {
      for (;;) {
        int v = co_await q.get();
        co_await cs::sleep(10ms);
        L.push_back("processed " + std::to_string(v));
        q.task_done();
      }
    });
    q.put_nowait(0);
    q.put_nowait(1);
    co_await q.join();
    L.push_back(at("join returned"));
    worker.cancel();
    EXPECT_THROW(q.task_done(), std::invalid_argument);
    try {
      q.task_done();
    } catch (const std::invalid_argument& e) {
      L.push_back(e.what());
    }
  }());
  EXPECT_EQ(L, (trace{"empty join returned", "processed 0", "processed 1", "join returned@20",
                      "task_done() called too many times"}));
}

TEST(Queues, Q004_JoinWaitsForTaskDoneNotForGet) {
  trace L;
  vrun([&]() -> task<void> {
    cs::queue<int> q;
    q.put_nowait(1);
    auto joiner = cs::create_task([&]() -> task<void> {
      co_await q.join();
      L.push_back(at("joined"));
    });
    (void)q.get_nowait();
    co_await cs::sleep(5ms);
    L.push_back(std::string("joined before task_done? ") + (joiner.done() ? "True" : "False"));
    q.task_done();
    co_await joiner;
  }());
  EXPECT_EQ(L, (trace{"joined before task_done? False", "joined@5"}));
}

TEST(Queues, Q005_AGetterCancelledAfterBeingWokenDoesNotLoseTheItem) {
  trace L;
  vrun([&]() -> task<void> {
    cs::queue<std::string> q;
    auto getter = [&](std::string n) {
      return cs::create_task([&q, &L, n]() -> task<void> {
        std::string v;
        try {
          v = co_await q.get();
        } catch (const cs::cancelled_error&) {
          L.push_back(n + " cancelled");
          throw;
        }
        L.push_back(n + " got " + v);
      });
    };
    auto a = getter("a");
    auto b = getter("b");
    co_await cs::sleep(0ms);
    q.put_nowait("item");
    a.cancel();  // same step: a was woken already
    co_await cs::gather(cs::return_exceptions, a, b);
    L.push_back("qsize " + std::to_string(q.qsize()));
  }());
  EXPECT_EQ(L, (trace{"a cancelled", "b got item", "qsize 0"}));
}

// test_queues.py::QueueGetTests::test_get_cancel_drop_one_pending_reader.
TEST(Queues, Q005_ACancelledReaderDoesNotDropAnItem) {
  vrun([]() -> task<void> {
    cs::queue<int> q;
    auto reader = cs::create_task([&]() -> task<int> { co_return co_await q.get(); });
    co_await cs::sleep(10ms);
    q.put_nowait(1);
    q.put_nowait(2);
    reader.cancel();
    CO_EXPECT_THROW(reader, cs::cancelled_error);
    int v = co_await q.get();
    EXPECT_EQ(v, 1);  // 2 would mean 1 was dropped
    EXPECT_EQ(q.qsize(), 1u);
    EXPECT_EQ(q.getter_count(), 0u);
  }());
}

// test_queues.py::QueueGetTests::test_cancelled_getters_not_being_held_in_self_getters.
TEST(Queues, Q005_CancelledGettersAreNotKeptInLine) {
  vrun([]() -> task<void> {
    cs::queue<int> q;
    std::vector<cs::task_handle<int>> ts;
    for (int i = 0; i < 3; ++i) ts.push_back(cs::create_task([&]() -> task<int> { co_return co_await q.get(); }));
    co_await cs::sleep(0ms);
    EXPECT_EQ(q.getter_count(), 3u);
    for (auto& t : ts) t.cancel();
    co_await cs::gather(cs::return_exceptions, std::move(ts));
    EXPECT_EQ(q.getter_count(), 0u);
  }());
}

// The putter side of the same race (test_queues.py::QueuePutTests::test_cancelled_put_silence_value_error
// and friends): a putter woken by a get and then cancelled hands its slot to the next putter.
TEST(Queues, Q005_APutterCancelledAfterBeingWokenPassesTheFreeSlotOn) {
  trace L;
  vrun([&]() -> task<void> {
    cs::queue<std::string> q(1);
    q.put_nowait("x");
    auto putter = [&](std::string n) {
      return cs::create_task([&q, &L, n]() -> task<void> {
        try {
          co_await q.put(n);
        } catch (const cs::cancelled_error&) {
          L.push_back(n + " cancelled");
          throw;
        }
        L.push_back(n + " put");
      });
    };
    auto a = putter("a");
    auto b = putter("b");
    co_await cs::sleep(0ms);
    L.push_back("got " + q.get_nowait());
    a.cancel();
    co_await cs::gather(cs::return_exceptions, a, b);
    L.push_back("qsize " + std::to_string(q.qsize()));
    L.push_back("holds " + q.get_nowait());
    EXPECT_EQ(q.putter_count(), 0u);
  }());
  EXPECT_EQ(L, (trace{"got x", "a cancelled", "b put", "qsize 1", "holds b"}));
}

TEST(Queues, Q006_PutNowaitWakesAGetterButDoesNotReserveTheItem) {
  trace L;
  vrun([&]() -> task<void> {
    cs::queue<std::string> q;
    auto g = cs::create_task([&]() -> task<void> {
      std::string v = co_await q.get();
      L.push_back("sleeping getter got " + v);
    });
    co_await cs::sleep(0ms);
    q.put_nowait("x");
    L.push_back("get_nowait by another task steals " + q.get_nowait());
    co_await cs::sleep(0ms);  // g wakes, finds the queue empty, waits again
    EXPECT_EQ(q.getter_count(), 1u);
    q.put_nowait("y");
    co_await g;
  }());
  EXPECT_EQ(L, (trace{"get_nowait by another task steals x", "sleeping getter got y"}));
}

// The woken getter re-queues when it runs, so a getter that was already waiting behind it is served first
// (CPython appends a fresh future inside the `while self.empty()` loop).
TEST(Queues, Q006_AWokenGetterThatFindsTheItemGoneWaitsAgainAtTheBackOfTheLine) {
  trace L;
  vrun([&]() -> task<void> {
    cs::queue<int> q;
    auto getter = [&](std::string n) {
      return cs::create_task([&q, &L, n]() -> task<void> {
        const int v = co_await q.get();
        L.push_back(n + " got " + std::to_string(v));
      });
    };
    auto a = getter("a");
    auto b = getter("b");
    co_await cs::sleep(0ms);
    q.put_nowait(1);  // wakes a
    L.push_back("stolen " + std::to_string(q.get_nowait()));
    co_await cs::sleep(0ms);  // a runs, finds the queue empty and queues again, now behind b
    EXPECT_EQ(q.getter_count(), 2u);
    q.put_nowait(2);
    q.put_nowait(3);
    co_await cs::gather(a, b);
  }());
  EXPECT_EQ(L, (trace{"stolen 1", "b got 2", "a got 3"}));
}

// Getters a, b, c wait; b is cancelled; the items go to a and c in that order and b's place is dropped,
// whether or not b has run since (CPython's _wakeup_next pops and skips the cancelled future).
TEST(Queues, Q005_FifoWakeUpSkipsACancelledGetterInTheMiddle) {
  trace L;
  vrun([&]() -> task<void> {
    cs::queue<int> q;
    auto getter = [&](std::string n) {
      return cs::create_task([&q, &L, n]() -> task<void> {
        try {
          L.push_back(n + " got " + std::to_string(co_await q.get()));
        } catch (const cs::cancelled_error& e) {
          L.push_back(n + " cancelled: " + e.message());
          throw;
        }
      });
    };
    auto a = getter("a");
    auto b = getter("b");
    auto c = getter("c");
    co_await cs::sleep(0ms);
    b.cancel("not needed");
    EXPECT_EQ(q.getter_count(), 3u);  // b leaves the line when it runs
    q.put_nowait(1);
    q.put_nowait(2);
    L.push_back("put 1 2");
    co_await cs::gather(cs::return_exceptions, a, b, c);
    EXPECT_EQ(q.getter_count(), 0u);
    EXPECT_EQ(q.qsize(), 0u);
  }());
  // b's wake-up (its cancellation) was queued before a's and c's.
  EXPECT_EQ(L, (trace{"put 1 2", "b cancelled: not needed", "a got 1", "c got 2"}));
}

// asyncio's `await q.get()` on a non-empty queue (and `await q.put(x)` with room) does not suspend: no other
// task runs in between.
TEST(Queues, Q003_GetWithAnItemAndPutWithRoomDoNotYield) {
  trace L;
  vrun([&]() -> task<void> {
    cs::queue<int> q(2);
    q.put_nowait(7);
    auto other = cs::create_task([&]() -> task<void> {
      L.push_back("other");
      co_return;
    });
    L.push_back("got " + std::to_string(co_await q.get()));
    co_await q.put(8);
    L.push_back("put 8");
    co_await other;
  }());
  EXPECT_EQ(L, (trace{"got 7", "put 8", "other"}));
}

// A blocked get resumes through the loop like asyncio's future wake-up: after what was already ready when
// put_nowait() ran, and before what is scheduled later.
TEST(Queues, Q003_ABlockedGetResumesAfterTheCallbacksReadyBeforeThePut) {
  trace L;
  vrun([&]() -> task<void> {
    cs::queue<int> q;
    auto g = cs::create_task([&]() -> task<void> { L.push_back("get " + std::to_string(co_await q.get())); });
    co_await cs::sleep(0ms);
    auto x = cs::create_task([&]() -> task<void> {
      L.push_back("x");
      co_return;
    });
    q.put_nowait(1);
    L.push_back("put");
    auto y = cs::create_task([&]() -> task<void> {
      L.push_back("y");
      co_return;
    });
    co_await cs::gather(g, x, y);
  }());
  EXPECT_EQ(L, (trace{"put", "x", "get 1", "y"}));
}

task<int> get_as_task(cs::queue<int>& q) { return q.get(); }

// get() and put() go everywhere the task<T> they used to return went.
TEST(Queues, GetAndPutWorkWithCreateTaskGatherWaitForShieldAndAsTask) {
  vrun([&]() -> task<void> {
    cs::queue<int> q(1);
    auto getter = cs::create_task(q.get());
    auto putter = cs::create_task(q.put(1));
    CO_EXPECT_EQ(getter, 1);
    co_await putter;

    auto both = cs::gather(q.get(), q.get());
    co_await cs::sleep(0ms);
    EXPECT_EQ(q.getter_count(), 2u);
    q.put_nowait(2);
    co_await q.put(3);  // full: waits until the first getter has taken 2
    CO_EXPECT_EQ(std::move(both), (std::tuple<int, int>{2, 3}));

    CO_EXPECT_THROW(cs::wait_for(q.get(), 10ms), cs::timeout_error);
    EXPECT_EQ(q.getter_count(), 0u);  // the cancelled get left the line
    q.put_nowait(4);
    CO_EXPECT_EQ(cs::wait_for(q.get(), 10ms), 4);
    q.put_nowait(5);
    CO_EXPECT_THROW(cs::wait_for(q.put(6), 10ms), cs::timeout_error);
    CO_EXPECT_EQ(cs::shield(q.get()), 5);

    std::vector<task<int>> gets;
    gets.push_back(q.get());
    gets.push_back(get_as_task(q));
    auto all = cs::gather(std::move(gets));
    q.put_nowait(6);
    co_await q.put(7);
    CO_EXPECT_EQ(std::move(all), (std::vector<int>{6, 7}));

    auto via_loop = cs::get_running_loop().create_task(q.get());
    auto converted = cs::get_running_loop().create_task(task<int>(q.get()), "converted");
    q.put_nowait(8);
    CO_EXPECT_EQ(via_loop, 8);
    q.put_nowait(9);
    CO_EXPECT_EQ(converted, 9);
    EXPECT_EQ(converted.get_name(), "converted");

    cs::task_group tg;
    co_await cs::async_with(tg, [&](cs::task_group& g) -> task<void> {
      auto in_group = g.create_task(q.get(), "in-group");
      q.put_nowait(10);
      CO_EXPECT_EQ(in_group, 10);
      EXPECT_EQ(in_group.get_name(), "in-group");
    });
  }());
}

// run() takes a queue or lock operation as its main coroutine, as asyncio.run takes any coroutine.
TEST(Queues, RunTakesAQueueOperationAsItsMain) {
  cs::queue<int> q;
  q.put_nowait(42);
  EXPECT_EQ(cs::run(q.get(), {cs::clock_kind::virtual_time}), 42);
  cs::event ev;
  ev.set();
  EXPECT_TRUE(cs::run(ev.wait(), {cs::clock_kind::virtual_time}));
}

task<void> get_one(cs::queue<int>& q) { co_await q.get(); }

// get() and put() that go through at once allocate nothing; a blocked one at most its waiting frame (no
// future, no frame for the call itself). Run on a fresh thread, whose frame pool is empty, so that every
// allocation reaches operator new.
TEST(Queues, GetAndPutAllocateAtMostOneFramePerBlockedCall) {
  long unblocked = -1;
  long blocked = -1;
  std::thread([&] {
    vrun([&]() -> task<void> {
      cs::queue<int> q(1);
      {
        allocation_count heap;
        for (int i = 0; i < 100; ++i) {
          co_await q.put(i);
          co_await q.get();
        }
        unblocked = heap.so_far();
      }
      std::vector<cs::task_handle<void>> ts;
      ts.reserve(10);
      for (int i = 0; i < 10; ++i) ts.push_back(cs::create_task(get_one(q)));
      allocation_count heap;
      co_await cs::sleep(0ms);  // 10 getters park
      const bool parked = q.getter_count() == 10;
      // 10 putters: the first wakes a getter, the next ones find the queue full until the getters run
      for (int i = 0; i < 10; ++i) co_await q.put(i);
      for (auto& t : ts) co_await t;
      blocked = parked ? heap.so_far() : -1;
    }());
  }).join();
  EXPECT_EQ(unblocked, 0);
  EXPECT_GE(blocked, 0);
  EXPECT_LE(blocked, 19);  // 10 blocked gets, 9 blocked puts
}

// Python 3.13 added Queue.shutdown() and QueueShutDown; coroscope mirrors 3.11, where they do not exist.
template <class Q>
constexpr bool has_shutdown = requires(Q& q) { q.shutdown(); };

TEST(Queues, Q008_ShutdownIsAbsentAsInPython311) {
  EXPECT_FALSE(has_shutdown<cs::queue<int>>);
  EXPECT_FALSE(has_shutdown<cs::priority_queue<int>>);
}

TEST(Queues, MoveOnlyItemsPassThrough) {
  vrun([]() -> task<void> {
    cs::queue<std::unique_ptr<int>> q(1);
    co_await q.put(std::make_unique<int>(41));
    auto t = cs::create_task([&]() -> task<void> { co_await q.put(std::make_unique<int>(42)); });
    std::unique_ptr<int> a = co_await q.get();
    co_await t;
    std::unique_ptr<int> b = q.get_nowait();
    EXPECT_EQ(*a, 41);
    EXPECT_EQ(*b, 42);
  }());
}

// A queue destroyed while tasks still wait on it: run()'s shutdown cancels them after main returned.
TEST(Queues, AQueueIsSafeToDestroyWhileTasksStillWaitOnIt) {
  trace L;
  vrun([&]() -> task<void> {
    auto q = std::make_unique<cs::queue<int>>(1);
    q->put_nowait(1);
    cs::create_task([&L, p = q->put(2)]() mutable -> task<void> {
      try {
        co_await std::move(p);
      } catch (const cs::cancelled_error&) {
        L.push_back("putter cancelled");
        throw;
      }
    });
    auto empty = std::make_unique<cs::lifo_queue<int>>();
    cs::create_task([g = empty->get()]() mutable -> task<void> { (void)co_await std::move(g); });
    co_await cs::sleep(0ms);
    L.push_back("main returns");
  }());
  EXPECT_EQ(L, (trace{"main returns", "putter cancelled"}));
}

// The producer/consumer shape of the docs' example: three workers drain a bounded queue.
TEST(Queues, WorkersDrainABoundedQueue) {
  trace L;
  vrun([&]() -> task<void> {
    cs::queue<int> q(2);
    int total = 0;
    std::vector<cs::task_handle<void>> workers;
    for (int w = 0; w < 3; ++w)
      workers.push_back(cs::create_task([&]() -> task<void> {
        for (;;) {
          int v = co_await q.get();
          co_await cs::sleep(std::chrono::milliseconds(v));
          total += v;
          q.task_done();
        }
      }));
    for (int v = 1; v <= 9; ++v) co_await q.put(v);
    co_await q.join();
    L.push_back(at("all done " + std::to_string(total)));
    for (auto& w : workers) w.cancel();
    co_await cs::gather(cs::return_exceptions, std::move(workers));
  }());
  EXPECT_EQ(L, (trace{"all done 45@18"}));
}

}  // namespace
