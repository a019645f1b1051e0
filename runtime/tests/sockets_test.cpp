// Low-level socket operations (loop.sock_* in asyncio) on real loopback sockets.
#include "net_support.hpp"

#include <netdb.h>

#include <cerrno>
#include <system_error>

namespace {

using Sockets = NetTest;

// A connected pair through a listener: (client, server side), both non-blocking.
task<std::pair<int, int>> connected_pair() {
  std::uint16_t port = 0;
  cs::detail::unique_fd listener(raw_listener(port));
  cs::detail::unique_fd client = cs::detail::tcp_socket(AF_INET);
  auto address = cs::socket_address::from_ip("127.0.0.1", port);
  auto accepting = cs::sock_accept(listener.get());
  auto connecting = cs::sock_connect(client.get(), address);
  auto accepted_task = cs::create_task(std::move(accepting));
  co_await std::move(connecting);
  cs::accepted_socket accepted = co_await accepted_task;
  EXPECT_EQ(accepted.address, cs::sockname(client.get()));
  co_return std::pair<int, int>(client.release(), accepted.fd);
}

TEST_F(Sockets, AcceptConnectSendallAndRecvMoveBytesBothWays) {
  rrun([]() -> task<void> {
    auto [c, s] = co_await connected_pair();
    cs::detail::unique_fd client(c), server(s);
    co_await cs::sock_sendall(client.get(), "hello");
    CO_EXPECT_EQ(cs::sock_recv(server.get(), 100), std::string("hello"));
    co_await cs::sock_sendall(server.get(), "world");
    char buf[16];
    const std::size_t n = co_await cs::sock_recv_into(client.get(), std::span<char>(buf, sizeof buf));
    EXPECT_EQ(std::string(buf, n), "world");
  }());
}

TEST_F(Sockets, RecvWaitsForDataAndReturnsEmptyAtEndOfStream) {
  rrun([]() -> task<void> {
    auto [c, s] = co_await connected_pair();
    cs::detail::unique_fd client(c), server(s);
    auto reading = cs::create_task(cs::sock_recv(server.get(), 100));
    co_await cs::sleep(std::chrono::milliseconds(5));
    EXPECT_FALSE(reading.done());
    co_await cs::sock_sendall(client.get(), "late");
    CO_EXPECT_EQ(reading, std::string("late"));
    ::shutdown(client.get(), SHUT_WR);
    CO_EXPECT_EQ(cs::sock_recv(server.get(), 100), std::string());
  }());
}

TEST_F(Sockets, SendallOfMoreThanTheKernelTakesWaitsUntilEverythingIsSent) {
  rrun([]() -> task<void> {
    auto [c, s] = co_await connected_pair();
    cs::detail::unique_fd client(c), server(s);
    std::string big(8 << 20, '\0');
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7 + i / 4096);
    auto sending = cs::create_task(cs::sock_sendall(client.get(), big));
    std::string got;
    while (got.size() < big.size()) got += co_await cs::sock_recv(server.get(), 1 << 16);
    co_await sending;
    EXPECT_TRUE(got == big);
  }());
}

TEST_F(Sockets, ConnectToAClosedPortRaisesConnectionRefused) {
  rrun([]() -> task<void> {
    std::uint16_t port = 0;
    ::close(raw_listener(port));  // a port that was free a moment ago and has no listener now
    cs::detail::unique_fd fd = cs::detail::tcp_socket(AF_INET);
    auto connecting = cs::sock_connect(fd.get(), cs::socket_address::from_ip("127.0.0.1", port));
    const int code = co_await errno_of(std::move(connecting));
    EXPECT_EQ(code, ECONNREFUSED);
  }());
}

TEST_F(Sockets, CancelledRecvUnregistersAndConsumesNothing) {
  rrun([]() -> task<void> {
    auto [c, s] = co_await connected_pair();
    cs::detail::unique_fd client(c), server(s);
    auto reading = cs::create_task(cs::sock_recv(server.get(), 100));
    co_await cs::sleep(std::chrono::milliseconds(1));
    reading.cancel();
    CO_EXPECT_THROW(reading, cs::cancelled_error);
    co_await cs::sock_sendall(client.get(), "kept");
    co_await cs::sleep(std::chrono::milliseconds(5));  // a stale reader would have taken it by now
    CO_EXPECT_EQ(cs::sock_recv(server.get(), 100), std::string("kept"));
    // Nothing is left registered on the fd: the loop can be asked to watch it afresh.
    EXPECT_FALSE(cs::get_running_loop().remove_reader(server.get()));
  }());
}

TEST_F(Sockets, RecvOnAResetConnectionRaisesTheErrno) {
  rrun([]() -> task<void> {
    auto [c, s] = co_await connected_pair();
    cs::detail::unique_fd server(s);
    co_await cs::sock_sendall(server.get(), "x");  // unread data makes close() send a reset
    close_with_reset(c);
    auto receiving = cs::sock_recv(server.get(), 100);
    const int code = co_await errno_of(std::move(receiving));
    EXPECT_EQ(code, ECONNRESET);
  }());
}

TEST_F(Sockets, GetaddrinfoResolvesLocalhostOnTheExecutor) {
  rrun([]() -> task<void> {
    const auto infos = co_await cs::getaddrinfo("localhost", 80);
    EXPECT_FALSE(infos.empty());
    for (const auto& info : infos) {
      EXPECT_EQ(info.address.port(), 80);
      const std::string host = info.address.host();
      EXPECT_TRUE(host == "127.0.0.1" || host == "::1") << host;
    }
  }());
}

TEST_F(Sockets, GetaddrinfoFailureRaisesGaiError) {
  rrun([]() -> task<void> {
    // AI_NUMERICHOST makes the failure certain without asking any name server.
    int code = 0;
    try {
      co_await cs::getaddrinfo("not-a-number", 80, AF_UNSPEC, SOCK_STREAM, AI_NUMERICHOST);
    } catch (const cs::gai_error& e) {
      code = e.code();
    }
    EXPECT_EQ(code, EAI_NONAME);
  }());
}

TEST(SocketAddress, FormatsIPv4AndIPv6) {
  auto v4 = cs::socket_address::from_ip("127.0.0.1", 8888);
  EXPECT_EQ(v4.family(), AF_INET);
  EXPECT_EQ(v4.to_string(), "127.0.0.1:8888");
  auto v6 = cs::socket_address::from_ip("::1", 80);
  EXPECT_EQ(v6.family(), AF_INET6);
  EXPECT_EQ(v6.to_string(), "[::1]:80");
  EXPECT_THROW(cs::socket_address::from_ip("localhost", 1), std::invalid_argument);
}

}  // namespace
