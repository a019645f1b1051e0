// Streams (asyncio.StreamReader / StreamWriter / open_connection / start_server): the reader's methods
// fed by hand, then real loopback connections: flow control, half-close, resets, graceful close, IPv6,
// name resolution, servers. Every connection test counts open fds before and after (NetTest).
#include "net_support.hpp"

#include <fcntl.h>
#include <netdb.h>

#include <cerrno>
#include <system_error>

namespace {

using namespace std::string_literals;

// ------------------------------------------------------------------------------------- reader, by hand

TEST(StreamReader, ReadReturnsAtMostNBufferedBytesAndEmptyAtEof) {
  vrun([]() -> task<void> {
    cs::stream_reader r;
    r.feed_data("hello world");
    CO_EXPECT_EQ(r.read(5), "hello"s);
    CO_EXPECT_EQ(r.read(100), " world"s);
    EXPECT_FALSE(r.at_eof());
    r.feed_eof();
    EXPECT_TRUE(r.at_eof());
    CO_EXPECT_EQ(r.read(100), ""s);
    CO_EXPECT_EQ(r.read(), ""s);
  }());
}

TEST(StreamReader, ReadWaitsForDataFedLater) {
  vrun([]() -> task<void> {
    cs::stream_reader r;
    auto reading = cs::create_task(r.read(10));
    co_await cs::sleep(5ms);
    EXPECT_FALSE(reading.done());
    r.feed_data("abc");
    CO_EXPECT_EQ(reading, "abc"s);
  }());
}

TEST(StreamReader, ReadWithoutCountReadsUntilEof) {
  vrun([]() -> task<void> {
    cs::stream_reader r;
    auto reading = cs::create_task(r.read());
    for (const char* part : {"one ", "two ", "three"}) {
      co_await cs::sleep(1ms);
      r.feed_data(part);
    }
    EXPECT_FALSE(reading.done());
    r.feed_eof();
    CO_EXPECT_EQ(reading, "one two three"s);
  }());
}

TEST(StreamReader, ReadexactlyWaitsUntilEnoughBytesAreThere) {
  vrun([]() -> task<void> {
    cs::stream_reader r;
    auto reading = cs::create_task(r.readexactly(6));
    r.feed_data("abc");
    co_await cs::sleep(1ms);
    EXPECT_FALSE(reading.done());
    r.feed_data("defgh");
    CO_EXPECT_EQ(reading, "abcdef"s);
    CO_EXPECT_EQ(r.read(10), "gh"s);
  }());
}

TEST(StreamReader, ReadexactlyAtEofRaisesIncompleteReadErrorWithThePartialBytes) {
  vrun([]() -> task<void> {
    cs::stream_reader r;
    r.feed_data("abc");
    r.feed_eof();
    std::string partial, what;
    std::optional<std::size_t> expected;
    try {
      co_await r.readexactly(5);
    } catch (const cs::incomplete_read_error& e) {
      partial = e.partial();
      expected = e.expected();
      what = e.what();
    }
    EXPECT_EQ(partial, "abc");
    EXPECT_EQ(expected, std::optional<std::size_t>(5));
    EXPECT_EQ(what, "3 bytes read on a total of 5 expected bytes");
    EXPECT_TRUE(r.at_eof());  // the partial bytes were consumed
  }());
}

TEST(StreamReader, ReadlineReturnsLinesThenThePartialLastLineThenEmpty) {
  vrun([]() -> task<void> {
    cs::stream_reader r;
    r.feed_data("first\nsec");
    CO_EXPECT_EQ(r.readline(), "first\n"s);
    auto reading = cs::create_task(r.readline());
    co_await cs::sleep(1ms);
    EXPECT_FALSE(reading.done());
    r.feed_data("ond\nlast");
    CO_EXPECT_EQ(reading, "second\n"s);
    r.feed_eof();
    CO_EXPECT_EQ(r.readline(), "last"s);
    CO_EXPECT_EQ(r.readline(), ""s);
  }());
}

TEST(StreamReader, ReadlineLongerThanTheLimitRaisesAndIsDiscarded) {
  vrun([]() -> task<void> {
    cs::stream_reader r(8);
    r.feed_data("0123456789abcdef\nnext\n");
    CO_EXPECT_THROW(r.readline(), std::invalid_argument);
    CO_EXPECT_EQ(r.readline(), "next\n"s);
  }());
}

TEST(StreamReader, ReaduntilFindsASeparatorSplitAcrossFeeds) {
  vrun([]() -> task<void> {
    cs::stream_reader r;
    auto reading = cs::create_task(r.readuntil("||"));
    r.feed_data("ab|");
    co_await cs::sleep(1ms);
    EXPECT_FALSE(reading.done());
    r.feed_data("|cd");
    CO_EXPECT_EQ(reading, "ab||"s);
    CO_EXPECT_EQ(r.read(10), "cd"s);
  }());
}

TEST(StreamReader, ReaduntilPastTheLimitRaisesLimitOverrunAndKeepsTheData) {
  vrun([]() -> task<void> {
    cs::stream_reader r(4);
    r.feed_data("abcdefgh");
    std::size_t consumed = 0;
    std::string what;
    try {
      co_await r.readuntil("\n");
    } catch (const cs::limit_overrun_error& e) {
      consumed = e.consumed();
      what = e.what();
    }
    EXPECT_EQ(consumed, 8u);
    EXPECT_EQ(what, "Separator is not found, and chunk exceed the limit");
    EXPECT_EQ(r.buffered(), 8u);
    r.feed_data("\n");
    try {
      co_await r.readuntil("\n");
    } catch (const cs::limit_overrun_error& e) {
      consumed = e.consumed();
      what = e.what();
    }
    EXPECT_EQ(consumed, 8u);
    EXPECT_EQ(what, "Separator is found, but chunk is longer than limit");
    CO_EXPECT_EQ(r.read(100), "abcdefgh\n"s);
  }());
}

TEST(StreamReader, ReaduntilAtEofRaisesIncompleteReadWithoutAnExpectedCount) {
  vrun([]() -> task<void> {
    cs::stream_reader r;
    r.feed_data("no separator");
    r.feed_eof();
    std::string partial;
    bool has_expected = true;
    try {
      co_await r.readuntil("\n");
    } catch (const cs::incomplete_read_error& e) {
      partial = e.partial();
      has_expected = e.expected().has_value();
    }
    EXPECT_EQ(partial, "no separator");
    EXPECT_FALSE(has_expected);
    CO_EXPECT_THROW(r.readuntil(""), std::invalid_argument);
  }());
}

TEST(StreamReader, SetExceptionWakesTheWaitingReaderAndStays) {
  vrun([]() -> task<void> {
    cs::stream_reader r;
    auto reading = cs::create_task(r.read(10));
    co_await cs::sleep(1ms);
    r.set_exception(std::runtime_error("broken"));
    CO_EXPECT_THROW(reading, std::runtime_error);
    CO_EXPECT_THROW(r.readline(), std::runtime_error);
    EXPECT_TRUE(r.exception() != nullptr);
  }());
}

TEST(StreamReader, TwoCoroutinesWaitingAtOnceIsAnError) {
  vrun([]() -> task<void> {
    cs::stream_reader r;
    auto first = cs::create_task(r.read(10));
    co_await cs::sleep(1ms);
    CO_EXPECT_THROW(r.read(10), std::runtime_error);
    r.feed_data("x");
    CO_EXPECT_EQ(first, "x"s);
  }());
}

TEST(StreamReader, ACancelledReadLosesNothing) {
  vrun([]() -> task<void> {
    cs::stream_reader r;
    CO_EXPECT_THROW(cs::wait_for(r.readexactly(4), 5ms), cs::timeout_error);
    r.feed_data("data");
    CO_EXPECT_EQ(r.readexactly(4), "data"s);
  }());
}

TEST(StreamReader, FeedDataAfterEofAndAZeroLimitAreRejected) {
  EXPECT_THROW(cs::stream_reader(0), std::invalid_argument);
  cs::stream_reader r;
  r.feed_eof();
  EXPECT_THROW(r.feed_data("late"), std::logic_error);
}

// ------------------------------------------------------------------------------------------- connections

using Streams = NetTest;

task<void> echo_handler(cs::stream_reader reader, cs::stream_writer writer) {
  for (;;) {
    std::string data = co_await reader.read(64 * 1024);
    if (data.empty()) break;
    writer.write(data);
    co_await writer.drain();
  }
  writer.close();
  co_await writer.wait_closed();
}

TEST_F(Streams, EchoOverIPv4WithPeerAndSockNames) {
  rrun([]() -> task<void> {
    cs::server server = co_await cs::start_server(echo_handler, "127.0.0.1", 0);
    EXPECT_EQ(server.ports().size(), 1u);
    const std::uint16_t port = server.ports()[0];
    EXPECT_NE(port, 0);
    EXPECT_TRUE(server.is_serving());
    auto [reader, writer] = co_await cs::open_connection("127.0.0.1", port);
    EXPECT_EQ(writer.peername()->to_string(), "127.0.0.1:" + std::to_string(port));
    EXPECT_EQ(writer.sockname()->host(), "127.0.0.1");
    writer.writelines({"hello ", "world\n"});
    co_await writer.drain();
    CO_EXPECT_EQ(reader.readline(), "hello world\n"s);
    writer.close();
    EXPECT_TRUE(writer.is_closing());
    co_await writer.wait_closed();
    server.close();
    co_await server.wait_closed();
    EXPECT_FALSE(server.is_serving());
    EXPECT_TRUE(server.sockets().empty());
  }());
}

TEST_F(Streams, EchoOverIPv6) {
  if (!ipv6_loopback_available()) GTEST_SKIP() << "no IPv6 loopback here";
  rrun([]() -> task<void> {
    cs::server server = co_await cs::start_server(echo_handler, "::1", 0);
    EXPECT_EQ(server.sockets().at(0).family(), AF_INET6);
    auto [reader, writer] = co_await cs::open_connection("::1", server.ports().at(0));
    EXPECT_EQ(writer.peername()->host(), "::1");
    writer.write("over six\n");
    CO_EXPECT_EQ(reader.readline(), "over six\n"s);
    writer.close();
    co_await writer.wait_closed();
  }());
}

TEST_F(Streams, HostNamesAreResolvedOnTheExecutor) {
  rrun([]() -> task<void> {
    // "localhost" may be 127.0.0.1, ::1 or both: the server listens on each, the client tries each.
    cs::server server = co_await cs::start_server(echo_handler, "localhost", 0);
    EXPECT_FALSE(server.sockets().empty());
    auto [reader, writer] = co_await cs::open_connection("localhost", server.ports().back());
    writer.write("by name\n");
    CO_EXPECT_EQ(reader.readline(), "by name\n"s);
    writer.close();
  }());
}

TEST_F(Streams, ConnectingToAClosedPortRaisesConnectionRefused) {
  rrun([]() -> task<void> {
    std::uint16_t port = 0;
    ::close(raw_listener(port));
    auto connecting = cs::open_connection("127.0.0.1", port);
    const int code = co_await errno_of(std::move(connecting));
    EXPECT_EQ(code, ECONNREFUSED);
  }());
}

// A slow reader: the server reads nothing until told to. The writer must stop in drain() with a bounded
// buffer, and the server's reader must stop reading from the kernel once it holds 2 * limit.
TEST_F(Streams, DrainPausesTheWriterForASlowReaderAndBuffersStayBounded) {
  rrun([]() -> task<void> {
    constexpr std::size_t chunk = 16 * 1024, total = 32 * 1024 * 1024, limit = 4096, high = 64 * 1024;
    auto go = cs::create_future<void>();
    std::optional<cs::stream_reader> server_reader;
    std::string received;
    auto handler = [&](cs::stream_reader r, cs::stream_writer w) -> task<void> {
      server_reader = r;
      co_await go;
      for (;;) {
        std::string data = co_await r.read(1 << 20);
        if (data.empty()) break;
        received += data;
      }
      w.close();
    };
    cs::server_options options;
    options.streams.limit = limit;
    cs::server server = co_await cs::start_server(handler, "127.0.0.1", 0, options);
    auto [reader, writer] = co_await cs::open_connection("127.0.0.1", server.ports().at(0));
    EXPECT_EQ(writer.write_buffer_size(), 0u);
    std::string sent;
    std::size_t max_buffer = 0, paused = 0;
    bool drain_blocked = false;
    auto producer = cs::create_task([&]() -> task<void> {
      for (std::size_t i = 0; sent.size() < total; ++i) {
        std::string block(chunk, static_cast<char>('a' + i % 26));
        sent += block;
        writer.write(block);
        max_buffer = std::max(max_buffer, writer.write_buffer_size());
        if (writer.write_buffer_size() > high) {
          ++paused;
          drain_blocked = true;
        }
        co_await writer.drain();
        drain_blocked = false;
      }
      writer.write_eof();
    });
    // The kernel's buffers fill first; wait (without a deadline) until the writer is stuck in drain().
    while (!drain_blocked && !producer.done()) co_await cs::sleep(1ms);
    EXPECT_TRUE(drain_blocked) << "the peer never pushed back: raise total";
    co_await cs::sleep(20ms);  // still stuck: nobody reads
    EXPECT_TRUE(drain_blocked);
    EXPECT_LE(writer.write_buffer_size(), high + chunk);
    EXPECT_TRUE(server_reader.has_value());
    if (server_reader) {
      EXPECT_LE(server_reader->buffered(), 2 * limit + 64 * 1024);
    }  // reading paused at 2 * limit
    go.set_result();
    co_await producer;
    CO_EXPECT_EQ(reader.read(), ""s);  // the server closes after EOF
    EXPECT_GE(paused, 1u);
    EXPECT_LE(max_buffer, high + chunk);
    EXPECT_EQ(received.size(), sent.size());
    EXPECT_TRUE(received == sent);
    server_reader.reset();
    writer.close();
    co_await writer.wait_closed();
  }());
}

TEST_F(Streams, WriteEofHalfClosesAndTheOtherDirectionStillWorks) {
  rrun([]() -> task<void> {
    auto handler = [](cs::stream_reader r, cs::stream_writer w) -> task<void> {
      std::string request = co_await r.read();  // up to EOF
      EXPECT_TRUE(r.at_eof());
      w.write("got " + request);
      co_await w.drain();
      w.close();
      co_await w.wait_closed();
    };
    cs::server server = co_await cs::start_server(handler, "127.0.0.1", 0);
    auto [reader, writer] = co_await cs::open_connection("127.0.0.1", server.ports().at(0));
    EXPECT_TRUE(writer.can_write_eof());
    writer.write("request");
    writer.write_eof();
    co_await writer.drain();
    EXPECT_THROW(writer.write("more"), std::runtime_error);
    CO_EXPECT_EQ(reader.read(), "got request"s);
    EXPECT_TRUE(reader.at_eof());
    writer.close();
    co_await writer.wait_closed();
  }());
}

TEST_F(Streams, APeerResetMidStreamRaisesInTheReadingCoroutine) {
  rrun([]() -> task<void> {
    std::uint16_t port = 0;
    cs::detail::unique_fd listener(raw_listener(port));
    auto accepting = cs::create_task(cs::sock_accept(listener.get()));
    auto [reader, writer] = co_await cs::open_connection("127.0.0.1", port);
    cs::accepted_socket peer = co_await accepting;
    co_await cs::sock_sendall(peer.fd, "partial data");
    CO_EXPECT_EQ(reader.readexactly(7), "partial"s);
    writer.write("unread by the peer");  // unread data makes the peer's close a reset
    co_await cs::sleep(5ms);
    close_with_reset(peer.fd);
    int read_error = 0;
    try {
      for (;;) {
        std::string more = co_await reader.read(100);  // " data" may still come first
        if (more.empty()) break;
      }
    } catch (const std::system_error& e) {
      read_error = e.code().value();
    }
    EXPECT_EQ(read_error, ECONNRESET);
    int drain_error = 0;
    try {
      writer.write("after the reset");
      co_await writer.drain();
    } catch (const std::system_error& e) {
      drain_error = e.code().value();
    }
    EXPECT_EQ(drain_error, ECONNRESET);
    EXPECT_TRUE(writer.is_closing());
    CO_EXPECT_THROW(writer.wait_closed(), std::system_error);
  }());
}

TEST_F(Streams, GracefulCloseSendsEverythingStillBuffered) {
  rrun([]() -> task<void> {
    std::string received;
    auto done = cs::create_future<void>();
    auto handler = [&](cs::stream_reader r, cs::stream_writer) -> task<void> {
      received = co_await r.read();
      done.set_result();
    };
    cs::server server = co_await cs::start_server(handler, "127.0.0.1", 0);
    auto [reader, writer] = co_await cs::open_connection("127.0.0.1", server.ports().at(0));
    std::string big(16 << 20, '\0');
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i % 251);
    writer.write(big);  // far more than the kernel takes at once: most of it waits in the buffer
    EXPECT_GT(writer.write_buffer_size(), 0u);
    writer.close();
    co_await writer.wait_closed();
    co_await done;
    EXPECT_EQ(received.size(), big.size());
    EXPECT_TRUE(received == big);
  }());
}

TEST_F(Streams, DroppingEveryHandleClosesTheConnection) {
  rrun([]() -> task<void> {
    auto handler = [](cs::stream_reader r, cs::stream_writer w) -> task<void> {
      (void)r;
      w.write("bye");  // the handler returns without close(): its handles go, the connection closes
      co_return;
    };
    cs::server server = co_await cs::start_server(handler, "127.0.0.1", 0);
    auto [reader, writer] = co_await cs::open_connection("127.0.0.1", server.ports().at(0));
    CO_EXPECT_EQ(reader.read(), "bye"s);
    writer.close();
  }());
}

TEST_F(Streams, ManyConnectionsOpenAndCloseWithoutLeakingFds) {
  rrun([]() -> task<void> {
    cs::server server = co_await cs::start_server(echo_handler, "127.0.0.1", 0);
    const std::uint16_t port = server.ports().at(0);
    std::vector<task<std::string>> clients;
    for (int i = 0; i < 50; ++i) {
      clients.push_back([](std::uint16_t p, int n) -> task<std::string> {
        auto [r, w] = co_await cs::open_connection("127.0.0.1", p);
        w.write(std::to_string(n) + "\n");
        std::string line = co_await r.readline();
        w.close();
        co_await w.wait_closed();
        co_return line;
      }(port, i));
    }
    std::vector<std::string> lines = co_await cs::gather(std::move(clients));
    for (int i = 0; i < 50; ++i) EXPECT_EQ(lines[static_cast<std::size_t>(i)], std::to_string(i) + "\n");
    server.close();
    co_await server.wait_closed();
  }());
}

// ------------------------------------------------------------------------------------------------ server

using Server = NetTest;

TEST_F(Server, CancellingServeForeverClosesTheServer) {
  rrun([]() -> task<void> {
    cs::server server = co_await cs::start_server(echo_handler, "127.0.0.1", 0);
    const std::uint16_t port = server.ports().at(0);
    auto serving = cs::create_task(server.serve_forever());
    co_await cs::sleep(1ms);
    CO_EXPECT_THROW(server.serve_forever(), std::runtime_error);  // one serve_forever at a time
    serving.cancel();
    CO_EXPECT_THROW(serving, cs::cancelled_error);
    EXPECT_FALSE(server.is_serving());
    CO_EXPECT_THROW(cs::open_connection("127.0.0.1", port), std::system_error);
    CO_EXPECT_THROW(server.serve_forever(), std::runtime_error);  // closed
  }());
}

TEST_F(Server, AsyncWithClosesAndWaitsForRunningHandlers) {
  rrun([]() -> task<void> {
    bool handler_finished = false;
    auto got_line = cs::create_future<void>();
    auto handler = [&](cs::stream_reader r, cs::stream_writer w) -> task<void> {
      std::string line = co_await r.readline();
      got_line.set_result();
      co_await cs::sleep(20ms);
      w.write(line);
      co_await w.drain();
      handler_finished = true;
    };
    cs::server server = co_await cs::start_server(handler, "127.0.0.1", 0);
    co_await cs::async_with(server, [&](cs::server& s) -> task<void> {
      auto [r, w] = co_await cs::open_connection("127.0.0.1", s.ports().at(0));
      w.write("ping\n");
      co_await got_line;  // the handler runs; leave before its answer
    });
    EXPECT_TRUE(handler_finished);
    EXPECT_FALSE(server.is_serving());
  }());
}

TEST_F(Server, AHandlerExceptionIsReportedAndItsConnectionClosed) {
  handler_calls calls;
  rrun([&]() -> task<void> {
    calls.install(cs::get_running_loop());
    auto handler = [](cs::stream_reader r, cs::stream_writer) -> task<void> {
      co_await r.readline();
      throw std::runtime_error("handler failed");
    };
    cs::server server = co_await cs::start_server(handler, "127.0.0.1", 0);
    auto [reader, writer] = co_await cs::open_connection("127.0.0.1", server.ports().at(0));
    writer.write("boom\n");
    CO_EXPECT_EQ(reader.read(), ""s);  // closed by the server
    writer.close();
  }());
  ASSERT_EQ(calls.messages.size(), 1u);
  EXPECT_EQ(calls.messages[0], "Unhandled exception in client_connected_cb");
  EXPECT_TRUE(cs::detail::holds<std::runtime_error>(calls.exceptions[0]));
}

// Trap: a capturing coroutine lambda passed as a temporary must stay alive for every connection.
TEST_F(Server, TheServerKeepsACapturingHandlerAlive) {
  rrun([]() -> task<void> {
    int served = 0;
    cs::server server = co_await [&]() {
      std::string greeting = "hello, ";  // captured by value: lives in the closure only
      return cs::start_server(
          [greeting, &served](cs::stream_reader r, cs::stream_writer w) -> task<void> {
            std::string name = co_await r.readline();
            co_await cs::sleep(1ms);
            w.write(greeting + name);
            ++served;
          },
          "127.0.0.1", 0);
    }();
    for (int i = 0; i < 3; ++i) {
      auto [r, w] = co_await cs::open_connection("127.0.0.1", server.ports().at(0));
      w.write("you\n");
      CO_EXPECT_EQ(r.read(), "hello, you\n"s);
      w.close();
    }
    EXPECT_EQ(served, 3);
  }());
}

// --------------------------------------------------------------------------------- fd streams (pipes)

using FdStreams = NetTest;

TEST_F(FdStreams, PipesCarryLinesAndWriteEofClosesTheWriteEnd) {
  rrun([]() -> task<void> {
    int p[2];
    EXPECT_EQ(::pipe2(p, O_CLOEXEC), 0);
    auto& loop = cs::get_running_loop();
    auto in = cs::detail::make_fd_streams(loop, p[0], -1);
    auto out = cs::detail::make_fd_streams(loop, -1, p[1]);
    EXPECT_TRUE(in.reader && !in.writer && out.writer && !out.reader);
    EXPECT_FALSE(out.writer->peername().has_value());
    EXPECT_TRUE(out.writer->can_write_eof());
    out.writer->write("line one\nline two\n");
    out.writer->write_eof();
    EXPECT_EQ(::fcntl(p[1], F_GETFD), -1);  // closed by write_eof
    CO_EXPECT_EQ(in.reader->readline(), "line one\n"s);
    CO_EXPECT_EQ(in.reader->readline(), "line two\n"s);
    CO_EXPECT_EQ(in.reader->readline(), ""s);
    EXPECT_TRUE(in.reader->at_eof());
  }());
}

TEST_F(FdStreams, WritingToAPipeWithoutReaderRaisesEpipeInsteadOfSignalling) {
  rrun([]() -> task<void> {
    int p[2];
    EXPECT_EQ(::pipe2(p, O_CLOEXEC), 0);
    ::close(p[0]);
    auto out = cs::detail::make_fd_streams(cs::get_running_loop(), -1, p[1]);
    int code = 0;
    try {
      out.writer->write("nobody listens");
      co_await out.writer->drain();
    } catch (const std::system_error& e) {
      code = e.code().value();
    }
    EXPECT_EQ(code, EPIPE);
  }());
}

TEST_F(FdStreams, BothSidesOfOneTransportOverAPipePair) {
  rrun([]() -> task<void> {
    int p[2];
    EXPECT_EQ(::pipe2(p, O_CLOEXEC), 0);
    auto s = cs::detail::make_fd_streams(cs::get_running_loop(), p[0], p[1]);
    s.writer->write("loop back\n");
    CO_EXPECT_EQ(s.reader->readline(), "loop back\n"s);
    s.writer->close();
    co_await s.writer->wait_closed();
    EXPECT_TRUE(s.reader->at_eof());
  }());
}

TEST(FdStreamsContract, MissingBothFdsIsRejected) {
  cs::event_loop loop;
  EXPECT_THROW(cs::detail::make_fd_streams(loop, -1, -1), std::invalid_argument);
}

}  // namespace
