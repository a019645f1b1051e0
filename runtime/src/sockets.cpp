#include <coroscope/executor.hpp>
#include <coroscope/sockets.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace coroscope {

namespace {

[[noreturn]] void throw_errno(int err, const std::string& what) {
  throw std::system_error(err, std::generic_category(), what);
}

bool would_block(int err) noexcept { return err == EAGAIN || err == EWOULDBLOCK; }

}  // namespace

// ---------------------------------------------------------------------------------------------- addresses

socket_address::socket_address(const sockaddr* sa, socklen_t len) {
  if (len > sizeof storage_) throw std::invalid_argument("coroscope: socket address too long");
  std::memcpy(&storage_, sa, len);
  len_ = len;
}

bool socket_address::parse_ip(std::string_view ip, std::uint16_t port, socket_address& out) {
  const std::string text(ip);
  sockaddr_in v4{};
  if (::inet_pton(AF_INET, text.c_str(), &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    v4.sin_port = htons(port);
    out = socket_address(reinterpret_cast<const sockaddr*>(&v4), sizeof v4);
    return true;
  }
  sockaddr_in6 v6{};
  if (::inet_pton(AF_INET6, text.c_str(), &v6.sin6_addr) == 1) {
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(port);
    out = socket_address(reinterpret_cast<const sockaddr*>(&v6), sizeof v6);
    return true;
  }
  return false;
}

socket_address socket_address::from_ip(std::string_view ip, std::uint16_t port) {
  socket_address a;
  if (!parse_ip(ip, port, a)) throw std::invalid_argument("coroscope: not a numeric IP address: '" + std::string(ip) + "'");
  return a;
}

int socket_address::family() const noexcept { return len_ == 0 ? AF_UNSPEC : storage_.ss_family; }

std::string socket_address::host() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (family() == AF_INET)
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr, text, sizeof text);
  else if (family() == AF_INET6)
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr, text, sizeof text);
  return text;
}

std::uint16_t socket_address::port() const noexcept {
  if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
  if (family() == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
  return 0;
}

std::string socket_address::to_string() const {
  if (family() == AF_INET6) return "[" + host() + "]:" + std::to_string(port());
  if (family() == AF_INET) return host() + ":" + std::to_string(port());
  return "<no address>";
}

bool operator==(const socket_address& a, const socket_address& b) noexcept {
  return a.len_ == b.len_ && std::memcmp(&a.storage_, &b.storage_, a.len_) == 0;
}

socket_address sockname(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) throw_errno(errno, "getsockname");
  return socket_address(reinterpret_cast<const sockaddr*>(&ss), len);
}

socket_address peername(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) throw_errno(errno, "getpeername");
  return socket_address(reinterpret_cast<const sockaddr*>(&ss), len);
}

// ------------------------------------------------------------------------------------------------- detail

namespace detail {

void unique_fd::reset() noexcept {
  if (fd_ >= 0) ::close(std::exchange(fd_, -1));
}

unique_fd tcp_socket(int family) {
  const int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
  if (fd < 0) throw_errno(errno, "socket");
  return unique_fd(fd);
}

void set_nonblocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) throw_errno(errno, "fcntl(F_GETFL) on fd " + std::to_string(fd));
  if (!(flags & O_NONBLOCK) && ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
    throw_errno(errno, "fcntl(F_SETFL) on fd " + std::to_string(fd));
}

task<void> io_until(int fd, bool readable, io_attempt attempt, bool wait_first) {
  if (!wait_first && attempt()) co_return;
  event_loop& loop = get_running_loop();
  future<void> done(loop);
  auto on_ready = [done, attempt]() mutable {
    if (done.done()) return;  // cancelled: the registration goes when the task resumes
    try {
      if (attempt()) done.set_result();
    } catch (...) {
      done.set_exception(std::current_exception());
    }
  };
  // Removed on every way out of this frame: completion, error, cancellation, destruction at loop teardown.
  struct registration {
    event_loop& loop;
    int fd;
    bool readable;
    ~registration() {
      if (readable)
        loop.remove_reader(fd);
      else
        loop.remove_writer(fd);
    }
  };
  if (readable)
    loop.add_reader(fd, on_ready);
  else
    loop.add_writer(fd, on_ready);
  registration guard{loop, fd, readable};
  co_await done;
}

task<std::vector<socket_address>> resolve(std::string host, std::uint16_t port, bool passive) {
  std::vector<socket_address> out;
  socket_address numeric;
  if (socket_address::parse_ip(host, port, numeric)) {
    out.push_back(numeric);
    co_return out;
  }
  auto lookup = getaddrinfo(std::move(host), port, AF_UNSPEC, SOCK_STREAM, passive ? AI_PASSIVE : 0);
  const std::vector<address_info> infos = co_await std::move(lookup);
  for (const auto& info : infos)
    if (info.family == AF_INET || info.family == AF_INET6) out.push_back(info.address);
  co_return out;
}

}  // namespace detail

// ------------------------------------------------------------------------------------------ name lookup

task<std::vector<address_info>> getaddrinfo(std::string host, std::uint16_t port, int family, int type, int flags) {
  auto lookup = [host = std::move(host), port, family, type, flags]() {
    addrinfo hints{};
    hints.ai_family = family;
    hints.ai_socktype = type;
    hints.ai_flags = flags;
    addrinfo* res = nullptr;
    const std::string service = std::to_string(port);
    const int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &res);
    if (rc != 0) {
      std::string what = rc == EAI_SYSTEM ? std::strerror(errno) : ::gai_strerror(rc);
      throw gai_error(rc, "[Errno " + std::to_string(rc) + "] " + what + " (host '" + host + "')");
    }
    std::vector<address_info> out;
    for (addrinfo* p = res; p; p = p->ai_next)
      out.push_back({p->ai_family, p->ai_socktype, p->ai_protocol, socket_address(p->ai_addr, p->ai_addrlen)});
    ::freeaddrinfo(res);
    return out;
  };
  auto answer = to_thread(std::move(lookup));
  co_return co_await answer;
}

// ---------------------------------------------------------------------------------------- sock_* calls

task<std::size_t> sock_recv_into(int fd, std::span<char> buf) {
  std::size_t got = 0;
  auto attempt = [fd, buf, &got]() {
    for (;;) {
      const ssize_t r = ::recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
      if (r >= 0) {
        got = static_cast<std::size_t>(r);
        return true;
      }
      if (errno == EINTR) continue;
      if (would_block(errno)) return false;
      throw_errno(errno, "sock_recv");
    }
  };
  co_await detail::io_until(fd, true, detail::make_io_attempt(attempt));
  co_return got;
}

task<std::string> sock_recv(int fd, std::size_t n) {
  std::string buf(n, '\0');
  const std::size_t got = co_await sock_recv_into(fd, std::span<char>(buf.data(), buf.size()));
  buf.resize(got);
  co_return buf;
}

task<void> sock_sendall(int fd, std::string_view data) {
  std::size_t sent = 0;
  auto attempt = [fd, data, &sent]() {
    while (sent < data.size()) {
      const ssize_t r = ::send(fd, data.data() + sent, data.size() - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (r < 0) {
        if (errno == EINTR) continue;
        if (would_block(errno)) return false;
        throw_errno(errno, "sock_sendall");
      }
      sent += static_cast<std::size_t>(r);
    }
    return true;
  };
  co_await detail::io_until(fd, false, detail::make_io_attempt(attempt));
}

task<accepted_socket> sock_accept(int fd) {
  accepted_socket out;
  auto attempt = [fd, &out]() {
    for (;;) {
      sockaddr_storage ss{};
      socklen_t len = sizeof ss;
      const int c = ::accept4(fd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (c >= 0) {
        out.fd = c;
        out.address = socket_address(reinterpret_cast<const sockaddr*>(&ss), len);
        return true;
      }
      if (errno == EINTR) continue;
      if (would_block(errno)) return false;
      throw_errno(errno, "sock_accept");
    }
  };
  co_await detail::io_until(fd, true, detail::make_io_attempt(attempt));
  co_return out;
}

task<void> sock_connect(int fd, socket_address address) {
  if (::connect(fd, address.data(), address.size()) == 0) co_return;
  // EINTR: the connection goes on in the background, exactly like EINPROGRESS.
  if (errno != EINPROGRESS && errno != EINTR) throw_errno(errno, "Connect call failed " + address.to_string());
  auto attempt = [fd, &address]() {
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) throw_errno(errno, "getsockopt(SO_ERROR)");
    if (err == 0) return true;
    if (err == EINPROGRESS || err == EINTR) return false;
    throw_errno(err, "Connect call failed " + address.to_string());
  };
  co_await detail::io_until(fd, false, detail::make_io_attempt(attempt), true);
}

}  // namespace coroscope
