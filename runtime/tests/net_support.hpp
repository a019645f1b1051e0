#pragma once
// Helpers for the tests on real sockets: a real-clock run, open-fd counting (leak checks), and raw
// loopback sockets for peers that misbehave on purpose.
#include "support.hpp"

#include <coroscope/sockets.hpp>
#include <coroscope/streams.hpp>

#include <dirent.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <string>

// Runs a test body on a real-clock loop: sockets take real time.
template <class T>
T rrun(task<T> t) {
  return cs::run(std::move(t), {.clock = cs::clock_kind::real});
}

// How many file descriptors this process has open.
inline int open_fds() {
  int n = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (::readdir(d)) ++n;
    ::closedir(d);
  }
  return n;
}

// Every test on sockets proves it leaks no fd: counted before and after its loop has closed.
class NetTest : public ::testing::Test {
protected:
  void SetUp() override { fds_before_ = open_fds(); }
  void TearDown() override { EXPECT_EQ(open_fds(), fds_before_) << "file descriptors leaked"; }

private:
  int fds_before_ = 0;
};

// A listening TCP socket on 127.0.0.1 with a free port, for raw peers (non-blocking; the caller closes it).
inline int raw_listener(std::uint16_t& port) {
  auto fd = cs::detail::tcp_socket(AF_INET);
  auto addr = cs::socket_address::from_ip("127.0.0.1", 0);
  if (::bind(fd.get(), addr.data(), addr.size()) != 0 || ::listen(fd.get(), 16) != 0)
    throw std::system_error(errno, std::generic_category(), "raw_listener");
  port = cs::sockname(fd.get()).port();
  return fd.release();
}

// Closes fd with a TCP reset instead of a FIN (SO_LINGER with a zero timeout).
inline void close_with_reset(int fd) {
  linger lg{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  ::close(fd);
}

// Whether this machine can listen on ::1 (containers sometimes have no IPv6).
inline bool ipv6_loopback_available() {
  const int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  auto addr = cs::socket_address::from_ip("::1", 0);
  const bool ok = ::bind(fd, addr.data(), addr.size()) == 0;
  ::close(fd);
  return ok;
}

// The errno of the std::system_error that awaiting `t` raised, or 0 when it raised none.
template <class T>
task<int> errno_of(task<T> t) {
  try {
    co_await std::move(t);
  } catch (const std::system_error& e) {
    co_return e.code().value();
  }
  co_return 0;
}
