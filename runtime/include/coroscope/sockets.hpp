#pragma once
// asyncio's low-level socket operations (loop.sock_recv, sock_recv_into, sock_sendall, sock_accept,
// sock_connect, getaddrinfo) on non-blocking sockets, and the address type they share with streams.
//
//   auto [fd, peer] = co_await coroscope::sock_accept(listener);
//   std::string data = co_await coroscope::sock_recv(fd, 4096);   // "" at end of stream
//   co_await coroscope::sock_sendall(fd, data);
//
// Each operation follows CPython's selector_events.py: try the system call at once, and only when it would
// block register a reader (writer) that retries it and completes a future the task is parked on. The
// registration is removed on every way out, cancellation included, so a cancelled operation leaves the fd
// as it found it. Errors are std::system_error carrying the errno, raised in the awaiting coroutine.
// The caller owns the fds; they must be non-blocking (sock_accept's new fd is).
#include <coroscope/task.hpp>

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace coroscope {

// An IPv4 or IPv6 socket address (Python's address tuples).
class socket_address {
public:
  socket_address() = default;
  socket_address(const sockaddr* sa, socklen_t len);
  // A numeric IPv4 or IPv6 address ("127.0.0.1", "::1"); throws std::invalid_argument for anything else.
  static socket_address from_ip(std::string_view ip, std::uint16_t port);
  // The same without throwing: false when `ip` is not a numeric address (a name to resolve).
  static bool parse_ip(std::string_view ip, std::uint16_t port, socket_address& out);

  int family() const noexcept;  // AF_INET, AF_INET6, or AF_UNSPEC when empty
  std::string host() const;     // numeric: "127.0.0.1", "::1"
  std::uint16_t port() const noexcept;
  std::string to_string() const;  // "127.0.0.1:8888", "[::1]:8888"
  const sockaddr* data() const noexcept { return reinterpret_cast<const sockaddr*>(&storage_); }
  socklen_t size() const noexcept { return len_; }
  friend bool operator==(const socket_address& a, const socket_address& b) noexcept;

private:
  sockaddr_storage storage_{};
  socklen_t len_ = 0;
};

// getsockname / getpeername; throw std::system_error.
socket_address sockname(int fd);
socket_address peername(int fd);

// socket.gaierror: a name that could not be resolved; code() is the EAI_* value.
class gai_error : public std::runtime_error {
public:
  gai_error(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
  int code() const noexcept { return code_; }

private:
  int code_;
};

// One row of loop.getaddrinfo()'s answer.
struct address_info {
  int family = 0;
  int type = 0;
  int protocol = 0;
  socket_address address;
};

// loop.getaddrinfo(host, port, family=, type=SOCK_STREAM, flags=): resolved on the default executor,
// because getaddrinfo blocks. An empty host means "no host" (with AI_PASSIVE: every local interface).
task<std::vector<address_info>> getaddrinfo(std::string host, std::uint16_t port, int family = AF_UNSPEC,
                                            int type = SOCK_STREAM, int flags = 0);

// loop.sock_recv(sock, n): up to n bytes; an empty string at end of stream.
task<std::string> sock_recv(int fd, std::size_t n);
// loop.sock_recv_into(sock, buf): the number of bytes stored (0 at end of stream). buf must stay valid
// until the operation completes.
task<std::size_t> sock_recv_into(int fd, std::span<char> buf);
// loop.sock_sendall(sock, data): every byte, or an error. data must stay valid until the operation
// completes (it does when the call is awaited at once).
task<void> sock_sendall(int fd, std::string_view data);

// What sock_accept returns: the new connection (non-blocking, close-on-exec; the caller owns it) and the
// peer's address.
struct accepted_socket {
  int fd = -1;
  socket_address address;
};
// loop.sock_accept(sock)
task<accepted_socket> sock_accept(int fd);
// loop.sock_connect(sock, address)
task<void> sock_connect(int fd, socket_address address);

namespace detail {

// Owns a file descriptor: closes it unless released (keeps fds from leaking on error and cancellation paths).
class unique_fd {
public:
  unique_fd() = default;
  explicit unique_fd(int fd) noexcept : fd_(fd) {}
  unique_fd(unique_fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  unique_fd& operator=(unique_fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  ~unique_fd() { reset(); }
  int get() const noexcept { return fd_; }
  int release() noexcept { return std::exchange(fd_, -1); }
  void reset() noexcept;

private:
  int fd_ = -1;
};

// A new non-blocking, close-on-exec TCP socket of `family`; throws std::system_error.
unique_fd tcp_socket(int family);
// Sets O_NONBLOCK (fds handed to the runtime by other code).
void set_nonblocking(int fd);

// A type-erased "try the system call" for io_until: returns true when done, false when it would block,
// throws std::system_error on failure. Trivially copyable on purpose: it is passed inside co_await
// expressions, and g++ 12 mishandles non-trivial temporaries there.
struct io_attempt {
  void* ctx = nullptr;
  bool (*fn)(void*) = nullptr;
  bool operator()() const { return fn(ctx); }
};
template <class F>
io_attempt make_io_attempt(F& f) noexcept {
  return {&f, [](void* c) -> bool { return (*static_cast<F*>(c))(); }};
}

// Runs `attempt` now (unless wait_first) and again whenever fd is readable (writable) until it reports
// done; the readiness callback is registered only while the task is parked. The attempt must stay valid
// until the returned task completes.
task<void> io_until(int fd, bool readable, io_attempt attempt, bool wait_first = false);

// Resolves host:port for connecting (passive=false) or listening (passive=true). Numeric addresses are
// answered at once, as asyncio's _ipaddr_info does; names go through getaddrinfo on the executor.
task<std::vector<socket_address>> resolve(std::string host, std::uint16_t port, bool passive);

}  // namespace detail

}  // namespace coroscope
