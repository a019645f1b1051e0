#include "echo_socket.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

namespace bench {
namespace {

int check(int rc, const char* what) {
  if (rc < 0) throw std::runtime_error(std::string(what) + ": " + std::strerror(errno));
  return rc;
}

void tune(int fd) {
  int one = 1;
  check(setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one), "setsockopt(TCP_NODELAY)");
  check(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), "fcntl(O_NONBLOCK)");
}

}  // namespace

socket_pair_list::~socket_pair_list() {
  for (int fd : clients) close(fd);
  for (int fd : servers) close(fd);
}

void open_loopback_pairs(int n, socket_pair_list& out) {
  const int listener = check(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  try {
    check(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), "bind");
    check(listen(listener, n + 16), "listen");
    check(getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), "getsockname");
    for (int i = 0; i < n; ++i) {
      const int c = check(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket");
      out.clients.push_back(c);
      check(connect(c, reinterpret_cast<sockaddr*>(&addr), sizeof addr), "connect");
      const int s = check(accept4(listener, nullptr, nullptr, SOCK_CLOEXEC), "accept");
      out.servers.push_back(s);
      tune(c);
      tune(s);
    }
  } catch (...) {
    close(listener);
    throw;
  }
  close(listener);
}

}  // namespace bench
