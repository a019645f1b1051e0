#pragma once
// Helpers shared by the runtime tests: a trace to assert on, and runs on the virtual clock.
#include <coroscope/coroscope.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <string>
#include <vector>

namespace cs = coroscope;
using namespace std::chrono_literals;
using cs::task;
using trace = std::vector<std::string>;

// Runs a coroutine to completion on a virtual-clock loop (asyncio.run with exact, instant timers).
template <class T>
T vrun(task<T> t) {
  return cs::run(std::move(t), {.clock = cs::clock_kind::virtual_time});
}

// The running loop's virtual time in whole milliseconds, for traces like "done@30".
inline long now_ms() {
  return std::lround(cs::get_running_loop().time() * 1000.0);
}
inline std::string at(const std::string& what) { return what + "@" + std::to_string(now_ms()); }

// Records every exception-handler call of the running loop (asyncio's set_exception_handler).
struct handler_calls {
  std::vector<std::string> messages;
  std::vector<std::exception_ptr> exceptions;
  void install(cs::event_loop& loop) {
    loop.set_exception_handler([this](cs::event_loop&, const cs::exception_context& c) {
      messages.push_back(c.message);
      exceptions.push_back(c.exception);
    });
  }
};

// Canonical coroutines of the semantics file.
inline task<std::string> val(std::string v, std::chrono::milliseconds d, trace* log = nullptr) {
  co_await cs::sleep(d);
  if (log) log->push_back("done " + v);
  co_return v;
}

// Sleeps "forever" and logs `what` when cancelled, with the cancel message in parentheses if there is
// one, then lets the cancellation through: the tests' usual cancellable child.
inline task<void> logs_cancel(trace& L, std::string what) {
  try {
    co_await cs::sleep(10s);
  } catch (const cs::cancelled_error& e) {
    L.push_back(what + (e.message().empty() ? "" : " (" + e.message() + ")"));
    throw;
  }
}

template <class E>
task<std::string> err(E e, std::chrono::milliseconds d) {
  co_await cs::sleep(d);
  throw e;
}

// The message a cancelled_error carries, or "<not cancelled>".
template <class F>
std::string cancel_message_of(F&& f) {
  try {
    f();
  } catch (const cs::cancelled_error& e) {
    return e.message();
  }
  return "<not cancelled>";
}

// g++ 12 keeps some objects of GoogleTest's macros (declared in if-conditions) outside the coroutine
// frame, so a co_await inside EXPECT_*(...) can resume with a clobbered stack at -O0. These macros await
// in a plain statement first, then assert.
template <class E, class A>
task<bool> raises(A aw) {
  try {
    co_await std::move(aw);
  } catch (const E&) {
    co_return true;
  } catch (...) {
    co_return false;
  }
  co_return false;
}
#define CO_EXPECT_THROW(expr, type)                                  \
  do {                                                               \
    bool co_raised_ = co_await raises<type>(expr);                   \
    EXPECT_TRUE(co_raised_) << #expr " should throw " #type;         \
  } while (false)
#define CO_EXPECT_EQ(expr, expected)        \
  do {                                      \
    auto co_value_ = co_await (expr);       \
    EXPECT_EQ(co_value_, expected);         \
  } while (false)
