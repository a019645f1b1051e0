#pragma once
// asyncio.start_server and asyncio.Server (base_events.Server): a listening socket whose connections each
// run a handler on a stream_reader / stream_writer pair (streams.hpp) in a task of their own.
//
//   auto srv = co_await coroscope::start_server(
//       [](coroscope::stream_reader& r, coroscope::stream_writer& w) -> coroscope::task<void> {
//         w.write(co_await r.readline());
//         co_await w.drain();
//       },
//       "127.0.0.1", 0);
//   co_await srv.serve_forever();
#include <coroscope/async_with.hpp>
#include <coroscope/detail/rc_ptr.hpp>
#include <coroscope/sockets.hpp>
#include <coroscope/streams.hpp>
#include <coroscope/task.hpp>

#include <cstdint>
#include <exception>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace coroscope {

struct server_options {
  stream_options streams;
  int backlog = 100;
  bool reuse_address = true;
};

class server;

namespace detail {
struct server_state;
using connection_handler = std::function<task<void>(stream_reader&, stream_writer&)>;
task<server> start_server_impl(connection_handler handler, std::string host, std::uint16_t port,
                               server_options options);
}  // namespace detail

// asyncio.Server. Owns the listening sockets: destroying it closes them (connections go on).
class server {
public:
  server(server&& o) noexcept;
  server& operator=(server&& o) noexcept;
  server(const server&) = delete;
  server& operator=(const server&) = delete;
  ~server();

  bool is_serving() const noexcept;
  // Starts accepting (start_server already did, as asyncio's start_serving=True).
  void start_serving();
  // Accepts until cancelled, or until close() (then it raises cancelled_error, as asyncio); a cancelled
  // serve_forever closes the server and waits for it.
  task<void> serve_forever();
  // Stops listening and closes the listening sockets; running connections are not touched.
  void close();
  // Waits until the server is closed and every connection handler has returned (3.12's meaning: 3.11
  // returns early when called after close()).
  task<void> wait_closed();
  // The listening sockets' addresses (Server.sockets), and their ports.
  std::vector<socket_address> sockets() const;
  std::vector<std::uint16_t> ports() const;
  event_loop& get_loop() const;

  // async with server: aexit closes and waits.
  detail::ready_awaitable<server&> aenter() { return {*this}; }
  task<void> aexit(std::exception_ptr);

private:
  friend task<server> detail::start_server_impl(detail::connection_handler, std::string, std::uint16_t,
                                                server_options);
  explicit server(detail::rc_ptr<detail::server_state> s) noexcept;
  detail::rc_ptr<detail::server_state> state_;
};

// asyncio.start_server(client_connected_cb, host, port, limit=..., backlog=...). handler is a callable
// (stream_reader, stream_writer) -> task<void> (by value or by reference); each connection runs it in a
// task of its own. The server keeps the handler (a coroutine lambda's closure included) alive as long as
// a connection uses it. An exception escaping the handler goes to the loop's exception handler
// ("Unhandled exception in client_connected_cb") and closes that connection. host "" listens on every
// interface (IPv4 and IPv6); port 0 picks a free port (see server::ports()).
template <class Handler>
task<server> start_server(Handler handler, std::string_view host, std::uint16_t port, server_options options = {}) {
  detail::connection_handler h = [handler = std::move(handler)](stream_reader& r, stream_writer& w) mutable {
    return handler(r, w);
  };
  return detail::start_server_impl(std::move(h), std::string(host), port, std::move(options));
}

}  // namespace coroscope
