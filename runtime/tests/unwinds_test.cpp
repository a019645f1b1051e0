// How many C++ unwinds a cancellation costs, counted exactly: the test binary interposes libgcc's
// _Unwind_RaiseException (every throw and std::rethrow_exception) and _Unwind_Resume_or_Rethrow (`throw;`).
// An unwind costs 7,000-12,000 instructions; the runtime's promise is at most two per cancelled task that
// is awaited (one into the task, one into its awaiter) and none inside its own combinators, which treat
// cancellation as a status. co_await settled(t) observes the outcome with none at all.
#include "support.hpp"

#include <dlfcn.h>
#include <unwind.h>

namespace {
int unwinds = 0;

template <class F>
F real(const char* name) {
  return reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
}
}  // namespace

extern "C" _Unwind_Reason_Code _Unwind_RaiseException(_Unwind_Exception* e) {
  static auto next = real<_Unwind_Reason_Code (*)(_Unwind_Exception*)>("_Unwind_RaiseException");
  ++unwinds;
  return next(e);
}

extern "C" _Unwind_Reason_Code _Unwind_Resume_or_Rethrow(_Unwind_Exception* e) {
  static auto next = real<_Unwind_Reason_Code (*)(_Unwind_Exception*)>("_Unwind_Resume_or_Rethrow");
  ++unwinds;
  return next(e);
}

namespace {

task<void> parked() { co_await cs::sleep(1h); }
task<int> parked_value() {
  co_await cs::sleep(1h);
  co_return 1;
}

// Runs body and returns how many unwinds happened between `mark` calls: body calls mark() to start counting.
struct counter {
  int start = -1;
  void mark() { start = unwinds; }
  int counted() const { return unwinds - start; }
};

TEST(Unwinds, TheSelfCheckCountsAThrow) {
  const int before = unwinds;
  try {
    throw std::runtime_error("x");
  } catch (const std::exception&) {
  }
  EXPECT_EQ(unwinds - before, 1);
}

TEST(Unwinds, ACancelledTaskAwaitedWithTryCatchCostsTwo) {
  counter c;
  bool caught = false;
  vrun([&]() -> task<void> {
    auto t = cs::create_task(parked());
    co_await cs::sleep(0ms);
    c.mark();
    t.cancel();
    try {
      co_await t;
    } catch (const cs::cancelled_error&) {
      caught = true;
    }
  }());
  EXPECT_TRUE(caught);
  EXPECT_EQ(c.counted(), 2);  // into the task's frame, then into its awaiter's
}

TEST(Unwinds, ACancelledTaskObservedWithSettledCostsOne) {
  counter c;
  bool cancelled = false;
  vrun([&]() -> task<void> {
    auto t = cs::create_task(parked());
    co_await cs::sleep(0ms);
    c.mark();
    t.cancel();
    co_await cs::settled(t);
    cancelled = t.cancelled();
  }());
  EXPECT_TRUE(cancelled);
  EXPECT_EQ(c.counted(), 1);  // only into the cancelled task's own frame
}

TEST(Unwinds, ATaskCancelledWhileInWaitForCostsTwoPlusOneForTheInnerTask) {
  counter c;
  bool caught = false;
  vrun([&]() -> task<void> {
    auto t = cs::create_task([]() -> task<int> { co_return co_await cs::wait_for(parked_value(), 2h); }());
    co_await cs::sleep(0ms);
    co_await cs::sleep(0ms);
    c.mark();
    t.cancel();
    try {
      co_await t;
    } catch (const cs::cancelled_error&) {
      caught = true;
    }
  }());
  EXPECT_TRUE(caught);
  // The inner task (wait_for cancels it): one. The outer: one into its frame, one into its awaiter.
  EXPECT_EQ(c.counted(), 3);
}

TEST(Unwinds, ATaskCancelledWhileInGatherCostsTwoPlusOnePerChild) {
  counter c;
  bool caught = false;
  vrun([&]() -> task<void> {
    auto t = cs::create_task([]() -> task<void> { co_await cs::gather(parked(), parked()); }());
    co_await cs::sleep(0ms);
    co_await cs::sleep(0ms);
    c.mark();
    t.cancel();
    try {
      co_await t;
    } catch (const cs::cancelled_error&) {
      caught = true;
    }
  }());
  EXPECT_TRUE(caught);
  EXPECT_EQ(c.counted(), 4);
}

TEST(Unwinds, ATaskCancelledInsideATaskGroupCostsTwoPlusOnePerChild) {
  counter c;
  bool caught = false;
  vrun([&]() -> task<void> {
    auto t = cs::create_task([]() -> task<void> {
      cs::task_group tg;
      co_await cs::async_with(tg, [](cs::task_group& g) -> task<void> {
        g.create_task(parked());
        co_await cs::sleep(1h);
      });
    }());
    co_await cs::sleep(0ms);
    co_await cs::sleep(0ms);
    c.mark();
    t.cancel();
    try {
      co_await t;
    } catch (const cs::cancelled_error&) {
      caught = true;
    }
  }());
  EXPECT_TRUE(caught);
  // The child: one. The body (a coroutine of the user's, inside the task): one. The task: one into its
  // frame, one into its awaiter.
  EXPECT_EQ(c.counted(), 4);
}

}  // namespace
