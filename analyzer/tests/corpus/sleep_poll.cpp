// Category sleep and poll, through C and std:: spellings.
#include "coro.hpp"

#include <chrono>
#include <ctime>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <thread>
#include <unistd.h>

using namespace std::chrono_literals;

corpus::Task<> sleeps() {
  co_await corpus::tick();
  std::this_thread::sleep_for(10ms);  // expect: blocking-call
  std::this_thread::sleep_until(std::chrono::steady_clock::now() + 1s);  // expect: blocking-call
  sleep(1);  // expect: blocking-call
  ::usleep(10);  // expect: blocking-call
  timespec ts{0, 100};
  nanosleep(&ts, nullptr);  // expect: blocking-call
  pause();  // expect: blocking-call
}

corpus::Task<> polls(int fd, int ep) {
  pollfd fds{fd, POLLIN, 0};
  poll(&fds, 1, -1);  // expect: blocking-call
  poll(&fds, 1, 0);   // a zero timeout only checks readiness
  epoll_event events[4];
  epoll_wait(ep, events, 4, 100);  // expect: blocking-call
  epoll_wait(ep, events, 4, 0);
  fd_set set;
  select(fd + 1, &set, nullptr, nullptr, nullptr);  // expect: blocking-call
  co_await corpus::tick();
}

// Not a coroutine: blocking here is the caller's business.
void plain_sleeper() { std::this_thread::sleep_for(10ms); }

// A coroutine with only co_return is still an async task.
corpus::Task<> returns_only() {
  sleep(1);  // expect: blocking-call
  co_return;
}
