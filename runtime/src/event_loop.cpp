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

// The wrong orders of the mutation-testing build (lifo_ready_queue, due_timers_first); unused otherwise.
struct ready_queue_mutations {
  static ready_item pop_back(ready_queue& q) noexcept { return q.buf_[--q.tail_ & (q.cap_ - 1)]; }
  static void push_front(ready_queue& q, const ready_item& it) {
    if (q.size() == q.cap_) q.grow();
    q.buf_[--q.head_ & (q.cap_ - 1)] = it;
  }
};

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

void event_loop::drain_threadsafe() {
  anchor_->drain([this](detail::handle_node* n) { ready_.push({{&detail::handle_trampoline, n}, nullptr}); });
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

// Inlined into run_forever: one frame for the whole loop, no call per iteration or per batch.
[[gnu::always_inline]] inline void event_loop::run_once() {
  if (anchor_->has_pending.load(std::memory_order_acquire)) [[unlikely]]
    drain_threadsafe();
  // Timers cannot appear while the loop waits (no callback runs there), so one check covers both steps.
  const bool timers = !timers_.empty();
  if (timers) drop_cancelled_timers();
  if (ready_.empty() && !stopping_) {
    std::int64_t timeout = -1;
    if (!timers_.empty())
      timeout = std::max<std::int64_t>(0, timers_.front().when - now().time_since_epoch().count());
    wait_for_events(timeout);
  }
  if (timers) queue_due_timers();
  run_ready_batch();
}

void event_loop::drop_cancelled_timers() {
  // Lazy deletion: cancelled timers stay in the heap until they surface or outnumber the live ones.
  if (timers_.size() > 100 && cancelled_timers_ * 2 > timers_.size()) {
    purge_cancelled_timers();
    return;
  }
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

// Due timers go after the callbacks that are already ready (ORD-005). The clock is read only when a timer
// is pending: clock_gettime costs more than a whole task switch.
void event_loop::queue_due_timers() {
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
      detail::ready_queue_mutations::push_front(ready_, {{&detail::handle_trampoline, n}, nullptr});
    else
      ready_.push({{&detail::handle_trampoline, n}, nullptr});
  }
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
// One loop for debug and normal mode; a task's step (most items) is called directly, not through the
// function pointer, so that it inlines here.
[[gnu::always_inline]] inline void event_loop::run_ready_batch() {
  for (std::size_t ntodo = ready_.size(); ntodo > 0; --ntodo) {
    detail::ready_item it = detail::mutant::is(detail::mutant::lifo_ready_queue)
                                ? detail::ready_queue_mutations::pop_back(ready_)
                                : ready_.pop();
    if (debug_) [[unlikely]] {
      run_item_timed(it);
    } else {
      if (it.cb.fn == &detail::task_step_callback) [[likely]] {
        static_cast<detail::task_core*>(it.cb.ctx)->step();  // noexcept: errors end up in the task
      } else {
        try {
          it.cb.fn(it.cb.ctx, it.fut, detail::cb_op::invoke);
        } catch (...) {
          report_callback_exception(it, std::current_exception());
        }
      }
      if (it.fut) it.fut->release();
    }
    if (fatal_) [[unlikely]]
      std::rethrow_exception(std::exchange(fatal_, nullptr));
  }
}

// Debug mode (asyncio's slow-callback warning): time each callback and name the slow ones.
void event_loop::run_item_timed(const detail::ready_item& it) {
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
