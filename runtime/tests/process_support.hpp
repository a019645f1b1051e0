#pragma once
// What the signal and subprocess tests observe about the process itself: the signal mask and children not
// yet reaped (open descriptors and the real-clock run come from net_support.hpp).
#include "net_support.hpp"

#include <signal.h>
#include <sys/wait.h>

#include <cerrno>

inline bool signal_blocked(int signum) {
  sigset_t mask;
  pthread_sigmask(SIG_SETMASK, nullptr, &mask);
  return sigismember(&mask, signum) == 1;
}

inline bool signal_pending(int signum) {
  sigset_t pending;
  sigpending(&pending);
  return sigismember(&pending, signum) == 1;
}

// True when this process has no child left to reap: every child was waited for (no zombie).
inline bool no_unreaped_children() {
  siginfo_t info{};
  return ::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) == -1 && errno == ECHILD;
}
