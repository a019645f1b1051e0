// create_subprocess_exec and process (subprocess.hpp), on the real clock with real children: sh, cat, head,
// sleep, ls. Each test also checks that no descriptor leaked and no child was left unreaped.
#include "process_support.hpp"

#include <coroscope/signals.hpp>
#include <coroscope/subprocess.hpp>

#include <csignal>
#include <string_view>
#include <system_error>

#include <fcntl.h>
#include <unistd.h>

namespace {

using cs::stdio;

// create_subprocess_shell(script) with the given stdio. Only trivial parameters: g++ 12 must not keep temporaries alive across a co_await.
task<cs::process> sh(const char* script, stdio in = stdio::inherit, stdio out = stdio::inherit,
                     stdio err = stdio::inherit) {
  cs::subprocess_options o;
  o.std_in = in;
  o.std_out = out;
  o.std_err = err;
  auto spawn = cs::create_subprocess_shell(script, std::move(o));
  co_return co_await std::move(spawn);
}

task<std::pair<std::string, std::string>> communicate(cs::process& p, std::string_view input = {}) {
  auto c = p.communicate(std::string(input));
  co_return co_await std::move(c);
}

task<int> exit_status_of(const char* script) {
  auto p = co_await sh(script);
  co_return co_await p.wait();
}

// Runs body on a real-clock loop and checks that it leaves no descriptor and no child behind.
template <class F>
void run_clean(F body) {
  const int fds = open_fds();
  rrun(body());
  EXPECT_EQ(open_fds(), fds) << "descriptors leaked";
  EXPECT_TRUE(no_unreaped_children()) << "a child was not reaped";
}

class Subprocess : public ::testing::TestWithParam<bool> {
protected:
  // The parameter selects the SIGCHLD watcher instead of pidfd, so both paths run every lifecycle test.
  void SetUp() override { cs::detail::force_sigchld_child_watcher(GetParam()); }
  void TearDown() override {
    cs::detail::force_sigchld_child_watcher(false);
    EXPECT_FALSE(signal_blocked(SIGCHLD)) << "the SIGCHLD watcher did not give SIGCHLD back";
  }
};
INSTANTIATE_TEST_SUITE_P(Watchers, Subprocess, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& watcher) {
                           return watcher.param ? std::string("Sigchld") : std::string("Pidfd");
                         });

TEST_P(Subprocess, ExitCodesAreReported) {
  run_clean([]() -> task<void> {
    CO_EXPECT_EQ(exit_status_of("exit 0"), 0);
    CO_EXPECT_EQ(exit_status_of("exit 7"), 7);
    CO_EXPECT_EQ(exit_status_of("exit 255"), 255);
  });
}

TEST_P(Subprocess, DeathBySignalIsMinusTheSignalNumber) {
  run_clean([]() -> task<void> {
    CO_EXPECT_EQ(exit_status_of("kill -TERM $$"), -SIGTERM);
    CO_EXPECT_EQ(exit_status_of("kill -KILL $$"), -SIGKILL);
  });
}

TEST_P(Subprocess, ReturncodeIsEmptyUntilTheChildIsReaped) {
  run_clean([sigchld = GetParam()]() -> task<void> {
    auto p = co_await sh("exec sleep 60");
    EXPECT_EQ(signal_blocked(SIGCHLD), sigchld);  // the fallback holds SIGCHLD only while it has children
    EXPECT_GT(p.pid(), 0);
    EXPECT_FALSE(p.returncode().has_value());
    p.kill();
    CO_EXPECT_EQ(p.wait(), -SIGKILL);
    EXPECT_EQ(p.returncode(), -SIGKILL);
    CO_EXPECT_EQ(p.wait(), -SIGKILL);  // again: at once
  });
}

TEST_P(Subprocess, TerminateAndKillEndASleepingChild) {
  run_clean([]() -> task<void> {
    auto a = co_await sh("exec sleep 60");
    auto b = co_await sh("exec sleep 60");
    a.terminate();
    b.kill();
    CO_EXPECT_EQ(a.wait(), -SIGTERM);
    CO_EXPECT_EQ(b.wait(), -SIGKILL);
  });
}

TEST_P(Subprocess, SendSignalReachesTheChild) {
  run_clean([]() -> task<void> {
    auto p = co_await sh("exec sleep 60");
    p.send_signal(SIGINT);
    CO_EXPECT_EQ(p.wait(), -SIGINT);
  });
}

TEST_P(Subprocess, SignallingAReapedChildIsProcessLookupError) {
  run_clean([]() -> task<void> {
    auto p = co_await sh("exit 0");
    co_await p.wait();
    try {
      p.kill();
      ADD_FAILURE() << "kill() of a reaped child did not throw";
    } catch (const std::system_error& e) {
      EXPECT_EQ(e.code(), std::errc::no_such_process);
    }
  });
}

TEST_P(Subprocess, FiftyConcurrentChildrenEachReportTheirOwnExitCode) {
  std::vector<std::string> scripts;
  for (int i = 0; i < 50; ++i) scripts.push_back("exit " + std::to_string(i));
  std::vector<int> codes;
  run_clean([&]() -> task<void> {
    std::vector<task<int>> all;
    for (auto& s : scripts) all.push_back(exit_status_of(s.c_str()));
    auto g = cs::gather(std::move(all));
    codes = co_await g;
  });
  ASSERT_EQ(codes.size(), 50u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(codes[static_cast<std::size_t>(i)], i);
}

TEST_P(Subprocess, ChildIsReapedEvenWhenNobodyWaitsForIt) {
  run_clean([]() -> task<void> {
    int pid = 0;
    {
      auto p = co_await sh("exit 3");
      pid = p.pid();
    }  // the handle is gone; the loop still reaps the child
    EXPECT_GT(pid, 0);
    for (int i = 0; i < 10000 && !no_unreaped_children(); ++i) co_await cs::sleep(1ms);
  });
}

TEST_P(Subprocess, EchoThroughCatComesBackUnchanged) {
  run_clean([]() -> task<void> {
    auto p = co_await sh("exec cat", stdio::pipe, stdio::pipe);
    auto [out, err] = co_await communicate(p, "hello\nworld\n");
    EXPECT_EQ(out, "hello\nworld\n");
    EXPECT_EQ(err, "");
    EXPECT_EQ(p.returncode(), 0);
  });
}

TEST(SubprocessPipes, CommunicateClosesStdinEvenWithoutInput) {
  run_clean([]() -> task<void> {
    auto p = co_await sh("exec cat", stdio::pipe, stdio::pipe);
    auto [out, err] = co_await communicate(p);
    EXPECT_EQ(out, "");
    EXPECT_EQ(p.returncode(), 0);
  });
}

TEST(SubprocessPipes, SeveralMiBEachWayThroughCatDoNotDeadlock) {
  std::string input(6 * 1024 * 1024, '\0');
  for (std::size_t i = 0; i < input.size(); ++i) input[i] = static_cast<char>('a' + i % 26);
  run_clean([&]() -> task<void> {
    auto p = co_await sh("exec cat", stdio::pipe, stdio::pipe);
    auto [out, err] = co_await communicate(p, input);
    EXPECT_EQ(out.size(), input.size());
    EXPECT_TRUE(out == input);
    EXPECT_EQ(p.returncode(), 0);
  });
}

TEST(SubprocessPipes, LargeStdoutAndStderrTogetherDoNotDeadlock) {
  run_clean([]() -> task<void> {
    auto p = co_await sh("head -c 4194304 /dev/zero; head -c 3145728 /dev/zero >&2", stdio::devnull, stdio::pipe,
                         stdio::pipe);
    auto [out, err] = co_await communicate(p);
    EXPECT_EQ(out, std::string(4194304, '\0'));
    EXPECT_EQ(err, std::string(3145728, '\0'));
    EXPECT_EQ(p.returncode(), 0);
  });
}

TEST(SubprocessPipes, StdinThatTheChildNeverReadsIsNotAnError) {
  run_clean([]() -> task<void> {
    auto p = co_await sh("exit 4", stdio::pipe, stdio::pipe);
    co_await p.wait();  // its stdin is gone before we write
    std::string big(1024 * 1024, 'x');
    auto [out, err] = co_await communicate(p, big);
    EXPECT_EQ(out, "");
    EXPECT_EQ(p.returncode(), 4);
  });
}

TEST(SubprocessPipes, StreamsReadLineByLineAndWriteWithDrain) {
  run_clean([]() -> task<void> {
    auto p = co_await sh("exec cat", stdio::pipe, stdio::pipe);
    EXPECT_EQ(p.std_err(), nullptr);
    if (!p.std_in() || !p.std_out()) {
      ADD_FAILURE() << "stdin and stdout should be pipes";
      co_return;
    }
    p.std_in()->write("first\n");
    co_await p.std_in()->drain();
    CO_EXPECT_EQ(p.std_out()->readline(), std::string("first\n"));
    p.std_in()->write("second\nthird");
    p.std_in()->close();
    CO_EXPECT_EQ(p.std_out()->readline(), std::string("second\n"));
    CO_EXPECT_EQ(p.std_out()->readline(), std::string("third"));
    CO_EXPECT_EQ(p.std_out()->read(), std::string(""));
    EXPECT_TRUE(p.std_out()->at_eof());
    CO_EXPECT_EQ(p.wait(), 0);
  });
}

TEST(SubprocessPipes, StderrToStdoutMergesBothStreams) {
  run_clean([]() -> task<void> {
    auto p = co_await sh("echo out; echo err >&2", stdio::inherit, stdio::pipe, stdio::to_stdout);
    EXPECT_EQ(p.std_err(), nullptr);
    auto [out, err] = co_await communicate(p);
    EXPECT_EQ(out, "out\nerr\n");
    EXPECT_EQ(err, "");
  });
}

TEST(SubprocessPipes, DevnullDiscardsOutputAndGivesEmptyInput) {
  run_clean([]() -> task<void> {
    auto quiet = co_await sh("echo out; echo err >&2", stdio::inherit, stdio::devnull, stdio::pipe);
    auto [out, err] = co_await communicate(quiet);
    EXPECT_EQ(out, "");
    EXPECT_EQ(err, "err\n");

    auto reader = co_await sh("exec cat", stdio::devnull, stdio::pipe);
    auto [in_out, in_err] = co_await communicate(reader);
    EXPECT_EQ(in_out, "");
    EXPECT_EQ(reader.returncode(), 0);
  });
}

TEST(SubprocessPipes, ChildSeesOnlyItsThreeStandardDescriptors) {
  const int stray = ::dup(1);  // no close-on-exec: only close_fds keeps it out of the child
  ASSERT_GT(stray, 2);
  run_clean([]() -> task<void> {
    auto p = co_await sh("exec ls /proc/self/fd", stdio::devnull, stdio::pipe, stdio::devnull);
    auto [out, err] = co_await communicate(p);
    EXPECT_EQ(out, "0\n1\n2\n3\n");  // 3 is ls's own directory stream
  });
  ::close(stray);
}

TEST(SubprocessOptions, CwdAndEnvReachTheChild) {
  run_clean([]() -> task<void> {
    cs::subprocess_options o;
    o.std_out = stdio::pipe;
    o.cwd = "/";
    o.env = std::vector<std::string>{"COROSCOPE_TEST_VALUE=42"};
    std::vector<std::string> args{"-c", "echo \"$COROSCOPE_TEST_VALUE\"; pwd"};
    auto spawn = cs::create_subprocess_exec("sh", std::move(args), std::move(o));
    auto p = co_await std::move(spawn);
    auto [out, err] = co_await communicate(p);
    EXPECT_EQ(out, "42\n/\n");
  });
}

TEST(SubprocessOptions, ExecPassesArgumentsVerbatimWithoutAShell) {
  run_clean([]() -> task<void> {
    cs::subprocess_options o;
    o.std_out = stdio::pipe;
    std::vector<std::string> args{"%s|", "a b", "$HOME", ""};
    auto spawn = cs::create_subprocess_exec("printf", std::move(args), std::move(o));
    auto p = co_await std::move(spawn);
    auto [out, err] = co_await communicate(p);
    EXPECT_EQ(out, "a b|$HOME||");
  });
}

// The error of a spawn that fails, or no error.
task<std::error_code> spawn_error(const char* program) {
  std::error_code code;
  try {
    auto spawn = cs::create_subprocess_exec(program);
    co_await std::move(spawn);
  } catch (const std::system_error& e) {
    code = e.code();
    EXPECT_NE(std::string(e.what()).find(program), std::string::npos) << e.what();
  }
  co_return code;
}

TEST(SubprocessOptions, ProgramThatCannotRunRaisesItsErrno) {
  run_clean([]() -> task<void> {
    auto missing = co_await spawn_error("coroscope-no-such-program-here");
    EXPECT_EQ(missing, std::errc::no_such_file_or_directory);  // FileNotFoundError
    auto not_executable = co_await spawn_error("/dev/null");
    EXPECT_EQ(not_executable, std::errc::permission_denied);  // PermissionError
  });
}

TEST(SubprocessOptions, StdoutAsStdinOrStdoutIsInvalid) {
  run_clean([]() -> task<void> {
    CO_EXPECT_THROW(sh("true", stdio::to_stdout), std::invalid_argument);
    CO_EXPECT_THROW(sh("true", stdio::inherit, stdio::to_stdout), std::invalid_argument);
  });
}

TEST(SubprocessSignals, ChildStartsWithoutTheSignalsTheLoopBlocked) {
  run_clean([]() -> task<void> {
    auto& loop = cs::get_running_loop();
    cs::add_signal_handler(loop, SIGUSR1, [] {});
    EXPECT_TRUE(signal_blocked(SIGUSR1));
    // Blocked in the child, the signal would stay pending and sh would exit 0.
    CO_EXPECT_EQ(exit_status_of("kill -USR1 $$; exit 0"), -SIGUSR1);
    cs::remove_signal_handler(loop, SIGUSR1);
  });
}

}  // namespace
