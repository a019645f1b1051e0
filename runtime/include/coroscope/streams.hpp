#pragma once
// asyncio's streams (Lib/asyncio/streams.py, 3.11): stream_reader, stream_writer and open_connection, over
// a transport that serves any non-blocking fd (sockets, pipes); start_server and server are in server.hpp,
// which this header includes.
//
//   auto [reader, writer] = co_await coroscope::open_connection(host, port);
//   writer.write("ping\n");
//   co_await writer.drain();
//   std::string line = co_await reader.readline();
//   writer.close();
//   co_await writer.wait_closed();
//
// Flow control both ways, as asyncio: the transport stops reading once the reader holds more than twice
// its limit and resumes when it is drained to the limit; write() never blocks, and drain() waits while the
// write buffer is above the high-water mark until it falls to the low-water mark, so a slow peer pauses
// the writer instead of growing its buffer. Wake-ups go through futures, never inline.
//
// Handles are cheap copies of shared state. When the last reader and writer handle of a connection is
// gone, the connection is closed gracefully (what is buffered is still sent). Streams belong to the thread
// of their loop.
#include <coroscope/detail/rc_ptr.hpp>
#include <coroscope/sockets.hpp>
#include <coroscope/task.hpp>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <initializer_list>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace coroscope {

// asyncio's _DEFAULT_LIMIT: 64 KiB.
inline constexpr std::size_t default_stream_limit = 64 * 1024;

struct stream_options {
  std::size_t limit = default_stream_limit;   // the reader's buffer limit (readuntil, flow control)
  std::size_t write_high_water = 64 * 1024;   // asyncio's default high-water mark
  std::optional<std::size_t> write_low_water;  // default: high / 4, as asyncio
};

// asyncio.IncompleteReadError (an EOFError): the stream ended early. partial() holds what was read;
// expected() is the count asked for (nothing for readuntil).
class incomplete_read_error : public std::runtime_error {
public:
  incomplete_read_error(std::string partial, std::optional<std::size_t> expected);
  const std::string& partial() const noexcept { return partial_; }
  std::optional<std::size_t> expected() const noexcept { return expected_; }

private:
  std::string partial_;
  std::optional<std::size_t> expected_;
};

// asyncio.LimitOverrunError: readuntil() found no separator within the limit. consumed() is how many
// bytes can be taken out of the buffer without losing a separator that straddles the limit.
class limit_overrun_error : public std::runtime_error {
public:
  limit_overrun_error(const std::string& what, std::size_t consumed)
      : std::runtime_error(what), consumed_(consumed) {}
  std::size_t consumed() const noexcept { return consumed_; }

private:
  std::size_t consumed_;
};

class stream_reader;
class stream_writer;

namespace detail {

class fd_transport;
class reader_state;

// A counted "user" reference to a transport: when the last one goes, the transport closes.
class transport_user {
public:
  transport_user() = default;
  explicit transport_user(fd_transport* t) noexcept;
  transport_user(const transport_user& o) noexcept : transport_user(o.t_) {}
  transport_user(transport_user&& o) noexcept : t_(std::exchange(o.t_, nullptr)) {}
  transport_user& operator=(transport_user o) noexcept {
    std::swap(t_, o.t_);
    return *this;
  }
  ~transport_user();
  fd_transport* get() const noexcept { return t_; }

private:
  fd_transport* t_ = nullptr;
};

struct fd_streams;
fd_streams make_fd_streams(event_loop& loop, int read_fd, int write_fd, const stream_options& options);

}  // namespace detail

// asyncio.StreamReader.
class stream_reader {
public:
  // A reader fed by hand (feed_data / feed_eof / set_exception), as StreamReader(limit=...).
  explicit stream_reader(std::size_t limit = default_stream_limit);
  stream_reader(const stream_reader&);
  stream_reader(stream_reader&&) noexcept;
  stream_reader& operator=(const stream_reader&);
  stream_reader& operator=(stream_reader&&) noexcept;
  ~stream_reader();

  // Up to n bytes (n < 0: everything until EOF); "" at EOF. Waits only while nothing is buffered.
  task<std::string> read(std::ptrdiff_t n = -1);
  // Exactly n bytes, or incomplete_read_error at EOF with what was there.
  task<std::string> readexactly(std::size_t n);
  // One line including "\n"; at EOF the partial last line ("" when nothing is left). A line longer than
  // the limit raises std::invalid_argument (Python's ValueError) and is discarded.
  task<std::string> readline();
  // Data up to and including separator; limit_overrun_error past the limit (the data stays buffered),
  // incomplete_read_error at EOF (the partial data is consumed).
  task<std::string> readuntil(std::string_view separator = "\n");

  bool at_eof() const noexcept;
  std::exception_ptr exception() const noexcept;
  void feed_data(std::string_view data);
  void feed_eof();
  void set_exception(std::exception_ptr e);
  template <class E>
    requires(!std::is_same_v<std::decay_t<E>, std::exception_ptr>)
  void set_exception(E&& e) {
    set_exception(std::make_exception_ptr(std::forward<E>(e)));
  }
  std::size_t limit() const noexcept;
  // Bytes buffered and not yet read (the tests watch flow control with it).
  std::size_t buffered() const noexcept;

private:
  friend detail::fd_streams detail::make_fd_streams(event_loop&, int, int, const stream_options&);
  stream_reader(detail::rc_ptr<detail::reader_state> s, detail::transport_user t) noexcept;
  detail::rc_ptr<detail::reader_state> state_;
  detail::transport_user transport_;
};

// asyncio.StreamWriter (and the parts of its transport that StreamWriter users reach for).
class stream_writer {
public:
  // Queues data and sends what the kernel takes at once. Never blocks; pair it with drain().
  void write(std::string_view data);
  // write() of every element, in one piece.
  void writelines(std::initializer_list<std::string_view> lines);
  template <class Range>
  void writelines(const Range& lines) {
    std::string joined;
    for (const auto& l : lines) joined.append(std::string_view(l));
    write(joined);
  }
  // Waits while the write buffer is above the high-water mark; raises the connection's error, or
  // std::system_error(ECONNRESET) "Connection lost" once the connection is gone.
  task<void> drain();
  bool can_write_eof() const noexcept;
  // Half-close: the peer reads EOF once the buffer is flushed; reading goes on.
  void write_eof();
  // Flushes what is buffered, then closes the connection (asyncio's transport.close()).
  void close();
  // Closes at once and discards the buffer (transport.abort()).
  void abort();
  bool is_closing() const noexcept;
  // Waits until the connection is closed; raises the error that ended it, if any.
  task<void> wait_closed();
  // get_extra_info('peername') / ('sockname'): nothing for pipes.
  std::optional<socket_address> peername() const;
  std::optional<socket_address> sockname() const;
  // transport.get_write_buffer_size() / set_write_buffer_limits(high, low).
  std::size_t write_buffer_size() const noexcept;
  void set_write_buffer_limits(std::size_t high, std::optional<std::size_t> low = std::nullopt);

private:
  friend detail::fd_streams detail::make_fd_streams(event_loop&, int, int, const stream_options&);
  explicit stream_writer(detail::transport_user t) : transport_(std::move(t)) {}
  detail::fd_transport& tr() const noexcept { return *transport_.get(); }
  detail::transport_user transport_;
};

namespace detail {

// What make_fd_streams returns: a reader for a read fd, a writer for a write fd.
struct fd_streams {
  std::optional<stream_reader> reader;
  std::optional<stream_writer> writer;
};

// The transport factory: streams over any non-blocking file descriptors (sockets, pipes).
//
// Contract (kept stable; the subprocess pipes rely on it):
// - read_fd and/or write_fd: file descriptors, or -1 for a missing side (not both -1). They may be the
//   same fd (a socket). They are made non-blocking here. Ownership passes at the call: the streams close
//   each fd exactly once, and if this throws, the fds are already closed.
// - reader: present iff read_fd >= 0. Reading starts at once; the reader buffers up to about 2 * limit,
//   then reading pauses until the reader is drained. At end of stream the reader sees EOF; a read fd that
//   is not also the write fd (a pipe) is closed right then, and a transport without a write side is
//   finished.
// - writer: present iff write_fd >= 0. write_eof() shuts a socket's sending side, or closes a write pipe.
//   close() flushes what is buffered, then closes every fd. A write error (EPIPE, ECONNRESET) or a read
//   error ends the transport: the reader raises it, drain() raises it, wait_closed() raises it.
// - Writes to a pipe whose reader is gone report EPIPE as an error; SIGPIPE is never raised.
// - When every reader and writer handle has been dropped, the transport closes gracefully.
// - Must be called on the loop's thread; the loop must be running or about to run.
fd_streams make_fd_streams(event_loop& loop, int read_fd, int write_fd, const stream_options& options = {});

}  // namespace detail

// asyncio.open_connection(host, port, limit=...): resolves host (numeric addresses at once, names on the
// executor), tries each address in turn, and returns the connected streams. TCP_NODELAY is set, as asyncio.
task<std::pair<stream_reader, stream_writer>> open_connection(std::string_view host, std::uint16_t port,
                                                             stream_options options = {});

}  // namespace coroscope

// The other half of asyncio's streams module; included here so that one include still brings both.
#include <coroscope/server.hpp>
