// The transport: reading into the reader's buffer with flow control both ways, buffered non-blocking
// writes, half-close and the connection_lost protocol; and make_fd_streams, which puts streams on it.
#include "transport.hpp"

#include <coroscope/sleep.hpp>

#include <unistd.h>

#include <cerrno>
#include <csignal>

namespace coroscope::detail {

namespace {

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

}  // namespace

fd_transport::fd_transport(event_loop& loop, int rfd, int wfd, const stream_options& o)
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

void fd_transport::add_user() noexcept {
  add_ref();
  ++users_;
}

void fd_transport::drop_user() noexcept {
  if (--users_ == 0 && !closing_) {
    try {
      close();
    } catch (...) {
      force_close_now();
    }
  }
  release();
}

void fd_transport::attach_reader(reader_state* r) {
  r->add_ref();
  reader_ = rc_ptr<reader_state>(r);
  r->feeder = this;
  start_reading();
}

void fd_transport::pause_reading() {
  if (closing_ || !reading_) return;
  stop_reading();
  read_paused_ = true;
}

void fd_transport::resume_reading() {
  if (!read_paused_) return;
  read_paused_ = false;
  start_reading();
}

void fd_transport::write(std::string_view data) {
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

void fd_transport::write_eof() {
  if (closing_ || eof_requested_) return;
  eof_requested_ = true;
  if (wbuf_.empty()) shutdown_write();
}

void fd_transport::set_write_buffer_limits(std::size_t high, std::optional<std::size_t> low) {
  const std::size_t lo = low.value_or(high / 4);
  if (lo > high) throw std::invalid_argument("high must be >= low must be >= 0");
  high_ = high;
  low_ = lo;
  maybe_pause_protocol();
}

void fd_transport::close() {
  if (closing_) return;
  closing_ = true;
  stop_reading();
  if (wbuf_.empty()) {
    conn_lost_ = true;
    schedule_connection_lost(nullptr);
  }
}

fd_transport::~fd_transport() {
  // Only reached once nothing is registered with the loop (registrations belong to the open state).
  close_fds();
}

ssize_t fd_transport::read_some(char* p, std::size_t n) noexcept {
  return socket_ ? ::recv(rfd_, p, n, MSG_DONTWAIT) : ::read(rfd_, p, n);
}

ssize_t fd_transport::write_some(const char* p, std::size_t n) noexcept {
  return socket_ ? ::send(wfd_, p, n, MSG_DONTWAIT | MSG_NOSIGNAL) : write_without_sigpipe(wfd_, p, n);
}

void fd_transport::start_reading() {
  if (reading_ || closing_ || rfd_ < 0 || !reader_.get() || reader_->eof || !loop_alive()) return;
  loop_->add_reader(rfd_, [this] { on_readable(); });
  reading_ = true;
}

void fd_transport::stop_reading() noexcept {
  if (!reading_) return;
  reading_ = false;
  if (loop_alive()) loop_->remove_reader(rfd_);
}

void fd_transport::start_writing() {
  if (writing_ || !loop_alive()) return;
  loop_->add_writer(wfd_, [this] { on_writable(); });
  writing_ = true;
}

void fd_transport::stop_writing() noexcept {
  if (!writing_) return;
  writing_ = false;
  if (loop_alive()) loop_->remove_writer(wfd_);
}

void fd_transport::on_readable() {
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

void fd_transport::on_eof() {
  stop_reading();
  if (rfd_ != wfd_) {  // a pipe's read end: nothing more will come through it
    ::close(std::exchange(rfd_, -1));
  }
  reader_->feed_eof();
  if (wfd_ < 0) close();  // a read-only transport is finished
}

void fd_transport::on_writable() {
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

void fd_transport::shutdown_write() {
  if (socket_) {
    ::shutdown(wfd_, SHUT_WR);
  } else if (wfd_ != rfd_) {
    stop_writing();
    ::close(std::exchange(wfd_, -1));
  }
}

void fd_transport::maybe_pause_protocol() noexcept {
  if (!write_paused_ && wbuf_.size() > high_) write_paused_ = true;
}

void fd_transport::maybe_resume_protocol() {
  if (write_paused_ && wbuf_.size() <= low_) {
    write_paused_ = false;
    wake_drain_waiters(nullptr);
  }
}

void fd_transport::wake_drain_waiters(const std::exception_ptr& e) {
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

void fd_transport::force_close(std::exception_ptr e) {
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

void fd_transport::force_close_now() noexcept {
  closing_ = conn_lost_ = true;
  call_connection_lost(nullptr);
}

void fd_transport::schedule_connection_lost(std::exception_ptr e) {
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

void fd_transport::call_connection_lost(const std::exception_ptr& e) noexcept {
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

void fd_transport::close_fds() noexcept {
  if (rfd_ >= 0) ::close(rfd_);
  if (wfd_ >= 0 && wfd_ != rfd_) ::close(wfd_);
  rfd_ = wfd_ = -1;
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
  rc_ptr<reader_state> reader(read_fd >= 0 ? new reader_state(options.limit) : nullptr);
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

}  // namespace coroscope::detail
