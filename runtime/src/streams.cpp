// Streams: the reader's buffer and waiter (StreamReader), a transport over any non-blocking fd (CPython's
// _SelectorSocketTransport and the unix pipe transports folded into one), the writer's flow control
// (FlowControlMixin) and the server (base_events.Server).
#include <coroscope/sleep.hpp>
#include <coroscope/streams.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <system_error>

namespace coroscope {

namespace detail {

namespace {

std::exception_ptr errno_error(int err, const std::string& what) {
  return std::make_exception_ptr(std::system_error(err, std::generic_category(), what));
}

bool retry_later(int err) noexcept { return err == EAGAIN || err == EWOULDBLOCK || err == EINTR; }

// A pipe whose reader is gone raises SIGPIPE on write(), which would kill the program (Python ignores the
// signal process-wide; a library must not). Block it around the write and swallow the one we caused.
ssize_t write_without_sigpipe(int fd, const char* p, std::size_t n) {
  sigset_t pipe_only, old;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
  sigset_t pending;
  sigpending(&pending);
  const bool was_pending = sigismember(&pending, SIGPIPE) == 1;
  const ssize_t r = ::write(fd, p, n);
  const int err = errno;
  if (r < 0 && err == EPIPE && !was_pending) {
    const timespec zero{};
    while (sigtimedwait(&pipe_only, nullptr, &zero) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  errno = err;
  return r;
}

bool is_socket(int fd) noexcept {
  int type = 0;
  socklen_t len = sizeof type;
  return fd >= 0 && ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0;
}

constexpr std::size_t read_chunk = 64 * 1024;
constexpr std::size_t direct_read_min = 16 * 1024;  // read straight into the reader's buffer above this
constexpr std::size_t keep_capacity = 256 * 1024;   // an emptied buffer bigger than this is freed

}  // namespace

// ------------------------------------------------------------------------------------------ byte_buffer

// A FIFO of bytes: append at the back, consume at the front, no zero-filling.
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

// ----------------------------------------------------------------------------------------- reader_state

class fd_transport;

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
  fd_transport(event_loop& loop, int rfd, int wfd, const stream_options& o)
      : loop_(&loop), anchor_(loop.anchor()), rfd_(rfd), wfd_(wfd) {
    high_ = o.write_high_water;
    low_ = o.write_low_water.value_or(high_ / 4);
    socket_ = is_socket(rfd_ >= 0 ? rfd_ : wfd_);
    if (socket_) {
      const int fd = rfd_ >= 0 ? rfd_ : wfd_;
      try {
        sockname_ = coroscope::sockname(fd);
        peername_ = coroscope::peername(fd);
      } catch (const std::system_error&) {
        // not connected (yet): nothing to report, as get_extra_info returns None
      }
    }
  }

  // --- users: reader and writer handles ---
  void add_user() noexcept {
    add_ref();
    ++users_;
  }
  void drop_user() noexcept {
    if (--users_ == 0 && !closing_) {
      try {
        close();
      } catch (...) {
        force_close_now();
      }
    }
    release();
  }

  // --- reading ---
  void attach_reader(reader_state* r) {
    r->add_ref();
    reader_ = rc_ptr<reader_state>(r);
    r->feeder = this;
    start_reading();
  }
  bool read_paused() const noexcept { return read_paused_; }
  void pause_reading() {
    if (closing_ || !reading_) return;
    stop_reading();
    read_paused_ = true;
  }
  void resume_reading() {
    if (!read_paused_) return;
    read_paused_ = false;
    start_reading();
  }
  std::exception_ptr reader_exception() const noexcept { return reader_.get() ? reader_->exc : nullptr; }

  // --- writing ---
  void write(std::string_view data) {
    if (eof_requested_) throw std::runtime_error("Cannot call write() after write_eof()");
    if (data.empty() || conn_lost_) return;  // asyncio drops writes to a lost connection
    if (wbuf_.empty()) {
      const ssize_t n = write_some(data.data(), data.size());
      std::size_t done = 0;
      if (n >= 0) {
        done = static_cast<std::size_t>(n);
      } else if (!retry_later(errno)) {
        fatal_error(errno_error(errno, "write"));
        return;
      }
      if (done == data.size()) return;
      data.remove_prefix(done);
      start_writing();
    }
    wbuf_.append(data);
    maybe_pause_protocol();
  }
  void write_eof() {
    if (closing_ || eof_requested_) return;
    eof_requested_ = true;
    if (wbuf_.empty()) shutdown_write();
  }
  bool can_write_eof() const noexcept { return socket_ || wfd_ != rfd_; }
  std::size_t write_buffer_size() const noexcept { return wbuf_.size(); }
  void set_write_buffer_limits(std::size_t high, std::optional<std::size_t> low) {
    const std::size_t lo = low.value_or(high / 4);
    if (lo > high) throw std::invalid_argument("high must be >= low must be >= 0");
    high_ = high;
    low_ = lo;
    maybe_pause_protocol();
  }

  // --- closing ---
  bool is_closing() const noexcept { return closing_; }
  void close() {
    if (closing_) return;
    closing_ = true;
    stop_reading();
    if (wbuf_.empty()) {
      conn_lost_ = true;
      schedule_connection_lost(nullptr);
    }
  }
  void abort() { force_close(nullptr); }

  std::optional<socket_address> peername_, sockname_;

  static task<void> drain(rc_ptr<fd_transport> t);
  static task<void> wait_closed(rc_ptr<fd_transport> t);

private:
  ~fd_transport() override {
    // Only reached once nothing is registered with the loop (registrations belong to the open state).
    close_fds();
  }

  bool loop_alive() const noexcept { return anchor_->open; }

  ssize_t read_some(char* p, std::size_t n) noexcept {
    return socket_ ? ::recv(rfd_, p, n, MSG_DONTWAIT) : ::read(rfd_, p, n);
  }
  ssize_t write_some(const char* p, std::size_t n) noexcept {
    return socket_ ? ::send(wfd_, p, n, MSG_DONTWAIT | MSG_NOSIGNAL) : write_without_sigpipe(wfd_, p, n);
  }

  void start_reading() {
    if (reading_ || closing_ || rfd_ < 0 || !reader_.get() || reader_->eof || !loop_alive()) return;
    loop_->add_reader(rfd_, [this] { on_readable(); });
    reading_ = true;
  }
  void stop_reading() noexcept {
    if (!reading_) return;
    reading_ = false;
    if (loop_alive()) loop_->remove_reader(rfd_);
  }
  void start_writing() {
    if (writing_ || !loop_alive()) return;
    loop_->add_writer(wfd_, [this] { on_writable(); });
    writing_ = true;
  }
  void stop_writing() noexcept {
    if (!writing_) return;
    writing_ = false;
    if (loop_alive()) loop_->remove_writer(wfd_);
  }

  void on_readable() {
    if (!reading_) return;
    reader_state& r = *reader_;
    ssize_t n;
    if (r.buf.tail_room() >= direct_read_min) {
      n = read_some(r.buf.prepare(0), r.buf.tail_room());
      if (n > 0) r.buf.commit(static_cast<std::size_t>(n));
    } else {
      // Small reads go through a scratch buffer, so that a thousand quiet connections do not each
      // hold a 64 KiB buffer.
      thread_local std::unique_ptr<char[]> scratch = std::make_unique_for_overwrite<char[]>(read_chunk);
      n = read_some(scratch.get(), read_chunk);
      if (n > 0) r.buf.append(std::string_view(scratch.get(), static_cast<std::size_t>(n)));
    }
    if (n > 0) {
      r.data_arrived();
    } else if (n == 0) {
      on_eof();
    } else if (!retry_later(errno)) {
      fatal_error(errno_error(errno, "read"));
    }
  }

  void on_eof() {
    stop_reading();
    if (rfd_ != wfd_) {  // a pipe's read end: nothing more will come through it
      ::close(std::exchange(rfd_, -1));
    }
    reader_->feed_eof();
    if (wfd_ < 0) close();  // a read-only transport is finished
  }

  void on_writable() {
    if (!writing_ || conn_lost_) return;
    const ssize_t n = write_some(wbuf_.data(), wbuf_.size());
    if (n < 0) {
      if (retry_later(errno)) return;
      const int err = errno;
      stop_writing();
      wbuf_.clear();
      fatal_error(errno_error(err, "write"));
      return;
    }
    wbuf_.consume(static_cast<std::size_t>(n));
    maybe_resume_protocol();
    if (!wbuf_.empty()) return;
    stop_writing();
    if (closing_) {
      conn_lost_ = true;
      call_connection_lost(nullptr);
    } else if (eof_requested_) {
      shutdown_write();
    }
  }

  void shutdown_write() {
    if (socket_) {
      ::shutdown(wfd_, SHUT_WR);
    } else if (wfd_ != rfd_) {
      stop_writing();
      ::close(std::exchange(wfd_, -1));
    }
  }

  void maybe_pause_protocol() noexcept {
    if (!write_paused_ && wbuf_.size() > high_) write_paused_ = true;
  }
  void maybe_resume_protocol() {
    if (write_paused_ && wbuf_.size() <= low_) {
      write_paused_ = false;
      wake_drain_waiters(nullptr);
    }
  }
  void wake_drain_waiters(const std::exception_ptr& e) {
    auto waiters = std::move(drain_waiters_);
    drain_waiters_.clear();
    for (auto& w : waiters) {
      if (w.done()) continue;
      if (e)
        w.set_exception(e);
      else
        w.set_result();
    }
  }

  void fatal_error(std::exception_ptr e) { force_close(std::move(e)); }
  void force_close(std::exception_ptr e) {
    if (conn_lost_) return;
    if (!wbuf_.empty()) {
      wbuf_.clear();
      stop_writing();
    }
    if (!closing_) {
      closing_ = true;
      stop_reading();
    }
    conn_lost_ = true;
    schedule_connection_lost(std::move(e));
  }
  void force_close_now() noexcept {
    closing_ = conn_lost_ = true;
    call_connection_lost(nullptr);
  }

  // connection_lost runs through the loop, as asyncio's call_soon(_call_connection_lost). If the loop
  // closes before it runs, it runs when the callback is dropped: the fds are closed either way.
  void schedule_connection_lost(std::exception_ptr e) {
    if (!loop_alive()) {
      call_connection_lost(e);
      return;
    }
    struct lost_call {
      rc_ptr<fd_transport> t;
      std::exception_ptr e;
      lost_call(fd_transport* tr, std::exception_ptr ex) : t(tr), e(std::move(ex)) { tr->add_ref(); }
      lost_call(lost_call&&) noexcept = default;
      lost_call(const lost_call&) = delete;
      lost_call& operator=(const lost_call&) = delete;
      lost_call& operator=(lost_call&&) = delete;
      ~lost_call() {
        if (t.get()) t->call_connection_lost(e);
      }
      void operator()() { t->call_connection_lost(e); }
    };
    loop_->call_soon(lost_call(this, std::move(e)));
  }

  void call_connection_lost(const std::exception_ptr& e) noexcept {
    if (lost_done_) return;
    lost_done_ = true;
    conn_lost_ = closing_ = true;
    stop_reading();
    stop_writing();
    close_fds();
    lost_exc_ = e;
    if (loop_alive()) {
      try {
        if (reader_.get()) {
          if (e)
            reader_->set_exception(e);
          else
            reader_->feed_eof();
        }
        wake_drain_waiters(e);
        if (closed_ && !closed_.done()) closed_.set_result();
      } catch (...) {
        // waking needs no allocation beyond the loop's queue; nothing sensible is left to do
      }
    } else if (reader_.get()) {
      reader_->eof = true;
      if (e) reader_->exc = e;
    }
    if (reader_.get()) reader_->feeder = nullptr;
    release();  // the transport's own reference: may destroy this
  }

  void close_fds() noexcept {
    if (rfd_ >= 0) ::close(rfd_);
    if (wfd_ >= 0 && wfd_ != rfd_) ::close(wfd_);
    rfd_ = wfd_ = -1;
  }

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

task<void> fd_transport::drain(rc_ptr<fd_transport> t) {
  if (auto e = t->reader_exception()) std::rethrow_exception(e);
  if (t->closing_) co_await sleep(std::chrono::nanoseconds(0));  // let connection_lost run first
  if (t->lost_done_) {
    if (t->lost_exc_) std::rethrow_exception(t->lost_exc_);
    throw std::system_error(ECONNRESET, std::generic_category(), "Connection lost");
  }
  if (!t->write_paused_) co_return;
  future<void> w(get_running_loop());
  t->drain_waiters_.push_back(w);
  struct forget {
    fd_transport* t;
    future_core* mine;
    ~forget() {
      auto& v = t->drain_waiters_;
      v.erase(std::remove_if(v.begin(), v.end(), [this](const future<void>& f) { return f.core_ptr() == mine; }),
              v.end());
    }
  } guard{t.get(), w.core_ptr()};
  co_await w;
}

task<void> fd_transport::wait_closed(rc_ptr<fd_transport> t) {
  if (!t->lost_done_) {
    if (!t->closed_) t->closed_ = future<void>(get_running_loop());
    future<void> f = t->closed_;
    co_await f;
  }
  if (t->lost_exc_) std::rethrow_exception(t->lost_exc_);
}

transport_user::transport_user(fd_transport* t) noexcept : t_(t) {
  if (t_) t_->add_user();
}
transport_user::~transport_user() {
  if (t_) t_->drop_user();
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

// ---------------------------------------------------------------------------------------- make_fd_streams

fd_streams make_fd_streams(event_loop& loop, int read_fd, int write_fd, const stream_options& options) {
  // Owned from the first line: every early exit closes them.
  unique_fd owned_r(read_fd);
  unique_fd owned_w(write_fd != read_fd ? write_fd : -1);
  if (read_fd < 0 && write_fd < 0) throw std::invalid_argument("make_fd_streams: no fd to read or write");
  if (options.write_low_water.value_or(0) > options.write_high_water)
    throw std::invalid_argument("make_fd_streams: write_low_water is above write_high_water");
  if (read_fd >= 0) set_nonblocking(read_fd);
  if (write_fd >= 0) set_nonblocking(write_fd);
  reader_ptr reader(read_fd >= 0 ? new reader_state(options.limit) : nullptr);
  auto* t = new fd_transport(loop, read_fd, write_fd, options);  // cannot fail after taking the fds
  owned_r.release();
  owned_w.release();
  transport_user user(t);
  fd_streams out;
  if (reader.get()) {
    t->attach_reader(reader.get());
    out.reader.emplace(stream_reader(reader, user));
  }
  if (write_fd >= 0) out.writer.emplace(stream_writer(user));
  return out;
}

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

void set_nodelay(int fd) noexcept {
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

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
    set_nodelay(fd.get());
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

// ----------------------------------------------------------------------------------------------- server

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
