// Non-blocking sockets: a socket call is not blocking when the function handles EAGAIN/EWOULDBLOCK/
// EINPROGRESS (the readiness path awaits instead), or made the socket non-blocking in view (SOCK_NONBLOCK,
// O_NONBLOCK through fcntl, accept4 with SOCK_NONBLOCK). Not reported directly nor transitively.
#include "coro.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

struct Readable {
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<>) const noexcept {}
  void await_resume() const noexcept {}
};
Readable readable(int) { return {}; }

corpus::Task<> read_until_ready(int sock, char* buf, unsigned n) {
  for (;;) {
    const auto got = recv(sock, buf, n, 0);
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      co_await readable(sock);
      continue;
    }
    co_return;
  }
}

corpus::Task<> connect_in_progress(int sock, const sockaddr* addr, socklen_t len) {
  if (connect(sock, addr, len) < 0 && errno == EINPROGRESS) co_await readable(sock);
}

corpus::Task<> created_non_blocking(const sockaddr* addr, socklen_t len) {
  int sock = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  (void)connect(sock, addr, len);
  co_await readable(sock);
  int client = accept4(sock, nullptr, nullptr, SOCK_NONBLOCK);
  char c = 0;
  (void)send(client, &c, 1, 0);
}

corpus::Task<> made_non_blocking(int listener) {
  fcntl(listener, F_SETFL, fcntl(listener, F_GETFL) | O_NONBLOCK);
  co_await readable(listener);
  (void)accept(listener, nullptr, nullptr);
}

corpus::Task<> still_blocking(int sock, int other) {
  fcntl(other, F_SETFL, O_NONBLOCK);  // a different socket
  co_await corpus::tick();
  char c = 0;
  (void)recv(sock, &c, 1, 0);  // expect: blocking-call
  (void)accept(sock, nullptr, nullptr);  // expect: blocking-call
}

// Helpers: the one that handles EAGAIN is not a transitive blocker, the other is.
long try_send(int sock, const char* p, unsigned n) {
  const long sent = send(sock, p, n, 0);
  return sent < 0 && errno == EAGAIN ? 0 : sent;
}
long send_all(int sock, const char* p, unsigned n) { return send(sock, p, n, 0); }

corpus::Task<> uses_helpers(int sock) {
  co_await corpus::tick();
  (void)try_send(sock, "x", 1);
  (void)send_all(sock, "x", 1);  // expect: transitive-blocking-call
}
