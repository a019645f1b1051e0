// add_signal_handler / remove_signal_handler (signals.hpp), on the real clock with real signals.
#include "process_support.hpp"

#include <coroscope/signals.hpp>

#include <csignal>
#include <system_error>

#include <unistd.h>

namespace {

TEST(Signals, RaisedSignalRunsItsHandlerLaterThroughTheLoop) {
  const int fds = open_fds();
  trace L;
  rrun([&]() -> task<void> {
    auto& loop = cs::get_running_loop();
    auto fired = cs::create_future<void>();
    cs::add_signal_handler(loop, SIGUSR1, [&] {
      L.push_back("handler");
      fired.set_result();
    });
    EXPECT_TRUE(signal_blocked(SIGUSR1));
    std::raise(SIGUSR1);
    L.push_back("raised");  // the handler never runs inside the delivery
    co_await fired;
    EXPECT_TRUE(cs::remove_signal_handler(loop, SIGUSR1));
  }());
  EXPECT_EQ(L, (trace{"raised", "handler"}));
  EXPECT_FALSE(signal_blocked(SIGUSR1));
  EXPECT_EQ(open_fds(), fds);
}

TEST(Signals, SignalSentToTheWholeProcessReachesTheHandlerWithItsArguments) {
  std::vector<int> got;
  rrun([&]() -> task<void> {
    auto& loop = cs::get_running_loop();
    auto fired = cs::create_future<void>();
    cs::add_signal_handler(
        loop, SIGUSR2,
        [&](int a, int b) {
          got = {a, b};
          fired.set_result();
        },
        7, 8);
    ::kill(::getpid(), SIGUSR2);
    co_await fired;
    cs::remove_signal_handler(loop, SIGUSR2);
  }());
  EXPECT_EQ(got, (std::vector<int>{7, 8}));
}

TEST(Signals, EachSignalReadSeparatelyRunsTheHandlerAgain) {
  int count = 0;
  rrun([&]() -> task<void> {
    auto& loop = cs::get_running_loop();
    cs::add_signal_handler(loop, SIGUSR1, [&] { ++count; });
    for (int i = 1; i <= 3; ++i) {
      std::raise(SIGUSR1);
      while (count < i) co_await cs::sleep(1ms);
    }
    cs::remove_signal_handler(loop, SIGUSR1);
  }());
  EXPECT_EQ(count, 3);
}

TEST(Signals, SecondRegistrationReplacesTheFirst) {
  trace L;
  rrun([&]() -> task<void> {
    auto& loop = cs::get_running_loop();
    auto fired = cs::create_future<void>();
    cs::add_signal_handler(loop, SIGUSR1, [&] { L.push_back("first"); });
    cs::add_signal_handler(loop, SIGUSR1, [&] {
      L.push_back("second");
      fired.set_result();
    });
    std::raise(SIGUSR1);
    co_await fired;
    cs::remove_signal_handler(loop, SIGUSR1);
  }());
  EXPECT_EQ(L, (trace{"second"}));
}

TEST(Signals, RemoveReportsWhetherAHandlerWasRegistered) {
  rrun([]() -> task<void> {
    auto& loop = cs::get_running_loop();
    EXPECT_FALSE(cs::remove_signal_handler(loop, SIGUSR1));
    cs::add_signal_handler(loop, SIGUSR1, [] {});
    cs::add_signal_handler(loop, SIGUSR2, [] {});
    EXPECT_TRUE(cs::remove_signal_handler(loop, SIGUSR1));
    EXPECT_FALSE(cs::remove_signal_handler(loop, SIGUSR1));
    EXPECT_TRUE(signal_blocked(SIGUSR2));  // the other one is still handled
    EXPECT_FALSE(signal_blocked(SIGUSR1));
    EXPECT_TRUE(cs::remove_signal_handler(loop, SIGUSR2));
    EXPECT_FALSE(cs::remove_signal_handler(loop, SIGKILL));  // never registrable, so never registered
    co_return;
  }());
}

TEST(Signals, NumbersThatAreNotSignalsAreInvalidArguments) {
  cs::event_loop loop;
  for (int bad : {0, -1, NSIG, 1000}) {
    EXPECT_THROW(cs::add_signal_handler(loop, bad, [] {}), std::invalid_argument) << bad;
    EXPECT_THROW(cs::remove_signal_handler(loop, bad), std::invalid_argument) << bad;
  }
}

TEST(Signals, SigkillAndSigstopCannotBeCaught) {
  cs::event_loop loop;
  for (int sig : {SIGKILL, SIGSTOP}) {
    try {
      cs::add_signal_handler(loop, sig, [] {});
      ADD_FAILURE() << "signal " << sig << " was accepted";
    } catch (const std::system_error& e) {
      EXPECT_EQ(e.code(), std::errc::invalid_argument);
      EXPECT_NE(std::string(e.what()).find("cannot be caught"), std::string::npos) << e.what();
    }
  }
}

TEST(Signals, ClosedLoopRejectsHandlers) {
  cs::event_loop loop;
  loop.close();
  EXPECT_THROW(cs::add_signal_handler(loop, SIGUSR1, [] {}), std::runtime_error);
  EXPECT_FALSE(signal_blocked(SIGUSR1));
}

TEST(Signals, ClosingTheLoopReleasesTheSignalfdAndTheMask) {
  const int fds = open_fds();
  {
    cs::event_loop loop;
    const int loop_fds = open_fds();
    cs::add_signal_handler(loop, SIGUSR1, [] {});
    cs::add_signal_handler(loop, SIGHUP, [] {});
    EXPECT_EQ(open_fds(), loop_fds + 1);  // one signalfd for every signal of the loop
    EXPECT_TRUE(signal_blocked(SIGUSR1));
    loop.close();
    EXPECT_EQ(open_fds(), loop_fds);  // closing the loop closed the signalfd
    EXPECT_FALSE(signal_blocked(SIGUSR1));
    EXPECT_FALSE(signal_blocked(SIGHUP));
    EXPECT_FALSE(cs::remove_signal_handler(loop, SIGUSR1));
  }
  EXPECT_EQ(open_fds(), fds);
}

TEST(Signals, SignalStillPendingAtRemovalIsDroppedInsteadOfKillingTheProcess) {
  rrun([]() -> task<void> {
    auto& loop = cs::get_running_loop();
    bool ran = false;
    cs::add_signal_handler(loop, SIGUSR1, [&] { ran = true; });
    std::raise(SIGUSR1);
    EXPECT_TRUE(signal_pending(SIGUSR1));
    EXPECT_TRUE(cs::remove_signal_handler(loop, SIGUSR1));  // SIGUSR1's default action would end the test
    EXPECT_FALSE(signal_pending(SIGUSR1));
    co_await cs::sleep(1ms);
    EXPECT_FALSE(ran);
  }());
}

TEST(Signals, SignalTheProgramBlockedItselfStaysBlocked) {
  sigset_t one;
  sigemptyset(&one);
  sigaddset(&one, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &one, nullptr);
  {
    cs::event_loop loop;
    cs::add_signal_handler(loop, SIGUSR2, [] {});
    EXPECT_TRUE(cs::remove_signal_handler(loop, SIGUSR2));
    EXPECT_TRUE(signal_blocked(SIGUSR2));
  }
  pthread_sigmask(SIG_UNBLOCK, &one, nullptr);
}

TEST(Signals, TwoLoopsOfOneThreadKeepTheSignalBlockedUntilBothLetGo) {
  cs::event_loop a;
  cs::event_loop b;
  cs::add_signal_handler(a, SIGUSR1, [] {});
  cs::add_signal_handler(b, SIGUSR1, [] {});
  EXPECT_TRUE(cs::remove_signal_handler(a, SIGUSR1));
  EXPECT_TRUE(signal_blocked(SIGUSR1));
  EXPECT_TRUE(cs::remove_signal_handler(b, SIGUSR1));
  EXPECT_FALSE(signal_blocked(SIGUSR1));
}

TEST(Signals, ExceptionFromAHandlerGoesToTheLoopsExceptionHandler) {
  handler_calls calls;
  rrun([&]() -> task<void> {
    auto& loop = cs::get_running_loop();
    calls.install(loop);
    auto fired = cs::create_future<void>();
    cs::add_signal_handler(loop, SIGUSR1, [&] {
      fired.set_result();
      throw std::logic_error("boom");
    });
    std::raise(SIGUSR1);
    co_await fired;
    co_await cs::sleep(0ms);
    cs::remove_signal_handler(loop, SIGUSR1);
  }());
  ASSERT_EQ(calls.messages.size(), 1u);
  EXPECT_EQ(calls.messages[0], "Exception in callback <Handle>");
  EXPECT_THROW(std::rethrow_exception(calls.exceptions[0]), std::logic_error);
}

TEST(Signals, HandlerCanRemoveItself) {
  int count = 0;
  rrun([&]() -> task<void> {
    auto& loop = cs::get_running_loop();
    cs::add_signal_handler(loop, SIGUSR1, [&] {
      ++count;
      EXPECT_TRUE(cs::remove_signal_handler(loop, SIGUSR1));
    });
    std::raise(SIGUSR1);
    while (count == 0) co_await cs::sleep(1ms);
  }());
  EXPECT_EQ(count, 1);
  EXPECT_FALSE(signal_blocked(SIGUSR1));
}

}  // namespace
