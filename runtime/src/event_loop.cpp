#include <coroscope/detail/task_core.hpp>
#include <coroscope/event_loop.hpp>
#include <coroscope/task.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <stdexcept>
#include <thread>

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
  if (op == cb_op::invoke && !n->cancelled) n->run();
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
      slow_callback_(options.slow_callback_duration) {}

event_loop::~event_loop() { teardown(); }

time_point event_loop::now() const noexcept {
  return time_point(duration(clock_ == clock_kind::virtual_time ? virtual_now_ : detail::steady_ns()));
}

void event_loop::check_open() const {
  if (closed_) throw std::runtime_error("coroscope: Event loop is closed");
}


void event_loop::add_timer(detail::timer_node* n) {
  n->seq = ++timer_seq_;
  n->heap_loop = this;
  timers_.push_back({n->when, n->seq, n});
  std::push_heap(timers_.begin(), timers_.end(), later);
}

void event_loop::register_task(detail::task_core* t) noexcept {
  t->prev_ = nullptr;
  t->next_ = tasks_head_;
  if (tasks_head_) tasks_head_->prev_ = t;
  tasks_head_ = t;
}

void event_loop::unregister_task(detail::task_core* t) noexcept {
  if (t->prev_) t->prev_->next_ = t->next_;
  else if (tasks_head_ == t) tasks_head_ = t->next_;
  if (t->next_) t->next_->prev_ = t->prev_;
  t->prev_ = t->next_ = nullptr;
}

task_ref event_loop::current_task() const noexcept { return task_ref(current_); }

std::vector<task_ref> event_loop::all_tasks() const {
  std::vector<task_ref> out;
  for (auto* t = tasks_head_; t; t = t->next_)
    if (!t->done()) out.emplace_back(t);
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
  if (timeout_ns < 0)
    throw std::runtime_error(
        "coroscope: deadlock: nothing is ready, no timer is pending and nothing can wake the loop");
  if (timeout_ns == 0) return;
  if (clock_ == clock_kind::virtual_time) {
    virtual_now_ += timeout_ns;
  } else {
    std::this_thread::sleep_for(std::chrono::nanoseconds(timeout_ns));
  }
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
  if (!timers_.empty()) {
    // Lazy deletion: cancelled timers stay in the heap until they surface or outnumber the live ones.
    if (timers_.size() > 100 && cancelled_timers_ * 2 > timers_.size()) {
      purge_cancelled_timers();
    } else {
      while (!timers_.empty() && timers_.front().node->cancelled) {
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
      if (n->cancelled) {
        --cancelled_timers_;
        n->release();
        continue;
      }
      ready_.push({{&detail::handle_trampoline, n}, nullptr});  // the heap's reference moves to the queue
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
    detail::ready_item it = ready_.pop();
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
  closed_ = true;
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
  for (auto* t = tasks_head_; t; t = t->next_)
    if (!t->done() && t->owned_by_loop()) {
      t->add_ref();
      pending.push_back(t);
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
  for (auto* t : pending) {
    // A handle kept past the loop keeps the frame alive; it can no longer reach the loop.
    if (t->ref_count() > 1) {
      unregister_task(t);
      t->registered_ = false;
      t->loop_ = nullptr;
    }
    t->release();
  }
  // Finished tasks still referenced by handles outlive the loop as plain results.
  for (auto* t = tasks_head_; t;) {
    auto* next = t->next_;
    t->registered_ = false;
    t->loop_ = nullptr;
    t->prev_ = t->next_ = nullptr;
    t = next;
  }
  tasks_head_ = nullptr;
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
