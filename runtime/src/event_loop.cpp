#include <coroscope/detail/task_core.hpp>
#include <coroscope/event_loop.hpp>
#include <coroscope/task.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <coroscope/executor.hpp>

#include <cerrno>
#include <ctime>
#include <stdexcept>
#include <system_error>
#include <thread>

#include <sys/epoll.h>
#include <unistd.h>

namespace coroscope {

namespace detail {

namespace {

std::int64_t steady_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool env_debug() noexcept {
  const char* v = std::getenv("COROSCOPE_DEBUG");
  return v && *v && std::strcmp(v, "0") != 0;
}

// COROSCOPE_CLOCK=virtual runs every loop of the process on the virtual clock: a program built on
// coroscope::run() can be tested with exact, instant timers without changing its code.
clock_kind env_clock(clock_kind requested) noexcept {
  const char* v = std::getenv("COROSCOPE_CLOCK");
  if (v && std::strcmp(v, "virtual") == 0) return clock_kind::virtual_time;
  return requested;
}
}  // namespace


void handle_trampoline(void* ctx, future_core*, cb_op op) {
  auto* n = static_cast<handle_node*>(ctx);
  struct releaser {
    handle_node* n;
    ~releaser() { n->release(); }
  } r{n};
  const bool skip = n->cancelled && !(mutant::is(mutant::timers_ignore_cancel) && dynamic_cast<timer_node*>(n));
  if (op == cb_op::invoke && !skip) n->run();
}

void handle_node::cancel() noexcept {
  if (cancelled) return;
  cancelled = true;
  if (heap_loop) heap_loop->note_timer_cancelled();
}

void ready_queue::grow() {
  std::size_t ncap = cap_ ? cap_ * 2 : 64;
  auto* nbuf = new ready_item[ncap];
  std::size_t n = size();
  for (std::size_t i = 0; i < n; ++i) nbuf[i] = buf_[(head_ + i) & (cap_ - 1)];
  delete[] buf_;
  buf_ = nbuf;
  cap_ = ncap;
  head_ = 0;
  tail_ = n;
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------- handles

handle::handle(detail::handle_node* n) noexcept : node_(n) {
  if (node_) node_->add_ref();
}
handle::handle(const handle& o) noexcept : node_(o.node_) {
  if (node_) node_->add_ref();
}
handle::~handle() {
  if (node_) node_->release();
}
void handle::cancel() noexcept {
  if (node_) node_->cancel();
}
bool handle::cancelled() const noexcept { return node_ && node_->cancelled; }

timer_handle::timer_handle(detail::timer_node* n) noexcept : handle(n) {}
time_point timer_handle::when() const noexcept {
  return time_point(duration(node_ ? static_cast<detail::timer_node*>(node_)->when : 0));
}

time_point loop_clock::now() { return get_running_loop().now(); }

event_loop& get_running_loop() {
  if (auto* l = detail::running_loop()) return *l;
  throw std::runtime_error("coroscope: no running event loop");
}

// ------------------------------------------------------------------------------------------------- loop

event_loop::event_loop(loop_options options)
    : clock_(detail::env_clock(options.clock)),
      debug_(options.debug || detail::env_debug()),
      slow_callback_(options.slow_callback_duration),
      anchor_(std::make_shared<detail::loop_anchor>()) {
  epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epfd_ < 0) throw std::system_error(errno, std::generic_category(), "coroscope: epoll_create1");
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLET;
  ev.data.fd = anchor_->wakefd;
  if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, anchor_->wakefd, &ev) != 0) {
    ::close(epfd_);
    throw std::system_error(errno, std::generic_category(), "coroscope: epoll_ctl");
  }
}

event_loop::~event_loop() { teardown(); }

time_point event_loop::now() const noexcept {
  return time_point(duration(clock_ == clock_kind::virtual_time ? virtual_now_ : detail::steady_ns()));
}

void event_loop::check_open() const {
  if (closed_) throw loop_closed_error("coroscope: Event loop is closed");
}


void event_loop::add_timer(detail::timer_node* n) {
  n->seq = ++timer_seq_;
  n->heap_loop = this;
  timers_.push_back({n->when, n->seq, n});
  std::push_heap(timers_.begin(), timers_.end(), later);
}

void event_loop::attach(detail::future_core* f) noexcept {
  f->prev_ = nullptr;
  f->next_ = futures_head_;
  if (futures_head_) futures_head_->prev_ = f;
  futures_head_ = f;
}

void event_loop::detach(detail::future_core* f) noexcept {
  if (f->prev_) f->prev_->next_ = f->next_;
  else if (futures_head_ == f) futures_head_ = f->next_;
  if (f->next_) f->next_->prev_ = f->prev_;
  f->prev_ = f->next_ = nullptr;
}

task_ref event_loop::current_task() const noexcept { return task_ref(current_); }

std::vector<task_ref> event_loop::all_tasks() const {
  std::vector<task_ref> out;
  for (auto* f = futures_head_; f; f = f->next_)
    if (f->is_task() && !f->done()) out.emplace_back(static_cast<detail::task_core*>(f));
  std::reverse(out.begin(), out.end());  // creation order reads better
  return out;
}

void event_loop::purge_cancelled_timers() {
  std::vector<heap_entry> kept;
  kept.reserve(timers_.size() - cancelled_timers_);
  for (auto& e : timers_) {
    if (e.node->cancelled) {
      e.node->heap_loop = nullptr;
      e.node->release();
    } else {
      kept.push_back(e);
    }
  }
  timers_.swap(kept);
  std::make_heap(timers_.begin(), timers_.end(), later);
  cancelled_timers_ = 0;
}

void event_loop::wait_for_events(std::int64_t timeout_ns) {
  // Callbacks from other threads are drained at the top of every iteration (has_pending), so a zero
  // timeout needs the kernel only when file descriptors are watched.
  const bool fds = !fds_.empty();
  if (clock_ == clock_kind::virtual_time) {
    // Virtual time: real I/O is polled without waiting, then the clock jumps to the next timer. With no
    // timer, only something real can make progress: wait for it, or report the deadlock.
    if (timeout_ns < 0) {
      if (!fds && external_pending_ == 0 && !anchor_->ever_posted.load(std::memory_order_relaxed))
        throw std::runtime_error(
            "coroscope: deadlock: nothing is ready, no timer is pending and nothing can wake the loop");
      poll_io(-1);
      return;
    }
    // Work on another thread takes no virtual time: the clock stands still until it comes back, as it
    // does in CPython's loop, whose select() returns when the worker writes to the self-pipe.
    if (timeout_ns > 0 && external_pending_ > 0) {
      poll_io(-1);
      return;
    }
    if (fds) poll_io(0);
    if (timeout_ns > 0 && ready_.empty()) virtual_now_ += timeout_ns;
    return;
  }
  // Real time: like asyncio, wait for whatever may come (another thread may call call_soon_threadsafe).
  if (timeout_ns == 0 && !fds) return;
  poll_io(timeout_ns);
}

void event_loop::drain_threadsafe() {
  anchor_->drain([this](detail::handle_node* n) { ready_.push({{&detail::handle_trampoline, n}, nullptr}); });
}

void event_loop::poll_io(std::int64_t timeout_ns) {
  using anchor = detail::loop_anchor;
  // With no fd watched only another thread can wake the loop, and a futex is the cheapest way to wait.
  if (fds_.empty()) {
    if (timeout_ns != 0 && anchor_->about_to_sleep(anchor::in_futex)) anchor_->sleep_on_futex(timeout_ns);
    anchor_->woke();
    drain_threadsafe();
    return;
  }
  if (timeout_ns != 0 && !anchor_->about_to_sleep(anchor::in_epoll)) timeout_ns = 0;
  epoll_event evs[128];
  int n;
  if (timeout_ns < 0) {
    n = ::epoll_pwait2(epfd_, evs, 128, nullptr, nullptr);
  } else {
    timespec ts{static_cast<time_t>(timeout_ns / 1'000'000'000), static_cast<long>(timeout_ns % 1'000'000'000)};
    n = ::epoll_pwait2(epfd_, evs, 128, &ts, nullptr);
  }
  anchor_->woke();
  if (n < 0) {
    if (errno == EINTR) return;
    throw std::system_error(errno, std::generic_category(), "coroscope: epoll_pwait2");
  }
  // Callbacks posted by other threads while we slept were queued first, as asyncio appends them to
  // _ready at call time; then the I/O callbacks, in the order the kernel reported them.
  drain_threadsafe();
  for (int i = 0; i < n; ++i) {
    const int fd = evs[i].data.fd;
    if (fd == anchor_->wakefd) continue;
    auto it = fds_.find(fd);
    if (it == fds_.end()) continue;
    const std::uint32_t e = evs[i].events;
    auto queue = [this](const handle& h) {
      auto* node = h.node();
      if (!node || node->cancelled) return;
      node->add_ref();
      ready_.push({{&detail::handle_trampoline, node}, nullptr});
    };
    if (e & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) queue(it->second.reader);
    if (e & (EPOLLOUT | EPOLLHUP | EPOLLERR)) queue(it->second.writer);
  }
}

void event_loop::watch(int fd, bool read, detail::handle_node* cb) {
  handle h(cb);
  cb->release();  // h holds it now
  if (closed_) throw loop_closed_error("coroscope: Event loop is closed");
  if (fd < 0) throw std::invalid_argument("coroscope: invalid file descriptor " + std::to_string(fd));
  auto [it, inserted] = fds_.try_emplace(fd);
  auto& w = it->second;
  handle& slot = read ? w.reader : w.writer;
  slot.cancel();  // a second reader replaces the first
  slot = std::move(h);
  const std::uint32_t want = w.events | (read ? EPOLLIN : EPOLLOUT);
  if (want != w.events || inserted) {
    epoll_event ev{};
    ev.events = want;
    ev.data.fd = fd;
    if (::epoll_ctl(epfd_, inserted ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev) != 0) {
      const int err = errno;
      if (inserted) fds_.erase(it);
      else slot = handle();
      throw std::system_error(err, std::generic_category(), "coroscope: cannot watch fd " + std::to_string(fd));
    }
    w.events = want;
  }
}

bool event_loop::unwatch(int fd, bool read) {
  auto it = fds_.find(fd);
  if (it == fds_.end()) return false;
  auto& w = it->second;
  handle& slot = read ? w.reader : w.writer;
  if (!slot) return false;
  slot.cancel();
  slot = handle();
  w.events &= ~static_cast<std::uint32_t>(read ? EPOLLIN : EPOLLOUT);
  if (w.events == 0) {
    ::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);  // the fd may be closed already: nothing to undo
    fds_.erase(it);
  } else {
    epoll_event ev{};
    ev.events = w.events;
    ev.data.fd = fd;
    ::epoll_ctl(epfd_, EPOLL_CTL_MOD, fd, &ev);
  }
  return true;
}

std::shared_ptr<executor> event_loop::default_executor() {
  if (executor_shutdown_) throw std::runtime_error("coroscope: Executor shutdown has been called");
  if (!default_executor_) default_executor_ = std::make_shared<thread_pool_executor>();
  return default_executor_;
}

void event_loop::set_default_executor(std::shared_ptr<executor> ex) { default_executor_ = std::move(ex); }

void event_loop::shutdown_default_executor() {
  executor_shutdown_ = true;
  if (default_executor_) {
    default_executor_->shutdown(true);
    // Completions the workers posted while we joined them.
    drain_threadsafe();
  }
}

void event_loop::run_until_external_work_done() {
  // asyncio.run keeps the loop running while it shuts the default executor down, so what the workers post
  // back (results, done callbacks) still runs. A closed or running loop cannot do that.
  if (closed_ || running_ || external_pending_ == 0) return;
  detail::set_running_loop(this);
  running_ = true;
  struct restore {
    event_loop* l;
    ~restore() {
      l->running_ = false;
      detail::set_running_loop(nullptr);
    }
  } r{this};
  while (external_pending_ > 0) run_once();
  // The callbacks the last completions scheduled; never wait here: nothing else is coming.
  while (!ready_.empty()) run_once();
}

std::string event_loop::describe(const detail::ready_item& it) const {
  // Only valid before the item runs: running may free its context.
  if (it.cb.fn == &detail::task_step_callback)
    return "<Task " + static_cast<detail::task_core*>(it.cb.ctx)->name() + ">";
  if (it.cb.fn == &detail::handle_trampoline)
    return "<" + static_cast<detail::handle_node*>(it.cb.ctx)->describe() + ">";
  return "<done callback>";
}

void event_loop::run_once() {
  if (anchor_->has_pending.load(std::memory_order_acquire)) drain_threadsafe();
  if (!timers_.empty()) {
    // Lazy deletion: cancelled timers stay in the heap until they surface or outnumber the live ones.
    if (timers_.size() > 100 && cancelled_timers_ * 2 > timers_.size()) {
      purge_cancelled_timers();
    } else {
      while (!timers_.empty() && timers_.front().node->cancelled &&
             !detail::mutant::is(detail::mutant::timers_ignore_cancel)) {
        std::pop_heap(timers_.begin(), timers_.end(), later);
        auto* n = timers_.back().node;
        timers_.pop_back();
        n->heap_loop = nullptr;
        --cancelled_timers_;
        n->release();
      }
    }
  }

  if (ready_.empty() && !stopping_) {
    std::int64_t timeout = -1;
    if (!timers_.empty())
      timeout = std::max<std::int64_t>(0, timers_.front().when - now().time_since_epoch().count());
    wait_for_events(timeout);
  }

  // Due timers go after the callbacks that are already ready (ORD-005). The clock is read only when a
  // timer is pending: clock_gettime costs more than a whole task switch.
  if (!timers_.empty()) {
    const std::int64_t end = now().time_since_epoch().count();
    while (!timers_.empty() && timers_.front().when <= end) {
      std::pop_heap(timers_.begin(), timers_.end(), later);
      auto* n = timers_.back().node;
      timers_.pop_back();
      n->heap_loop = nullptr;
      if (n->cancelled && !detail::mutant::is(detail::mutant::timers_ignore_cancel)) {
        --cancelled_timers_;
        n->release();
        continue;
      }
      // The heap's reference moves to the queue.
      if (detail::mutant::is(detail::mutant::due_timers_first))
        ready_.push_front({{&detail::handle_trampoline, n}, nullptr});
      else
        ready_.push({{&detail::handle_trampoline, n}, nullptr});
    }
  }
  run_ready_batch();
}

void event_loop::report_callback_exception(const detail::ready_item& it, std::exception_ptr e) {
  if (detail::is_fatal_error(e)) {
    if (it.fut) it.fut->release();
    std::rethrow_exception(e);
  }
  exception_context ctx;
  // The item's context may be gone by now: name the kind of callback only.
  ctx.message = std::string("Exception in callback ") +
                (it.cb.fn == &detail::handle_trampoline ? "<Handle>" : "<done callback>");
  ctx.exception = std::move(e);
  call_exception_handler(ctx);
}

// One batch: what is ready now. What these callbacks schedule runs in the next iteration (ORD-002).
void event_loop::run_ready_batch() {
  std::size_t ntodo = ready_.size();
  if (debug_) [[unlikely]] {
    for (; ntodo > 0; --ntodo) {
      detail::ready_item it = ready_.pop();
      const std::string what = describe(it);
      const auto t0 = std::chrono::steady_clock::now();
      try {
        it.cb.fn(it.cb.ctx, it.fut, detail::cb_op::invoke);
      } catch (...) {
        report_callback_exception(it, std::current_exception());
      }
      const auto dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0);
      if (dt >= slow_callback_) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.3f", dt.count());
        log("Executing " + what + " took " + buf + " seconds");
      }
      if (it.fut) it.fut->release();
      if (fatal_) std::rethrow_exception(std::exchange(fatal_, nullptr));
    }
    return;
  }
  for (; ntodo > 0; --ntodo) {
    detail::ready_item it = detail::mutant::is(detail::mutant::lifo_ready_queue) ? ready_.pop_back() : ready_.pop();
    try {
      it.cb.fn(it.cb.ctx, it.fut, detail::cb_op::invoke);
    } catch (...) {
      report_callback_exception(it, std::current_exception());
    }
    if (it.fut) it.fut->release();
    if (fatal_) [[unlikely]]
      std::rethrow_exception(std::exchange(fatal_, nullptr));
  }
}

void event_loop::run_forever() {
  check_open();
  if (running_) throw std::runtime_error("coroscope: This event loop is already running");
  if (detail::running_loop())
    throw std::runtime_error("coroscope: Cannot run the event loop while another loop is running");
  detail::set_running_loop(this);
  running_ = true;
  struct restore {
    event_loop* l;
    ~restore() {
      l->stopping_ = false;
      l->running_ = false;
      detail::set_running_loop(nullptr);
    }
  } r{this};
  for (;;) {
    run_once();
    if (stopping_) break;
  }
}

namespace {
void stop_loop_callback(void* ctx, detail::future_core*, detail::cb_op op) {
  if (op == detail::cb_op::invoke) static_cast<event_loop*>(ctx)->stop();
}
}  // namespace

void event_loop::run_until_done(future_ref& f) {
  auto* core = f.core_ptr();
  if (!core) throw std::invalid_argument("coroscope: run_until_complete of an empty future");
  core->add_done_callback({&stop_loop_callback, this});
  try {
    run_forever();
  } catch (...) {
    core->remove_done_callback(&stop_loop_callback, this);
    throw;
  }
  core->remove_done_callback(&stop_loop_callback, this);
  if (!core->done()) throw std::runtime_error("coroscope: Event loop stopped before Future completed.");
}

void event_loop::close() {
  if (running_) throw std::runtime_error("coroscope: Cannot close a running event loop");
  if (closed_) return;
  // Like asyncio's close(): the default executor's threads are joined (without waiting for the loop).
  if (default_executor_) default_executor_->shutdown(true);
  closed_ = true;
  anchor_->close();
  for (auto& [fd, w] : fds_) {
    w.reader.cancel();
    w.writer.cancel();
  }
  fds_.clear();
  while (!ready_.empty()) {
    auto it = ready_.pop();
    it.cb.fn(it.cb.ctx, it.fut, detail::cb_op::discard);
    if (it.fut) it.fut->release();
  }
  for (auto& e : timers_) {
    e.node->heap_loop = nullptr;
    e.node->release();
  }
  timers_.clear();
  cancelled_timers_ = 0;
}

void event_loop::teardown() noexcept {
  try {
    close();
  } catch (...) {
  }
  // Frames must not outlive their loop: destroy every task that is still pending. Their locals may hold
  // references to other tasks, so collect first and let the refcounts decide the order.
  std::vector<detail::task_core*> pending;
  for (auto* f = futures_head_; f; f = f->next_)
    if (f->is_task() && !f->done() && static_cast<detail::task_core*>(f)->owned_by_loop()) {
      f->add_ref();
      pending.push_back(static_cast<detail::task_core*>(f));
    }
  for (auto* t : pending) {
    exception_context ctx;
    ctx.message = "Task was destroyed but it is pending!";
    ctx.task = t->name();
    call_exception_handler(ctx);
    t->abandon();
  }
  for (auto* t : pending) {
    t->owned_by_loop_ = false;
    t->release();  // the loop's reference
  }
  for (auto* t : pending) t->release();  // ours: the frame goes now unless a handle keeps it
  // Whatever is still alive (a handle kept past the loop, a future nobody resolved) is detached: it keeps
  // its outcome if it has one, its callbacks can never run, and whatever needs the loop raises
  // loop_closed_error instead of reaching freed memory.
  std::vector<detail::future_core*> left;
  for (auto* f = futures_head_; f; f = f->next_) {
    f->add_ref();
    left.push_back(f);
  }
  for (auto* f : left) {
    f->loop_ = nullptr;
    f->prev_ = f->next_ = nullptr;
  }
  futures_head_ = nullptr;
  for (auto* f : left) f->discard_callbacks();
  for (auto* f : left) f->release();
  if (epfd_ >= 0) ::close(epfd_);
  epfd_ = -1;
}

void event_loop::log(std::string_view line) noexcept {
  try {
    if (log_) {
      log_(line);
      return;
    }
    std::cerr << "coroscope: " << line << '\n';
  } catch (...) {
  }
}

void event_loop::call_exception_handler(const exception_context& ctx) noexcept {
  if (handler_) {
    try {
      handler_(*this, ctx);
      return;
    } catch (...) {
      // Like asyncio: a failing custom handler is reported by the default one, never propagated.
      exception_context inner;
      inner.message = "Unhandled error in exception handler";
      inner.exception = std::current_exception();
      default_exception_handler(inner);
    }
  }
  default_exception_handler(ctx);
}

void event_loop::default_exception_handler(const exception_context& ctx) noexcept {
  try {
    std::string line = ctx.message;
    if (!ctx.task.empty()) line += " (task " + ctx.task + ")";
    if (!ctx.source.empty()) line += " in " + ctx.source;
    if (ctx.exception) line += ": " + detail::describe(ctx.exception);
    log(line);
  } catch (...) {
  }
}

}  // namespace coroscope
