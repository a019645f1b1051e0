// Reliability: 1,000 concurrent loopback connections, each echoing 1 MiB through a coroscope server; every
// byte must come back, in order, and no fd may leak. Labelled "reliability" (ctest -L reliability).
#include "net_support.hpp"

#include <sys/resource.h>

#include <cstdint>
#include <cstring>
#include <string_view>

namespace {

constexpr int connections = 1000;
constexpr std::size_t bytes_per_connection = 1 << 20;
constexpr std::size_t chunk = 64 * 1024;

// Every connection sends a different 1 MiB window of one pseudo-random 2 MiB pattern, so a byte that is
// lost, duplicated, reordered or delivered to the wrong connection shows up as a mismatch. Windows are
// compared with memcmp: cheap even in a Debug or sanitizer build.
const std::string& pattern() {
  static const std::string p = [] {
    std::string s(2 * bytes_per_connection, '\0');
    std::uint32_t x = 2463534242u;
    for (auto& c : s) {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      c = static_cast<char>(x >> 24);
    }
    return s;
  }();
  return p;
}
std::string_view stream_of(int id) {
  return std::string_view(pattern()).substr(static_cast<std::size_t>(id) * 4099 % bytes_per_connection,
                                            bytes_per_connection);
}

// Needs about two fds per connection, plus the loop's own.
void raise_fd_limit(rlim_t needed) {
  rlimit lim{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &lim), 0);
  if (lim.rlim_cur >= needed) return;
  ASSERT_GE(lim.rlim_max, needed) << "RLIMIT_NOFILE's hard limit is too low for " << connections << " connections";
  lim.rlim_cur = lim.rlim_max;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &lim), 0);
}

task<void> echo(cs::stream_reader reader, cs::stream_writer writer) {
  for (;;) {
    std::string data = co_await reader.read(chunk);
    if (data.empty()) break;
    writer.write(data);
    co_await writer.drain();
  }
  writer.close();
  co_await writer.wait_closed();
}

// One client: sends its stream in chunks (honouring drain) while a second task checks what comes back.
// Returns how many bytes came back right before the first wrong one.
task<std::size_t> client(std::uint16_t port, int id) {
  auto [reader, writer] = co_await cs::open_connection("127.0.0.1", port);
  const std::string_view expected = stream_of(id);
  auto sending = cs::create_task([writer, expected]() mutable -> task<void> {
    for (std::size_t off = 0; off < expected.size(); off += chunk) {
      writer.write(expected.substr(off, chunk));
      co_await writer.drain();
    }
    writer.write_eof();
  });
  std::size_t good = 0;
  for (;;) {
    std::string data = co_await reader.read(chunk);
    if (data.empty()) break;
    if (data.size() > expected.size() - good || std::memcmp(data.data(), expected.data() + good, data.size()) != 0) {
      std::size_t i = 0;
      while (i < data.size() && good + i < expected.size() && data[i] == expected[good + i]) ++i;
      co_return good + i;
    }
    good += data.size();
  }
  co_await sending;
  writer.close();
  co_await writer.wait_closed();
  co_return good;
}

TEST(StreamsReliability, AThousandConnectionsEchoOneMebibyteEachInOrder) {
  raise_fd_limit(2 * connections + 64);
  pattern();  // built before the clock of the run starts
  const int fds_before = open_fds();
  std::vector<std::size_t> received = rrun([]() -> task<std::vector<std::size_t>> {
    cs::server_options options;
    options.backlog = connections;
    cs::server server = co_await cs::start_server(echo, "127.0.0.1", 0, options);
    const std::uint16_t port = server.ports().at(0);
    std::vector<task<std::size_t>> clients;
    for (int id = 0; id < connections; ++id) clients.push_back(client(port, id));
    std::vector<std::size_t> counts = co_await cs::gather(std::move(clients));
    server.close();
    co_await server.wait_closed();
    co_return counts;
  }());
  ASSERT_EQ(received.size(), static_cast<std::size_t>(connections));
  int complete = 0;
  for (int id = 0; id < connections; ++id) {
    EXPECT_EQ(received[static_cast<std::size_t>(id)], bytes_per_connection) << "connection " << id;
    complete += received[static_cast<std::size_t>(id)] == bytes_per_connection;
  }
  EXPECT_EQ(complete, connections);
  EXPECT_EQ(open_fds(), fds_before) << "file descriptors leaked";
}

}  // namespace
