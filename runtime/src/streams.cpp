// asyncio's StreamReader, StreamWriter and open_connection, on the transport of transport.hpp.
#include "transport.hpp"

#include <coroscope/streams.hpp>

namespace coroscope {

namespace detail {

task<void> reader_state::wait_for_data(const char* fn) {
  if (waiter)
    throw std::runtime_error(std::string(fn) +
                             "() called while another coroutine is already waiting for incoming data");
  if (feeder && feeder->read_paused()) feeder->resume_reading();
  future<void> w(get_running_loop());
  waiter = w;
  struct forget {
    reader_state* s;
    future_core* mine;
    ~forget() {
      if (s->waiter.core_ptr() == mine) s->waiter = future<void>();
    }
  } guard{this, w.core_ptr()};
  co_await w;
}

// ------------------------------------------------------------------------------------------ reading ops

namespace {

using reader_ptr = rc_ptr<reader_state>;

task<std::string> read_some_or_all(reader_ptr st, std::ptrdiff_t n) {
  reader_state& s = *st;
  if (s.exc) std::rethrow_exception(s.exc);
  if (n == 0) co_return std::string();
  if (n < 0) {
    std::string all;
    for (;;) {
      if (s.exc) std::rethrow_exception(s.exc);
      if (s.buf.empty() && !s.eof) co_await s.wait_for_data("read");
      if (s.buf.empty()) break;
      all.append(s.buf.view());
      s.take(s.buf.size());
    }
    co_return all;
  }
  if (s.buf.empty() && !s.eof) co_await s.wait_for_data("read");
  co_return s.take(std::min(static_cast<std::size_t>(n), s.buf.size()));
}

task<std::string> read_exactly(reader_ptr st, std::size_t n) {
  reader_state& s = *st;
  if (s.exc) std::rethrow_exception(s.exc);
  if (n == 0) co_return std::string();
  while (s.buf.size() < n) {
    if (s.eof) {
      std::string partial = s.buf.take(s.buf.size());
      throw incomplete_read_error(std::move(partial), n);
    }
    co_await s.wait_for_data("readexactly");
  }
  co_return s.take(n);
}

task<std::string> read_until(reader_ptr st, std::string sep) {
  reader_state& s = *st;
  if (sep.empty()) throw std::invalid_argument("Separator should be at least one-byte string");
  if (s.exc) std::rethrow_exception(s.exc);
  std::size_t offset = 0;
  std::size_t found = std::string_view::npos;
  for (;;) {
    const std::size_t buflen = s.buf.size();
    if (buflen - offset >= sep.size()) {
      found = s.buf.view().find(sep, offset);
      if (found != std::string_view::npos) break;
      // A separator straddling what is buffered and what comes next starts at buflen + 1 - len at most.
      offset = buflen + 1 - sep.size();
      if (offset > s.limit) throw limit_overrun_error("Separator is not found, and chunk exceed the limit", offset);
    }
    if (s.eof) {
      std::string partial = s.buf.take(s.buf.size());
      throw incomplete_read_error(std::move(partial), std::nullopt);
    }
    co_await s.wait_for_data("readuntil");
  }
  if (found > s.limit) throw limit_overrun_error("Separator is found, but chunk is longer than limit", found);
  co_return s.take(found + sep.size());
}

task<std::string> read_line(reader_ptr st) {
  reader_state& s = *st;
  std::string line;
  std::optional<std::string> partial;
  std::optional<std::size_t> overrun_at;
  std::string overrun_what;
  try {
    auto until = read_until(st, std::string("\n"));
    line = co_await std::move(until);
  } catch (const incomplete_read_error& e) {
    partial = e.partial();
  } catch (const limit_overrun_error& e) {
    overrun_at = e.consumed();
    overrun_what = e.what();
  }
  if (partial) co_return std::move(*partial);
  if (overrun_at) {
    // Drop the over-long line (up to its separator when it is in the buffer), as asyncio does.
    if (s.buf.view().substr(*overrun_at, 1) == "\n")
      s.buf.consume(*overrun_at + 1);
    else
      s.buf.consume(s.buf.size());
    s.maybe_resume_transport();
    throw std::invalid_argument(overrun_what);
  }
  co_return line;
}

}  // namespace

}  // namespace detail

// ----------------------------------------------------------------------------------------------- errors

incomplete_read_error::incomplete_read_error(std::string partial, std::optional<std::size_t> expected)
    : std::runtime_error(std::to_string(partial.size()) + " bytes read on a total of " +
                         (expected ? std::to_string(*expected) : std::string("undefined")) + " expected bytes"),
      partial_(std::move(partial)),
      expected_(expected) {}

// ------------------------------------------------------------------------------------------ stream_reader

stream_reader::stream_reader(std::size_t limit) : state_(new detail::reader_state(limit)) {}
stream_reader::stream_reader(detail::rc_ptr<detail::reader_state> s, detail::transport_user t) noexcept
    : state_(std::move(s)), transport_(std::move(t)) {}
stream_reader::stream_reader(const stream_reader&) = default;
stream_reader::stream_reader(stream_reader&&) noexcept = default;
stream_reader& stream_reader::operator=(const stream_reader&) = default;
stream_reader& stream_reader::operator=(stream_reader&&) noexcept = default;
stream_reader::~stream_reader() = default;

task<std::string> stream_reader::read(std::ptrdiff_t n) { return detail::read_some_or_all(state_, n); }
task<std::string> stream_reader::readexactly(std::size_t n) { return detail::read_exactly(state_, n); }
task<std::string> stream_reader::readline() { return detail::read_line(state_); }
task<std::string> stream_reader::readuntil(std::string_view separator) {
  return detail::read_until(state_, std::string(separator));
}
bool stream_reader::at_eof() const noexcept { return state_->eof && state_->buf.empty(); }
std::exception_ptr stream_reader::exception() const noexcept { return state_->exc; }
void stream_reader::feed_data(std::string_view data) { state_->feed_data(data); }
void stream_reader::feed_eof() { state_->feed_eof(); }
void stream_reader::set_exception(std::exception_ptr e) { state_->set_exception(std::move(e)); }
std::size_t stream_reader::limit() const noexcept { return state_->limit; }
std::size_t stream_reader::buffered() const noexcept { return state_->buf.size(); }

// ------------------------------------------------------------------------------------------ stream_writer

void stream_writer::write(std::string_view data) { tr().write(data); }
void stream_writer::writelines(std::initializer_list<std::string_view> lines) {
  std::string joined;
  for (auto l : lines) joined.append(l);
  write(joined);
}
task<void> stream_writer::drain() {
  detail::fd_transport* t = &tr();
  t->add_ref();
  return detail::fd_transport::drain(detail::rc_ptr<detail::fd_transport>(t));
}
bool stream_writer::can_write_eof() const noexcept { return tr().can_write_eof(); }
void stream_writer::write_eof() { tr().write_eof(); }
void stream_writer::close() { tr().close(); }
void stream_writer::abort() { tr().abort(); }
bool stream_writer::is_closing() const noexcept { return tr().is_closing(); }
task<void> stream_writer::wait_closed() {
  detail::fd_transport* t = &tr();
  t->add_ref();
  return detail::fd_transport::wait_closed(detail::rc_ptr<detail::fd_transport>(t));
}
std::optional<socket_address> stream_writer::peername() const { return tr().peername_; }
std::optional<socket_address> stream_writer::sockname() const { return tr().sockname_; }
std::size_t stream_writer::write_buffer_size() const noexcept { return tr().write_buffer_size(); }
void stream_writer::set_write_buffer_limits(std::size_t high, std::optional<std::size_t> low) {
  tr().set_write_buffer_limits(high, low);
}

// ---------------------------------------------------------------------------------------- open_connection

namespace {

task<std::pair<stream_reader, stream_writer>> connect_streams(std::string host, std::uint16_t port,
                                                              stream_options options) {
  auto resolving = detail::resolve(std::move(host), port, false);
  const std::vector<socket_address> addresses = co_await std::move(resolving);
  if (addresses.empty()) throw std::runtime_error("getaddrinfo() returned empty list");
  std::exception_ptr last_error;
  for (const auto& address : addresses) {
    detail::unique_fd fd = detail::tcp_socket(address.family());
    try {
      auto connecting = sock_connect(fd.get(), address);
      co_await std::move(connecting);
    } catch (const std::system_error&) {
      last_error = std::current_exception();
      continue;
    }
    detail::set_nodelay(fd.get());
    const int raw = fd.release();
    auto streams = detail::make_fd_streams(get_running_loop(), raw, raw, options);
    co_return std::pair<stream_reader, stream_writer>(std::move(*streams.reader), std::move(*streams.writer));
  }
  std::rethrow_exception(last_error);
}

}  // namespace

task<std::pair<stream_reader, stream_writer>> open_connection(std::string_view host, std::uint16_t port,
                                                             stream_options options) {
  return connect_streams(std::string(host), port, options);
}

}  // namespace coroscope
