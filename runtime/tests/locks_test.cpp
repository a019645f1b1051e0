// Synchronization primitives (SYN) of docs/semantics.md. Expected traces are CPython 3.11.7's.
#include "support.hpp"

#include "alloc_count.hpp"

#include <thread>

namespace {

std::string flag(bool b) { return b ? "True" : "False"; }

// `async with lk:` around a log line, holding the lock across a sleep.
template <class Lockable>
task<void> hold(Lockable& lk, trace& L, std::string what, std::chrono::milliseconds d = 0ms) {
  co_await lk.acquire();
  L.push_back(what);
  if (d > 0ms) co_await cs::sleep(d);
  lk.release();
}

// ---- Lock ------------------------------------------------------------------------------------------------

TEST(Locks, SYN001_LockIsFifo) {
  trace L;
  vrun([&]() -> task<void> {
    cs::lock lk;
    co_await lk.acquire();
    std::vector<cs::task_handle<void>> ts;
    for (std::string n : {"a", "b", "c", "d"}) ts.push_back(cs::create_task(hold(lk, L, n)));
    co_await cs::sleep(0ms);
    EXPECT_EQ(lk.waiter_count(), 4u);
    lk.release();
    co_await cs::gather(std::move(ts));
    EXPECT_FALSE(lk.locked());
    EXPECT_EQ(lk.waiter_count(), 0u);
  }());
  EXPECT_EQ(L, (trace{"a", "b", "c", "d"}));
}

task<void> twice(cs::lock& lk, trace& L, std::string n) {
  for (int i = 1; i <= 2; ++i) {
    co_await cs::async_with(lk, [&]() -> task<void> {
      L.push_back(n + "_" + std::to_string(i));
      co_await cs::sleep(10ms);
    });
  }
}

TEST(Locks, SYN001_AReleasingTaskThatReacquiresGoesToTheBack) {
  trace L;
  vrun([&]() -> task<void> {
    cs::lock lk;
    co_await cs::gather(twice(lk, L, "c1"), twice(lk, L, "c2"), twice(lk, L, "c3"));
  }());
  EXPECT_EQ(L, (trace{"c1_1", "c2_1", "c3_1", "c1_2", "c2_2", "c3_2"}));
}

// SYN-002's scenario on a held lock or semaphore: a waiter queues, the holder releases, and a newcomer
// arrives at once: a new task, or the releasing task itself.
template <class Lockable>
task<void> release_then_newcomer(Lockable& lk, trace& L, std::string noun, bool releaser_is_newcomer) {
  co_await lk.acquire();
  auto w = cs::create_task(hold(lk, L, "waiter got " + noun));
  co_await cs::sleep(0ms);
  lk.release();
  if (releaser_is_newcomer) {
    co_await hold(lk, L, "main got " + noun);
    co_await w;
  } else {
    auto b = cs::create_task(hold(lk, L, "barger got " + noun));
    co_await cs::gather(w, b);
  }
}

TEST(Locks, SYN002_AfterReleaseTheWokenWaiterGetsTheLockBeforeANewcomer) {
  trace L;
  vrun([&]() -> task<void> {
    cs::lock lk;
    co_await release_then_newcomer(lk, L, "lock", false);
    cs::semaphore sem(1);
    co_await release_then_newcomer(sem, L, "sem", false);
  }());
  EXPECT_EQ(L, (trace{"waiter got lock", "barger got lock", "waiter got sem", "barger got sem"}));
}

TEST(Locks, SYN002_TheReleasingTaskCannotTakeTheLockBackBeforeTheWokenWaiter) {
  trace L;
  vrun([&]() -> task<void> {
    cs::lock lk;
    co_await release_then_newcomer(lk, L, "lock", true);
    cs::semaphore sem(1);
    co_await release_then_newcomer(sem, L, "sem", true);
  }());
  EXPECT_EQ(L, (trace{"waiter got lock", "main got lock", "waiter got sem", "main got sem"}));
}

TEST(Locks, SYN002_AnUncontendedAcquireCompletesWithoutSuspending) {
  trace L;
  vrun([&]() -> task<void> {
    cs::lock lk;
    auto other = cs::create_task([&]() -> task<void> {
      L.push_back("other ran");
      co_return;
    });
    bool r = co_await lk.acquire();
    L.push_back("acquired " + flag(r) + " locked " + flag(lk.locked()));
    co_await other;
  }());
  EXPECT_EQ(L, (trace{"acquired True locked True", "other ran"}));
}

// A Lock waiter that logs how its acquire() ended.
task<void> logged_acquire(cs::lock& lk, trace& L, std::string n, std::string when_cancelled) {
  try {
    co_await lk.acquire();
  } catch (const cs::cancelled_error&) {
    L.push_back(n + " cancelled " + when_cancelled);
    throw;
  }
  L.push_back(n + " acquired");
  lk.release();
}

// Waiters a, b, c; b is cancelled before the release: the lock goes to a, then past b to c.
TEST(Locks, SYN003_AWaiterCancelledInTheMiddleOfTheLineIsSkipped) {
  trace L;
  vrun([&]() -> task<void> {
    cs::lock lk;
    co_await lk.acquire();
    auto a = cs::create_task(logged_acquire(lk, L, "a", "waiting"));
    auto b = cs::create_task(logged_acquire(lk, L, "b", "waiting"));
    auto c = cs::create_task(logged_acquire(lk, L, "c", "waiting"));
    co_await cs::sleep(0ms);
    EXPECT_EQ(lk.waiter_count(), 3u);
    b.cancel();
    lk.release();
    co_await cs::gather(cs::return_exceptions, a, b, c);
    EXPECT_EQ(lk.waiter_count(), 0u);
    EXPECT_FALSE(lk.locked());
  }());
  EXPECT_EQ(L, (trace{"b cancelled waiting", "a acquired", "c acquired"}));
}

task<bool> acquire_as_task(cs::lock& lk) { return lk.acquire(); }

// acquire() goes everywhere the task<bool> it used to return went.
TEST(Locks, SYN002_AcquireWorksWithCreateTaskWaitForAndAsyncWith) {
  trace L;
  vrun([&]() -> task<void> {
    cs::lock lk;
    auto first = cs::create_task(lk.acquire());
    CO_EXPECT_EQ(first, true);
    CO_EXPECT_THROW(cs::wait_for(lk.acquire(), 10ms), cs::timeout_error);
    EXPECT_EQ(lk.waiter_count(), 0u);
    auto second = cs::create_task(acquire_as_task(lk));
    co_await cs::sleep(0ms);
    lk.release();
    CO_EXPECT_EQ(second, true);
    lk.release();
    co_await cs::async_with(lk, [&]() -> task<void> {
      L.push_back("body holds " + flag(lk.locked()));
      co_return;
    });
    L.push_back("after " + flag(lk.locked()));
  }());
  EXPECT_EQ(L, (trace{"body holds True", "after False"}));
}

TEST(Locks, SYN003_AWaiterCancelledWhileWaitingNeverHoldsTheLock) {
  trace L;
  vrun([&]() -> task<void> {
    cs::lock lk;
    co_await lk.acquire();
    auto a = cs::create_task(logged_acquire(lk, L, "a", "while waiting"));
    auto b = cs::create_task(logged_acquire(lk, L, "b", "while waiting"));
    co_await cs::sleep(0ms);
    a.cancel();
    co_await cs::sleep(0ms);
    lk.release();
    co_await cs::gather(cs::return_exceptions, a, b);
    L.push_back("locked at end " + flag(lk.locked()));
    EXPECT_TRUE(a.cancelled());
  }());
  EXPECT_EQ(L, (trace{"a cancelled while waiting", "b acquired", "locked at end False"}));
}

TEST(Locks, SYN003_AWaiterCancelledAfterBeingWokenPassesTheLockOn) {
  trace L;
  vrun([&]() -> task<void> {
    cs::lock lk;
    co_await lk.acquire();
    auto a = cs::create_task(logged_acquire(lk, L, "a", "after being woken"));
    auto b = cs::create_task(logged_acquire(lk, L, "b", "after being woken"));
    co_await cs::sleep(0ms);
    lk.release();
    a.cancel();  // same step: a's future already has its result
    co_await cs::gather(cs::return_exceptions, a, b);
    L.push_back("locked at end " + flag(lk.locked()));
    EXPECT_EQ(lk.waiter_count(), 0u);
  }());
  EXPECT_EQ(L, (trace{"a cancelled after being woken", "b acquired", "locked at end False"}));
}

// test_locks.py::LockTests::test_cancel_race: the head waiter is cancelled while the lock is free again.
TEST(Locks, SYN003_CancellingTheHeadWaiterWhileTheLockIsFreeWakesTheNext) {
  trace L;
  vrun([&]() -> task<void> {
    cs::lock lk;
    co_await lk.acquire();
    auto a = cs::create_task(logged_acquire(lk, L, "a", ""));
    auto b = cs::create_task(logged_acquire(lk, L, "b", ""));
    auto c = cs::create_task(logged_acquire(lk, L, "c", ""));
    co_await cs::sleep(0ms);
    b.cancel();  // cancelled in the middle of the line: it never held the lock
    lk.release();
    a.cancel();  // woken, then cancelled before running: the lock goes to c
    co_await cs::gather(cs::return_exceptions, a, b, c);
    EXPECT_TRUE(a.cancelled());
    EXPECT_TRUE(b.cancelled());
    EXPECT_FALSE(lk.locked());
  }());
  // b's cancellation was scheduled first; a, woken and cancelled, passes the wake-up to c.
  EXPECT_EQ(L, (trace{"b cancelled ", "a cancelled ", "c acquired"}));
}

// test_locks.py::LockTests::test_finished_waiter_cancelled: a newcomer finds the lock free, but the head of
// the line is a woken waiter (cancelled after its wake-up, not yet run): it queues behind, and gets the
// lock when that waiter passes it on.
TEST(Locks, SYN003_ANewcomerQueuesBehindAWokenWaiterEvenOnceThatWaiterIsCancelled) {
  trace L;
  vrun([&]() -> task<void> {
    cs::lock lk;
    co_await lk.acquire();
    auto b = cs::create_task(logged_acquire(lk, L, "b", ""));
    co_await cs::sleep(0ms);
    auto c = cs::create_task(logged_acquire(lk, L, "c", ""));
    lk.release();
    b.cancel();
    co_await cs::gather(cs::return_exceptions, b, c);
    EXPECT_FALSE(lk.locked());
  }());
  EXPECT_EQ(L, (trace{"b cancelled ", "c acquired"}));
}

TEST(Locks, SYN002_AFreeLockIsTakenAtOnceWhenEveryWaiterInLineIsCancelled) {
  trace L;
  vrun([&]() -> task<void> {
    cs::lock lk;
    co_await lk.acquire();
    auto c = cs::create_task(logged_acquire(lk, L, "c", ""));
    co_await cs::sleep(0ms);
    c.cancel();  // forwarded to c's future at once; c itself has not run yet
    lk.release();
    bool r = co_await lk.acquire();  // the fast path: nobody in line can take it
    L.push_back("main " + flag(r));
    co_await cs::gather(cs::return_exceptions, c);
    EXPECT_TRUE(lk.locked());
  }());
  EXPECT_EQ(L, (trace{"main True", "c cancelled "}));
}

TEST(Locks, SYN004_ReleasingAnUnlockedLockThrows) {
  cs::lock lk;
  EXPECT_THROW(lk.release(), std::runtime_error);
  try {
    lk.release();
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "Lock is not acquired.");
  }
}

TEST(Locks, SYN004_AsyncWithReleasesTheLockAfterAnException) {
  vrun([]() -> task<void> {
    cs::lock lk;
    bool inside = false;
    bool raised = false;
    try {
      co_await cs::async_with(lk, [&]() -> task<void> {
        inside = lk.locked();
        throw std::out_of_range("boom");
        co_return;
      });
    } catch (const std::out_of_range&) {
      raised = true;
    }
    EXPECT_TRUE(inside);
    EXPECT_TRUE(raised);
    EXPECT_FALSE(lk.locked());
  }());
}

// ---- Event -----------------------------------------------------------------------------------------------

task<void> log_wait(cs::event& ev, trace& L, std::string n) {
  bool r = co_await ev.wait();
  L.push_back(n + " " + flag(r));
}

TEST(Locks, SYN005_SetWakesEveryWaiterAndTheyRunAfterSetReturns) {
  trace L;
  vrun([&]() -> task<void> {
    cs::event ev;
    std::vector<cs::task_handle<void>> ts;
    for (std::string n : {"a", "b", "c"}) ts.push_back(cs::create_task(log_wait(ev, L, n)));
    co_await cs::sleep(0ms);
    ev.set();
    L.push_back("set() returned");
    co_await cs::gather(std::move(ts));
  }());
  EXPECT_EQ(L, (trace{"set() returned", "a True", "b True", "c True"}));
}

TEST(Locks, SYN005_WaitOnASetEventReturnsAtOnceAndClearResetsTheFlag) {
  trace L;
  vrun([&]() -> task<void> {
    cs::event ev;
    EXPECT_FALSE(ev.is_set());
    ev.set();
    auto other = cs::create_task([&]() -> task<void> {
      L.push_back("other ran");
      co_return;
    });
    bool r = co_await ev.wait();  // no suspension: other has not run yet
    L.push_back("wait " + flag(r));
    EXPECT_TRUE(ev.is_set());
    ev.clear();
    EXPECT_FALSE(ev.is_set());
    co_await other;
  }());
  EXPECT_EQ(L, (trace{"wait True", "other ran"}));
}

TEST(Locks, SYN006_SetImmediatelyFollowedByClearStillReleasesTheWaiters) {
  trace L;
  vrun([&]() -> task<void> {
    cs::event ev;
    auto t = cs::create_task(log_wait(ev, L, "woke"));
    co_await cs::sleep(0ms);
    ev.set();
    ev.clear();
    co_await cs::sleep(0ms);
    EXPECT_TRUE(t.done());
    EXPECT_FALSE(ev.is_set());
  }());
  EXPECT_EQ(L, (trace{"woke True"}));
}

TEST(Locks, SYN006_ACancelledWaitLeavesNoWaiterBehind) {
  vrun([]() -> task<void> {
    cs::event ev;
    auto t = cs::create_task([&]() -> task<bool> { co_return co_await ev.wait(); });
    co_await cs::sleep(0ms);
    EXPECT_EQ(ev.waiter_count(), 1u);
    t.cancel();
    CO_EXPECT_THROW(t, cs::cancelled_error);
    EXPECT_EQ(ev.waiter_count(), 0u);
  }());
}

// create_task(ev.wait()), and Task.cancel(msg) reaching the wait with its message.
TEST(Locks, SYN006_ACancelledWaitRaisesTheCancelMessage) {
  vrun([]() -> task<void> {
    cs::event ev;
    auto t = cs::create_task(ev.wait());
    co_await cs::sleep(0ms);
    t.cancel("stop waiting");
    std::string message = "<not cancelled>";
    try {
      co_await t;
    } catch (const cs::cancelled_error& e) {
      message = e.message();
    }
    EXPECT_EQ(message, "stop waiting");
    EXPECT_EQ(ev.waiter_count(), 0u);
    auto u = cs::create_task(ev.wait());
    co_await cs::sleep(0ms);
    ev.set();
    CO_EXPECT_EQ(u, true);
  }());
}

TEST(Locks, SYN006_EventWaitWorksUnderWaitFor) {
  trace L;
  vrun([&]() -> task<void> {
    cs::event ev;
    CO_EXPECT_THROW(cs::wait_for(ev.wait(), 10ms), cs::timeout_error);
    L.push_back(at("timed out"));
    EXPECT_EQ(ev.waiter_count(), 0u);
    cs::get_running_loop().call_later(5ms, [&] { ev.set(); });
    bool r = co_await cs::wait_for(ev.wait(), 10ms);
    L.push_back(at("set " + flag(r)));
  }());
  EXPECT_EQ(L, (trace{"timed out@10", "set True@15"}));
}

// ---- Semaphore -------------------------------------------------------------------------------------------

task<void> sem_worker(cs::semaphore& sem, trace& L, std::string n) {
  co_await cs::async_with(sem, [&]() -> task<void> {
    L.push_back(n + " in");
    co_await cs::sleep(10ms);
    L.push_back(n + " out");
  });
}

// A semaphore with a free unit and nobody in line is acquired without suspending.
TEST(Locks, SYN007_AnAvailableSemaphoreIsAcquiredWithoutSuspending) {
  trace L;
  vrun([&]() -> task<void> {
    cs::semaphore sem(1);
    auto other = cs::create_task([&]() -> task<void> {
      L.push_back("other ran");
      co_return;
    });
    bool r = co_await sem.acquire();
    L.push_back("acquired " + flag(r) + " value " + std::to_string(sem.value()));
    co_await other;
  }());
  EXPECT_EQ(L, (trace{"acquired True value 0", "other ran"}));
}

// Waiters a, b, c on Semaphore(0); b is cancelled; two releases admit a and c, in that order.
TEST(Locks, SYN007_ACancelledWaiterInTheMiddleIsSkippedInFifoOrder) {
  trace L;
  vrun([&]() -> task<void> {
    cs::semaphore sem(0);
    auto waiter = [&](std::string n) {
      return cs::create_task([&sem, &L, n]() -> task<void> {
        try {
          co_await sem.acquire();
        } catch (const cs::cancelled_error&) {
          L.push_back(n + " cancelled");
          throw;
        }
        L.push_back(n + " acquired");
      });
    };
    auto a = waiter("a");
    auto b = waiter("b");
    auto c = waiter("c");
    co_await cs::sleep(0ms);
    b.cancel();
    sem.release();
    sem.release();
    co_await cs::gather(cs::return_exceptions, a, b, c);
    L.push_back("value " + std::to_string(sem.value()) + " waiters " + std::to_string(sem.waiter_count()));
  }());
  EXPECT_EQ(L, (trace{"b cancelled", "a acquired", "c acquired", "value 0 waiters 0"}));
}

TEST(Locks, SYN007_ASemaphoreBoundsConcurrency) {
  trace L;
  vrun([&]() -> task<void> {
    cs::semaphore sem(2);
    co_await cs::gather(sem_worker(sem, L, "a"), sem_worker(sem, L, "b"), sem_worker(sem, L, "c"),
                        sem_worker(sem, L, "d"));
    EXPECT_EQ(sem.value(), 2);
  }());
  EXPECT_EQ(L, (trace{"a in", "b in", "a out", "b out", "c in", "d in", "c out", "d out"}));
}

TEST(Locks, SYN007_ASemaphoreWakesWaitersInFifoOrder) {
  trace L;
  vrun([&]() -> task<void> {
    cs::semaphore sem(0);
    std::vector<cs::task_handle<void>> ts;
    for (std::string n : {"a", "b", "c"})
      ts.push_back(cs::create_task([&sem, &L, n]() -> task<void> {
        co_await sem.acquire();
        L.push_back(n);
      }));
    co_await cs::sleep(0ms);
    sem.release();
    sem.release();
    sem.release();
    co_await cs::gather(std::move(ts));
    EXPECT_EQ(sem.value(), 0);
  }());
  EXPECT_EQ(L, (trace{"a", "b", "c"}));
}

task<void> sem_twice(cs::semaphore& sem, trace& L, std::string n) {
  for (int i = 1; i <= 2; ++i) {
    co_await cs::async_with(sem, [&]() -> task<void> {
      L.push_back(n + "_" + std::to_string(i));
      co_await cs::sleep(10ms);
    });
  }
}

TEST(Locks, SYN007_ASemaphoreReacquireGoesToTheBackOfTheLine) {
  trace L;
  vrun([&]() -> task<void> {
    cs::semaphore sem(1);
    co_await cs::gather(sem_twice(sem, L, "c1"), sem_twice(sem, L, "c2"), sem_twice(sem, L, "c3"));
  }());
  EXPECT_EQ(L, (trace{"c1_1", "c2_1", "c3_1", "c1_2", "c2_2", "c3_2"}));
}

// test_locks.py::SemaphoreTests::test_acquire_cancel_before_awoken / test_acquire_hang: a waiter woken
// and then cancelled gives its unit back to the next in line.
TEST(Locks, SYN007_AWaiterCancelledAfterBeingWokenPassesTheUnitOn) {
  trace L;
  vrun([&]() -> task<void> {
    cs::semaphore sem(0);
    auto a = cs::create_task([&]() -> task<void> {
      co_await sem.acquire();
      L.push_back("a acquired");
    });
    auto b = cs::create_task([&]() -> task<void> {
      co_await sem.acquire();
      L.push_back("b acquired");
      sem.release();
    });
    co_await cs::sleep(0ms);
    sem.release();
    EXPECT_EQ(sem.value(), 0);  // promised to a
    a.cancel();
    co_await cs::gather(cs::return_exceptions, a, b);
    EXPECT_TRUE(a.cancelled());
    EXPECT_EQ(sem.value(), 1);
    EXPECT_FALSE(sem.locked());
    EXPECT_EQ(sem.waiter_count(), 0u);
  }());
  EXPECT_EQ(L, (trace{"b acquired"}));
}

TEST(Locks, SYN008_SemaphoreValueRules) {
  EXPECT_THROW(cs::semaphore(-1), std::invalid_argument);
  EXPECT_THROW(cs::bounded_semaphore(-1), std::invalid_argument);
  EXPECT_TRUE(cs::semaphore(0).locked());
  EXPECT_FALSE(cs::semaphore(1).locked());
  cs::semaphore sem(1);
  sem.release();  // more releases than acquires are allowed
  EXPECT_EQ(sem.value(), 2);
  cs::bounded_semaphore bsem(1);
  EXPECT_THROW(bsem.release(), std::invalid_argument);
  try {
    bsem.release();
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "BoundedSemaphore released too many times");
  }
  cs::semaphore& as_base = bsem;  // the bound holds through the base class too
  EXPECT_THROW(as_base.release(), std::invalid_argument);
  EXPECT_EQ(bsem.value(), 1);
}

TEST(Locks, SYN008_ABoundedSemaphoreReleasesUpToItsInitialValue) {
  vrun([]() -> task<void> {
    cs::bounded_semaphore sem(2);
    co_await sem.acquire();
    co_await sem.acquire();
    EXPECT_TRUE(sem.locked());
    sem.release();
    sem.release();
    EXPECT_EQ(sem.value(), 2);
    EXPECT_THROW(sem.release(), std::invalid_argument);
  }());
}

// ---- Condition -------------------------------------------------------------------------------------------

task<void> cond_waiter(cs::condition& cond, trace& L, std::string n) {
  co_await cs::async_with(cond, [&]() -> task<void> {
    bool r = co_await cond.wait();
    L.push_back(n + " " + flag(r) + " locked " + flag(cond.locked()));
  });
}

TEST(Locks, SYN009_NotifyWakesNWaitersInFifoOrderAndNotifyAllTheRest) {
  trace L;
  vrun([&]() -> task<void> {
    cs::condition cond;
    std::vector<cs::task_handle<void>> ts;
    for (std::string n : {"a", "b", "c", "d"}) ts.push_back(cs::create_task(cond_waiter(cond, L, n)));
    co_await cs::sleep(0ms);
    EXPECT_EQ(cond.waiter_count(), 4u);
    co_await cs::async_with(cond, [&]() -> task<void> {
      cond.notify(2);
      co_return;
    });
    L.push_back("notify(2) done");
    co_await cs::sleep(10ms);
    L.push_back("--notify_all--");
    co_await cs::async_with(cond, [&]() -> task<void> {
      cond.notify_all();
      co_return;
    });
    co_await cs::gather(std::move(ts));
    EXPECT_FALSE(cond.locked());
    EXPECT_EQ(cond.waiter_count(), 0u);
  }());
  EXPECT_EQ(L, (trace{"notify(2) done", "a True locked True", "b True locked True", "--notify_all--",
                      "c True locked True", "d True locked True"}));
}

TEST(Locks, SYN010_WaitAndNotifyWithoutTheLockThrow) {
  vrun([]() -> task<void> {
    cs::condition cond;
    CO_EXPECT_THROW(cond.wait(), std::runtime_error);
    EXPECT_THROW(cond.notify(), std::runtime_error);
    EXPECT_THROW(cond.notify_all(), std::runtime_error);
    try {
      cond.notify();
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "cannot notify on un-acquired lock");
    }
    EXPECT_FALSE(cond.locked());
  }());
}

TEST(Locks, SYN010_WaitForReturnsThePredicatesFinalValue) {
  trace L;
  vrun([&]() -> task<void> {
    cs::condition cond;
    int presses = 0;
    // Python's falsy '' becomes an empty optional.
    auto t = cs::create_task([&]() -> task<std::optional<std::string>> {
      co_return co_await cs::async_with(cond, [&]() -> task<std::optional<std::string>> {
        co_return co_await cond.wait_for([&]() -> std::optional<std::string> {
          L.push_back("pred " + std::to_string(presses));
          if (presses >= 2) return "pred-true";
          return std::nullopt;
        });
      });
    });
    for (int i = 0; i < 2; ++i) {
      co_await cs::sleep(0ms);
      co_await cs::async_with(cond, [&]() -> task<void> {
        ++presses;
        cond.notify_all();
        co_return;
      });
    }
    std::optional<std::string> r = co_await t;
    L.push_back(r.value_or("<none>"));
  }());
  EXPECT_EQ(L, (trace{"pred 0", "pred 1", "pred 2", "pred-true"}));
}

TEST(Locks, SYN010_AConditionCanShareALock) {
  vrun([]() -> task<void> {
    cs::lock lk;
    cs::condition cond(lk);
    co_await lk.acquire();
    EXPECT_TRUE(cond.locked());
    cond.notify();  // allowed: the shared lock is held
    cond.release();
    EXPECT_FALSE(lk.locked());
  }());
}

// 13.12 of the semantics file: a cancelled Condition.wait() re-acquires the lock before raising, even
// when the lock is held by someone else at the time of the cancel.
TEST(Locks, SYN011_ACancelledConditionWaitReacquiresTheLockBeforeRaising) {
  trace L;
  vrun([&]() -> task<void> {
    cs::condition cond;
    auto t = cs::create_task([&]() -> task<void> {
      co_await cs::async_with(cond, [&]() -> task<void> {
        try {
          co_await cond.wait();
        } catch (const cs::cancelled_error&) {
          L.push_back("cancelled, locked " + flag(cond.locked()));
          throw;
        }
      });
    });
    co_await cs::sleep(0ms);
    co_await cond.acquire();
    t.cancel();
    co_await cs::sleep(0ms);
    L.push_back("t done " + flag(t.done()));  // still waiting for the lock
    cond.release();
    co_await cs::gather(cs::return_exceptions, t);
    EXPECT_TRUE(t.cancelled());
    L.push_back("locked " + flag(cond.locked()));
  }());
  EXPECT_EQ(L, (trace{"t done False", "cancelled, locked True", "locked False"}));
}

// test_locks.py::ConditionTests::test_wait_cancel_after_notify: notified, then cancelled before running:
// the wait still ends holding the lock, and raises.
TEST(Locks, SYN011_AWaiterCancelledAfterNotifyStillReacquires) {
  trace L;
  vrun([&]() -> task<void> {
    cs::condition cond;
    auto t = cs::create_task([&]() -> task<void> {
      co_await cond.acquire();
      try {
        co_await cond.wait();
      } catch (const cs::cancelled_error&) {
        L.push_back("cancelled, locked " + flag(cond.locked()));
        cond.release();
        throw;
      }
    });
    co_await cs::sleep(0ms);
    co_await cond.acquire();
    cond.notify();
    cond.release();
    t.cancel();
    co_await cs::gather(cs::return_exceptions, t);
    EXPECT_TRUE(t.cancelled());
    EXPECT_FALSE(cond.locked());
    EXPECT_EQ(cond.waiter_count(), 0u);
  }());
  EXPECT_EQ(L, (trace{"cancelled, locked True"}));
}

// ---- Barrier ---------------------------------------------------------------------------------------------

TEST(Locks, SYN012_ABarrierReturnsADistinctIndexToEachParty) {
  vrun([]() -> task<void> {
    cs::barrier b(3);
    EXPECT_EQ(b.parties(), 3);
    auto w = [&]() -> task<int> { co_return co_await b.wait(); };
    auto t1 = cs::create_task(w);
    auto t2 = cs::create_task(w);
    co_await cs::sleep(0ms);
    EXPECT_EQ(b.n_waiting(), 2);
    int mine = co_await b.wait();
    int r1 = co_await t1;
    int r2 = co_await t2;
    std::vector<int> got{r1, r2, mine};
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, (std::vector<int>{0, 1, 2}));
    EXPECT_EQ(mine, 2);  // the last to arrive
    EXPECT_EQ(b.n_waiting(), 0);
    EXPECT_FALSE(b.broken());
  }());
}

TEST(Locks, SYN012_ABarrierCanBeUsedAgainAfterItDrains) {
  trace L;
  vrun([&]() -> task<void> {
    cs::barrier b(2);
    auto party = [&](std::string n) {
      return cs::create_task([&b, &L, n]() -> task<void> {
        for (int round = 0; round < 2; ++round) {
          int i = co_await b.wait();
          L.push_back(n + std::to_string(round) + ":" + std::to_string(i));
        }
      });
    };
    auto x = party("x");
    auto y = party("y");
    co_await cs::gather(x, y);
    EXPECT_EQ(b.n_waiting(), 0);
  }());
  // The last to arrive does not wait, so it goes on first.
  EXPECT_EQ(L, (trace{"y0:1", "x0:0", "y1:1", "x1:0"}));
}

TEST(Locks, SYN012_AbortBreaksPendingAndLaterWaits) {
  trace L;
  vrun([&]() -> task<void> {
    cs::barrier b(3);
    auto t = cs::create_task([&]() -> task<void> {
      try {
        co_await b.wait();
      } catch (const cs::broken_barrier_error& e) {
        L.push_back(std::string("waiter: ") + e.what());
      }
    });
    co_await cs::sleep(0ms);
    EXPECT_EQ(b.n_waiting(), 1);
    co_await b.abort();
    co_await t;
    EXPECT_TRUE(b.broken());
    EXPECT_EQ(b.n_waiting(), 0);
    try {
      co_await b.wait();
    } catch (const cs::broken_barrier_error& e) {
      L.push_back(std::string("later: ") + e.what());
    }
    co_await b.reset();
    EXPECT_FALSE(b.broken());
  }());
  EXPECT_EQ(L, (trace{"waiter: Abort or reset of barrier", "later: Barrier aborted"}));
}

TEST(Locks, SYN012_ResetBreaksTheCurrentWaitersAndRefills) {
  trace L;
  vrun([&]() -> task<void> {
    cs::barrier b(3);
    auto w = [&]() -> task<void> {
      try {
        co_await b.wait();
        L.push_back("passed");
      } catch (const cs::broken_barrier_error&) {
        L.push_back("broken");
      }
    };
    auto t1 = cs::create_task(w);
    auto t2 = cs::create_task(w);
    co_await cs::sleep(0ms);
    co_await b.reset();
    co_await cs::gather(t1, t2);
    EXPECT_FALSE(b.broken());
    EXPECT_EQ(b.n_waiting(), 0);
    // Usable again: three fresh parties pass.
    auto t3 = cs::create_task(w);
    auto t4 = cs::create_task(w);
    auto t5 = cs::create_task(w);
    co_await cs::gather(t3, t4, t5);
  }());
  EXPECT_EQ(L, (trace{"broken", "broken", "passed", "passed", "passed"}));
}

TEST(Locks, SYN012_AsyncWithABarrierGivesTheIndexAndPartiesMustBePositive) {
  EXPECT_THROW(cs::barrier(0), std::invalid_argument);
  vrun([]() -> task<void> {
    cs::barrier b(1);
    int got = -1;
    co_await cs::async_with(b, [&](int index) -> task<void> {
      got = index;
      co_return;
    });
    EXPECT_EQ(got, 0);
  }());
}

// ---- Lifetimes -------------------------------------------------------------------------------------------

// The primitives may go away while tasks still wait on them: at asyncio.run's shutdown the waiters are
// cancelled after main (which owned the objects) has returned. Under ASan this is where a dangling
// reference would show.
// ---- Memory ----------------------------------------------------------------------------------------------

task<void> acquire_then_release(cs::lock& lk) {
  co_await lk.acquire();
  lk.release();
}
task<void> wait_for_event(cs::event& ev) { co_await ev.wait(); }
task<void> acquire_unit(cs::semaphore& sem) { co_await sem.acquire(); }

// A blocked acquire() or wait() keeps its place in line inside its own frame: parking, waking and resuming
// 30 waiters allocates nothing (CPython allocates a future per wait). Run on a fresh thread, whose frame
// pool is empty, so that any allocation reaches operator new.
TEST(Locks, BlockedWaitersAllocateNothing) {
  long counted = -1;
  std::thread([&] {
    vrun([&]() -> task<void> {
      cs::lock lk;
      cs::event ev;
      cs::semaphore sem(0);
      co_await lk.acquire();
      std::vector<cs::task_handle<void>> ts;
      ts.reserve(30);
      for (int i = 0; i < 10; ++i) {
        ts.push_back(cs::create_task(acquire_then_release(lk)));
        ts.push_back(cs::create_task(wait_for_event(ev)));
        ts.push_back(cs::create_task(acquire_unit(sem)));
      }
      allocation_count heap;
      co_await cs::sleep(0ms);  // all 30 park
      const bool all_parked = lk.waiter_count() == 10 && ev.waiter_count() == 10 && sem.waiter_count() == 10;
      lk.release();
      ev.set();
      for (int i = 0; i < 10; ++i) sem.release();
      for (auto& t : ts) co_await t;
      counted = all_parked ? heap.so_far() : -1;
    }());
  }).join();
  EXPECT_EQ(counted, 0);
}

TEST(Locks, ObjectsAreSafeToDestroyWhileTasksStillWaitOnThem) {
  trace L;
  vrun([&]() -> task<void> {
    auto lk = std::make_unique<cs::lock>();
    auto ev = std::make_unique<cs::event>();
    auto sem = std::make_unique<cs::semaphore>(0);
    auto cond = std::make_unique<cs::condition>();
    auto bar = std::make_unique<cs::barrier>(2);
    co_await lk->acquire();
    cs::create_task([&L, a = lk->acquire()]() mutable -> task<void> {
      try {
        co_await std::move(a);
      } catch (const cs::cancelled_error&) {
        L.push_back("lock waiter cancelled");
        throw;
      }
    });
    cs::create_task([w = ev->wait()]() mutable -> task<void> { co_await std::move(w); });
    cs::create_task([a = sem->acquire()]() mutable -> task<void> { co_await std::move(a); });
    cs::create_task([c = cond.get()]() -> task<void> {
      co_await c->acquire();
      co_await c->wait();
    });
    cs::create_task([w = bar->wait()]() mutable -> task<void> { co_await std::move(w); });
    co_await cs::sleep(0ms);
    L.push_back("main returns");
    // main returns; the objects die here, the five tasks are still waiting.
  }());
  EXPECT_EQ(L, (trace{"main returns", "lock waiter cancelled"}));
}

}  // namespace
