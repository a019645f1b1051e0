#pragma once
// The transport behind the streams, private to the runtime (src/transport.cpp, used by src/streams.cpp and
// src/server.cpp): CPython's _SelectorSocketTransport and the unix pipe transports folded into one, over
// any non-blocking fd, with the writer's flow control (FlowControlMixin); and the StreamReader state it
// feeds.
#include <coroscope/streams.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <system_error>

namespace coroscope::detail {

inline std::exception_ptr errno_error(int err, const std::string& what) {
  return std::make_exception_ptr(std::system_error(err, std::generic_category(), what));
}

// TCP_NODELAY, as asyncio sets it on every stream socket.
inline void set_nodelay(int fd) noexcept {
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

// ------------------------------------------------------------------------------------------ byte_buffer

// A FIFO of bytes: append at the back, consume at the front, no zero-filling.
inline constexpr std::size_t keep_capacity = 256 * 1024;  // an emptied buffer bigger than this is freed

class byte_buffer {
public:
  std::size_t size() const noexcept { return end_ - begin_; }
  bool empty() const noexcept { return end_ == begin_; }
  const char* data() const noexcept { return buf_.get() + begin_; }
  std::string_view view() const noexcept { return {data(), size()}; }
  std::size_t tail_room() const noexcept { return cap_ - end_; }
  // At least n writable bytes after the data.
  char* prepare(std::size_t n) {
    if (cap_ - end_ >= n) return buf_.get() + end_;
    const std::size_t live = size();
    // Moving the live bytes down is cheap when at most as many are moved as were consumed (amortised O(1)).
    if (live + n <= cap_ && begin_ >= live) {
      std::memmove(buf_.get(), buf_.get() + begin_, live);
    } else {
      const std::size_t cap = std::max({cap_ * 2, live + n, std::size_t{4096}});
      auto grown = std::make_unique_for_overwrite<char[]>(cap);
      if (live) std::memcpy(grown.get(), buf_.get() + begin_, live);
      buf_ = std::move(grown);
      cap_ = cap;
    }
    begin_ = 0;
    end_ = live;
    return buf_.get() + end_;
  }
  void commit(std::size_t n) noexcept { end_ += n; }
  void append(std::string_view d) {
    if (d.empty()) return;
    std::memcpy(prepare(d.size()), d.data(), d.size());
    commit(d.size());
  }
  void consume(std::size_t n) noexcept {
    begin_ += n;
    if (begin_ == end_) {
      begin_ = end_ = 0;
      if (cap_ > keep_capacity) clear();
    }
  }
  std::string take(std::size_t n) {
    std::string out(data(), n);
    consume(n);
    return out;
  }
  void clear() noexcept {
    buf_.reset();
    cap_ = begin_ = end_ = 0;
  }

private:
  std::unique_ptr<char[]> buf_;
  std::size_t cap_ = 0, begin_ = 0, end_ = 0;
};

class fd_transport;

// ----------------------------------------------------------------------------------------- reader_state

// StreamReader's state. Shared by reader handles, the transport feeding it and the writer (drain()
// reports the reader's exception); kept alive by every read in progress.
class reader_state final : public rc_base, public pooled {
public:
  using pooled::operator new;
  using pooled::operator delete;
  explicit reader_state(std::size_t lim) : limit(lim) {
    if (lim == 0) throw std::invalid_argument("Limit cannot be <= 0");
  }

  byte_buffer buf;
  bool eof = false;
  std::exception_ptr exc;
  future<void> waiter;
  std::size_t limit;
  fd_transport* feeder = nullptr;  // the transport filling buf, while it lives

  void wakeup(const std::exception_ptr& e = nullptr) {
    if (!waiter) return;
    future<void> w = std::exchange(waiter, future<void>());
    if (w.done()) return;  // the reading task was cancelled
    if (e)
      w.set_exception(e);
    else
      w.set_result();
  }
  inline void data_arrived();
  inline void maybe_resume_transport();
  void feed_data(std::string_view d) {
    if (eof) throw std::logic_error("feed_data after feed_eof");
    if (d.empty()) return;
    buf.append(d);
    data_arrived();
  }
  void feed_eof() {
    eof = true;
    wakeup();
  }
  void set_exception(std::exception_ptr e) {
    exc = e;
    wakeup(e);
  }
  std::string take(std::size_t n) {
    std::string out = buf.take(n);
    maybe_resume_transport();
    return out;
  }
  task<void> wait_for_data(const char* fn);
};

// ----------------------------------------------------------------------------------------- fd_transport

class fd_transport final : public rc_base, public pooled {
public:
  using pooled::operator new;
  using pooled::operator delete;

  // Takes ownership of the fds at once. The initial reference is the transport's own, held until
  // connection_lost has run.
  fd_transport(event_loop& loop, int rfd, int wfd, const stream_options& o);

  // --- users: reader and writer handles ---
  void add_user() noexcept;
  void drop_user() noexcept;

  // --- reading ---
  void attach_reader(reader_state* r);
  bool read_paused() const noexcept { return read_paused_; }
  void pause_reading();
  void resume_reading();
  std::exception_ptr reader_exception() const noexcept { return reader_.get() ? reader_->exc : nullptr; }

  // --- writing ---
  void write(std::string_view data);
  void write_eof();
  bool can_write_eof() const noexcept { return socket_ || wfd_ != rfd_; }
  std::size_t write_buffer_size() const noexcept { return wbuf_.size(); }
  void set_write_buffer_limits(std::size_t high, std::optional<std::size_t> low);

  // --- closing ---
  bool is_closing() const noexcept { return closing_; }
  void close();
  void abort() { force_close(nullptr); }

  std::optional<socket_address> peername_, sockname_;

  static task<void> drain(rc_ptr<fd_transport> t);
  static task<void> wait_closed(rc_ptr<fd_transport> t);

private:
  ~fd_transport() override;  // only once nothing is registered with the loop

  bool loop_alive() const noexcept { return anchor_->open; }

  ssize_t read_some(char* p, std::size_t n) noexcept;
  ssize_t write_some(const char* p, std::size_t n) noexcept;

  void start_reading();
  void stop_reading() noexcept;
  void start_writing();
  void stop_writing() noexcept;

  void on_readable();
  void on_eof();
  void on_writable();
  void shutdown_write();

  void maybe_pause_protocol() noexcept;
  void maybe_resume_protocol();
  void wake_drain_waiters(const std::exception_ptr& e);

  void fatal_error(std::exception_ptr e) { force_close(std::move(e)); }
  void force_close(std::exception_ptr e);
  void force_close_now() noexcept;

  // connection_lost runs through the loop, as asyncio's call_soon(_call_connection_lost). If the loop
  // closes before it runs, it runs when the callback is dropped: the fds are closed either way.
  void schedule_connection_lost(std::exception_ptr e);
  void call_connection_lost(const std::exception_ptr& e) noexcept;
  void close_fds() noexcept;

  event_loop* loop_;
  std::shared_ptr<loop_anchor> anchor_;  // tells whether the loop is still there (open)
  int rfd_, wfd_;
  bool socket_ = false;
  rc_ptr<reader_state> reader_;
  bool reading_ = false, read_paused_ = false;
  byte_buffer wbuf_;
  bool writing_ = false, write_paused_ = false;
  std::size_t high_ = 0, low_ = 0;
  std::vector<future<void>> drain_waiters_;
  bool eof_requested_ = false;
  bool closing_ = false;    // close() called or the connection failed
  bool conn_lost_ = false;  // connection_lost is scheduled: writes are dropped
  bool lost_done_ = false;  // connection_lost has run: fds closed
  std::exception_ptr lost_exc_;
  future<void> closed_;  // created by the first wait_closed()
  std::size_t users_ = 0;

  friend class reader_state;
};

inline void reader_state::data_arrived() {
  wakeup();
  if (feeder && buf.size() > 2 * limit) feeder->pause_reading();
}

inline void reader_state::maybe_resume_transport() {
  if (feeder && feeder->read_paused() && buf.size() <= limit) feeder->resume_reading();
}

}  // namespace coroscope::detail
