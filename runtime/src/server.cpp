// asyncio.start_server and asyncio.Server (base_events.Server): listening sockets, accepting with the
// accept-error policy of asyncio, one task per connection, and closing / waiting for the handlers.
#include "transport.hpp"

#include <coroscope/server.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace coroscope {

namespace detail {

struct server_state final : rc_base {
  server_state(event_loop& l, connection_handler h, const server_options& o)
      : loop(&l), anchor(l.anchor()), handler(std::move(h)), options(o) {}
  ~server_state() override {
    for (int fd : listeners) ::close(fd);
  }

  event_loop* loop;
  std::shared_ptr<loop_anchor> anchor;
  connection_handler handler;
  server_options options;
  std::vector<int> listeners;
  std::vector<socket_address> addresses;
  bool serving = false;
  bool closed = false;
  bool woken = false;  // closed and idle: wait_closed returns at once
  std::size_t active = 0;
  std::vector<future<void>> waiters;
  future<void> serving_forever;
  timer_handle accept_retry;

  bool loop_alive() const noexcept { return anchor->open; }

  void start_serving() {
    if (serving || closed) return;
    serving = true;
    for (int fd : listeners) loop->add_reader(fd, [this, fd] { on_acceptable(fd); });
  }

  void close() {
    if (closed) return;
    closed = true;
    accept_retry.cancel();
    for (int fd : listeners) {
      if (serving && loop_alive()) loop->remove_reader(fd);
      ::close(fd);
    }
    listeners.clear();
    serving = false;
    if (serving_forever && !serving_forever.done()) serving_forever.cancel();
    if (active == 0) wakeup();
  }

  void wakeup() {
    woken = true;
    auto ws = std::move(waiters);
    waiters.clear();
    if (!loop_alive()) return;
    for (auto& w : ws)
      if (!w.done()) w.set_result();
  }

  void detach() {
    --active;
    if (active == 0 && closed) wakeup();
  }

  void on_acceptable(int fd) {
    for (int i = 0; i < std::max(options.backlog, 1); ++i) {
      sockaddr_storage ss{};
      socklen_t len = sizeof ss;
      const int c = ::accept4(fd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (c < 0) {
        const int err = errno;
        if (err == EINTR) continue;
        if (err == EAGAIN || err == EWOULDBLOCK || err == ECONNABORTED) return;
        exception_context ctx;
        ctx.exception = errno_error(err, "accept");
        if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
          // Out of descriptors or memory: stop accepting for a second, as asyncio does.
          ctx.message = "socket.accept() out of system resource";
          loop->call_exception_handler(ctx);
          for (int l : listeners) loop->remove_reader(l);
          serving = false;
          accept_retry = loop->call_later(std::chrono::seconds(1), [this] { start_serving(); });
        } else {
          ctx.message = "Error on accepting a connection";
          loop->call_exception_handler(ctx);
        }
        return;
      }
      accept_connection(c);
    }
  }

  void accept_connection(int fd);
};

namespace {

task<void> run_connection(rc_ptr<server_state> s, stream_reader reader, stream_writer writer) {
  std::exception_ptr error;
  try {
    auto body = s->handler(reader, writer);
    co_await std::move(body);
  } catch (...) {
    error = std::current_exception();
  }
  s->detach();
  if (!error) co_return;
  if (is_cancelled_error(error)) std::rethrow_exception(error);
  exception_context ctx;
  ctx.message = "Unhandled exception in client_connected_cb";
  ctx.exception = error;
  ctx.task = current_task().get_name();
  if (auto peer = writer.peername()) ctx.source = "connection from " + peer->to_string();
  s->loop->call_exception_handler(ctx);
  writer.close();
}

}  // namespace

void server_state::accept_connection(int fd) {
  set_nodelay(fd);
  auto streams = make_fd_streams(*loop, fd, fd, options.streams);
  ++active;
  add_ref();
  loop->create_task(run_connection(rc_ptr<server_state>(this), std::move(*streams.reader), std::move(*streams.writer)));
}

task<server> start_server_impl(connection_handler handler, std::string host, std::uint16_t port,
                               server_options options) {
  event_loop& loop = get_running_loop();
  auto resolving = resolve(std::move(host), port, true);
  const std::vector<socket_address> addresses = co_await std::move(resolving);
  rc_ptr<server_state> st(new server_state(loop, std::move(handler), options));
  for (const auto& address : addresses) {
    unique_fd fd = tcp_socket(address.family());
    const int one = 1;
    if (options.reuse_address) ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    // Each family listens on its own socket, as asyncio: "::" must not also take the IPv4 port.
    if (address.family() == AF_INET6) ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (::bind(fd.get(), address.data(), address.size()) != 0)
      throw std::system_error(errno, std::generic_category(),
                              "error while attempting to bind on address " + address.to_string());
    if (::listen(fd.get(), options.backlog) != 0)
      throw std::system_error(errno, std::generic_category(), "listen on " + address.to_string());
    st->addresses.push_back(coroscope::sockname(fd.get()));
    st->listeners.push_back(fd.release());
  }
  if (st->listeners.empty()) throw std::runtime_error("start_server: no address to listen on");
  st->start_serving();
  co_return server(std::move(st));
}

}  // namespace detail

server::server(detail::rc_ptr<detail::server_state> s) noexcept : state_(std::move(s)) {}
server::server(server&& o) noexcept = default;
server& server::operator=(server&& o) noexcept {
  if (this != &o) {
    if (state_.get()) state_->close();
    state_ = std::move(o.state_);
  }
  return *this;
}
server::~server() {
  if (state_.get()) state_->close();
}

bool server::is_serving() const noexcept { return state_.get() && state_->serving; }
void server::start_serving() { state_->start_serving(); }
void server::close() { state_->close(); }
event_loop& server::get_loop() const { return *state_->loop; }

std::vector<socket_address> server::sockets() const {
  if (state_->closed) return {};
  return state_->addresses;
}

std::vector<std::uint16_t> server::ports() const {
  std::vector<std::uint16_t> out;
  for (const auto& a : sockets()) out.push_back(a.port());
  return out;
}

namespace {

task<void> wait_server_closed(detail::rc_ptr<detail::server_state> st) {
  if (st->woken) co_return;
  future<void> w(get_running_loop());
  st->waiters.push_back(w);
  co_await w;
}

}  // namespace

task<void> server::wait_closed() { return wait_server_closed(state_); }

task<void> server::serve_forever() {
  detail::rc_ptr<detail::server_state> st = state_;
  if (st->serving_forever) throw std::runtime_error("server is already being awaited on serve_forever()");
  if (st->closed) throw std::runtime_error("server is closed");
  st->start_serving();
  future<void> forever(get_running_loop());
  st->serving_forever = forever;
  std::exception_ptr error;
  try {
    co_await forever;
  } catch (...) {
    error = std::current_exception();
  }
  st->serving_forever = future<void>();
  if (error && detail::is_cancelled_error(error)) {
    st->close();
    auto closing = wait_server_closed(st);
    co_await std::move(closing);
  }
  if (error) std::rethrow_exception(error);
}

task<void> server::aexit(std::exception_ptr) {
  detail::rc_ptr<detail::server_state> st = state_;
  st->close();
  auto closing = wait_server_closed(st);
  co_await std::move(closing);
}

}  // namespace coroscope
