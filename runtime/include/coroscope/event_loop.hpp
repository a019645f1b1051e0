#pragma once
// asyncio's events module: the event loop, its handles and its clock.
//
// One loop per thread, single-threaded. The loop follows CPython's BaseEventLoop._run_once exactly —
// ready callbacks run in batches, due timers are appended after the callbacks that are already ready,
// stop() lets the current batch finish — because every interleaving trace asyncio users rely on follows
// from that algorithm. The loop can run on a virtual clock: when nothing is ready it jumps to the next
// timer, so timer tests are exact and take no wall time.
#include <coroscope/detail/future_core.hpp>
#include <coroscope/detail/loop_anchor.hpp>
#include <coroscope/detail/mutant.hpp>
#include <coroscope/exceptions.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <type_traits>
#include <unordered_map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace coroscope {

template <class T>
class task;
template <class T>
class task_handle;
template <class T>
class future;
class future_ref;
class task_ref;

// The loop's clock. A time_point is a point on the running loop's timeline: real (steady) or virtual.
struct loop_clock {
  using duration = std::chrono::nanoseconds;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<loop_clock, duration>;
  static constexpr bool is_steady = true;
  static time_point now();  // the running loop's time; throws std::runtime_error when no loop runs
};
using duration = loop_clock::duration;
using time_point = loop_clock::time_point;

// Converts any chrono duration to the loop's resolution, rounding up so that a timer never fires early.
template <class Rep, class Period>
constexpr duration to_duration(std::chrono::duration<Rep, Period> d) {
  return std::chrono::ceil<duration>(d);
}

enum class clock_kind { real, virtual_time };

struct loop_options {
  clock_kind clock = clock_kind::real;
  // asyncio debug mode: slow-callback warnings. Also switched on by COROSCOPE_DEBUG=1 in the environment.
  bool debug = false;
  std::chrono::duration<double> slow_callback_duration{0.1};
};

// What the loop reports to its exception handler (asyncio's context dict).
struct exception_context {
  std::string message;
  std::exception_ptr exception;
  std::string task;    // name of the task involved, if any
  std::string source;  // description of the callback or future involved, if any
};

class executor;

namespace detail {
template <class A>
struct is_task_type : std::false_type {};
template <class T>
struct is_task_type<task<T>> : std::true_type {};
// An awaitable that is not a task<T> but converts to one (the queue and lock operations, sync_op): what
// loop.create_task, task_group::create_task and run() also accept, scheduled as that task.
template <class A>
concept converts_to_task = !is_task_type<std::remove_cvref_t<A>>::value &&
                           requires { typename std::remove_cvref_t<A>::value_type; } &&
                           std::is_convertible_v<A&&, task<typename std::remove_cvref_t<A>::value_type>>;
template <class A>
using converted_task_t = task<typename std::remove_cvref_t<A>::value_type>;

class task_core;
class handle_node;
class timer_node;
struct ready_item {
  callback cb;
  future_core* fut;  // a reference the loop holds while the item is queued; may be null
};
void handle_trampoline(void* ctx, future_core*, cb_op op);
}  // namespace detail

// asyncio.Handle: returned by call_soon; cancel() keeps the callback from running.
class handle {
public:
  handle() = default;
  explicit handle(detail::handle_node* n) noexcept;  // takes a reference
  handle(const handle& o) noexcept;
  handle(handle&& o) noexcept : node_(std::exchange(o.node_, nullptr)) {}
  handle& operator=(handle o) noexcept {
    std::swap(node_, o.node_);
    return *this;
  }
  ~handle();
  void cancel() noexcept;
  bool cancelled() const noexcept;
  explicit operator bool() const noexcept { return node_ != nullptr; }
  detail::handle_node* node() const noexcept { return node_; }

protected:
  detail::handle_node* node_ = nullptr;
};

// asyncio.TimerHandle: returned by call_later / call_at.
class timer_handle : public handle {
public:
  timer_handle() = default;
  explicit timer_handle(detail::timer_node* n) noexcept;
  time_point when() const noexcept;
};

namespace detail {

class handle_node : public rc_base {
public:
  virtual void run() = 0;
  virtual std::string describe() const { return "Handle"; }
  bool cancelled = false;
  // Set for timer handles that sit in a loop's heap, so cancel() can count them for lazy deletion.
  event_loop* heap_loop = nullptr;
  void cancel() noexcept;
};

template <class F>
class handle_impl final : public handle_node, public pooled {
public:
  explicit handle_impl(F f) : f_(std::move(f)) {}
  void run() override { f_(); }
  using pooled::operator new;
  using pooled::operator delete;

private:
  F f_;
};

class timer_node : public handle_node {
public:
  std::int64_t when = 0;
  std::uint64_t seq = 0;
};

template <class F>
class timer_impl final : public timer_node, public pooled {
public:
  explicit timer_impl(F f) : f_(std::move(f)) {}
  void run() override { f_(); }
  std::string describe() const override { return "TimerHandle"; }
  using pooled::operator new;
  using pooled::operator delete;

private:
  F f_;
};

// Ring buffer of ready callbacks: power-of-two capacity, grows by doubling, never shrinks while running.
class ready_queue {
public:
  ready_queue() = default;
  ready_queue(const ready_queue&) = delete;
  ready_queue& operator=(const ready_queue&) = delete;
  ~ready_queue() { delete[] buf_; }
  bool empty() const noexcept { return head_ == tail_; }
  std::size_t size() const noexcept { return tail_ - head_; }
  void push(const ready_item& it) {
    if (size() == cap_) grow();
    buf_[tail_++ & (cap_ - 1)] = it;
  }
  ready_item pop() noexcept {
    ready_item it = buf_[head_++ & (cap_ - 1)];
    // A burst (ten thousand tasks spawned at once) leaves a big ring behind: give it back once drained,
    // as CPython's deque frees its blocks while it is popped.
    if (head_ == tail_ && cap_ > retained_capacity) [[unlikely]]
      release_buffer();
    return it;
  }

private:
  friend struct ready_queue_mutations;  // event_loop.cpp: the mutation-testing build's wrong orders
  static constexpr std::size_t retained_capacity = 1024;
  void grow();
  void release_buffer() noexcept {
    delete[] std::exchange(buf_, nullptr);
    cap_ = head_ = tail_ = 0;
  }
  ready_item* buf_ = nullptr;
  std::size_t cap_ = 0;
  std::size_t head_ = 0;
  std::size_t tail_ = 0;
};

}  // namespace detail

class event_loop {
public:
  explicit event_loop(loop_options options = {});
  event_loop(const event_loop&) = delete;
  event_loop& operator=(const event_loop&) = delete;
  ~event_loop();

  // --- scheduling callbacks (asyncio: call_soon, call_later, call_at, time) ---
  template <class F, class... A>
  handle call_soon(F&& f, A&&... args) {
    check_open();
    auto* n = new detail::handle_impl(bind(std::forward<F>(f), std::forward<A>(args)...));
    handle h(n);  // user's reference
    push_ready({{&detail::handle_trampoline, n}, nullptr});  // the queue's reference (n's initial one)
    return h;
  }
  template <class Rep, class Period, class F, class... A>
  timer_handle call_later(std::chrono::duration<Rep, Period> delay, F&& f, A&&... args) {
    return call_at(now() + to_duration(delay), std::forward<F>(f), std::forward<A>(args)...);
  }
  template <class F, class... A>
  timer_handle call_at(time_point when, F&& f, A&&... args) {
    check_open();
    auto* n = new detail::timer_impl(bind(std::forward<F>(f), std::forward<A>(args)...));
    n->when = when.time_since_epoch().count();
    timer_handle h(n);
    add_timer(n);  // takes over n's initial reference
    return h;
  }
  // Seconds on the loop's clock, as asyncio's loop.time() returns them.
  double time() const noexcept { return std::chrono::duration<double>(now().time_since_epoch()).count(); }
  time_point now() const noexcept;

  // --- I/O readiness (asyncio: add_reader / remove_reader / add_writer / remove_writer) ---
  // The callback is queued every iteration while fd is readable (writable): level-triggered, as asyncio.
  // Adding a second reader replaces the first. remove_* return whether something was registered.
  template <class F, class... A>
  void add_reader(int fd, F&& f, A&&... args) {
    watch(fd, true, new detail::handle_impl(bind(std::forward<F>(f), std::forward<A>(args)...)));
  }
  template <class F, class... A>
  void add_writer(int fd, F&& f, A&&... args) {
    watch(fd, false, new detail::handle_impl(bind(std::forward<F>(f), std::forward<A>(args)...)));
  }
  bool remove_reader(int fd) { return unwatch(fd, true); }
  bool remove_writer(int fd) { return unwatch(fd, false); }

  // --- threads (asyncio: call_soon_threadsafe, run_in_executor in executor.hpp) ---
  // The only loop function other threads may call. Callbacks from one thread keep their order (THR-003);
  // on a closed loop it throws std::runtime_error. Unlike asyncio it returns no handle: a handle's
  // reference count belongs to the loop's thread (and cancelling from another thread races anyway).
  template <class F, class... A>
  void call_soon_threadsafe(F&& f, A&&... args) {
    anchor_->post(new detail::handle_impl(bind(std::forward<F>(f), std::forward<A>(args)...)));
  }
  const std::shared_ptr<detail::loop_anchor>& anchor() const noexcept { return anchor_; }
  // Work submitted to executors whose completion will come back through the anchor: while some is
  // outstanding the loop waits for it instead of reporting a deadlock.
  void external_work_started() noexcept { ++external_pending_; }
  void external_work_finished() noexcept { --external_pending_; }
  // The executor run_in_executor(nullptr, ...) uses: a thread_pool_executor created on first use.
  std::shared_ptr<executor> default_executor();
  void set_default_executor(std::shared_ptr<executor> ex);
  // asyncio's loop.shutdown_default_executor(): joins the default executor's threads; run() calls it.
  void shutdown_default_executor();
  // Runs the loop until every executor job has come back (run() does it before shutting executors down).
  void run_until_external_work_done();

  // --- futures and tasks ---
  template <class T = void>
  future<T> create_future();
  template <class T>
  task_handle<T> create_task(task<T>&& coro);
  template <class T>
  task_handle<T> create_task(task<T>&& coro, std::string name);
  template <detail::converts_to_task A>
  auto create_task(A&& op, std::string name = {}) {
    return create_task(detail::converted_task_t<A>(std::forward<A>(op)), std::move(name));
  }

  // --- running and stopping ---
  void run_forever();
  template <class T>
  T run_until_complete(task<T>&& coro);
  template <class T>
  T run_until_complete(const task_handle<T>& t);
  template <class T>
  T run_until_complete(const future<T>& f);
  void stop() noexcept { stopping_ = true; }
  bool is_running() const noexcept { return running_; }
  bool is_closed() const noexcept { return closed_; }
  void close();

  // --- errors and debugging ---
  using exception_handler = std::function<void(event_loop&, const exception_context&)>;
  void set_exception_handler(exception_handler h) { handler_ = std::move(h); }
  const exception_handler& get_exception_handler() const noexcept { return handler_; }
  void call_exception_handler(const exception_context& ctx) noexcept;
  void default_exception_handler(const exception_context& ctx) noexcept;
  // Where the default handler and debug warnings write (stderr by default); tests capture it.
  using log_handler = std::function<void(std::string_view)>;
  void set_log_handler(log_handler h) { log_ = std::move(h); }
  void set_debug(bool on) noexcept { debug_ = on; }
  bool get_debug() const noexcept { return debug_; }
  void set_slow_callback_duration(std::chrono::duration<double> d) noexcept { slow_callback_ = d; }
  std::chrono::duration<double> slow_callback_duration() const noexcept { return slow_callback_; }
  clock_kind clock() const noexcept { return clock_; }

  // --- introspection (asyncio.current_task / all_tasks take the running loop) ---
  task_ref current_task() const noexcept;
  std::vector<task_ref> all_tasks() const;

  // --- internal plumbing used by the library's own awaitables ---
  void push_ready(const detail::ready_item& it) { ready_.push(it); }
  inline void push_step(detail::task_core* t);
  void add_timer(detail::timer_node* n);
  void note_timer_cancelled() noexcept { ++cancelled_timers_; }
  void note_fatal(std::exception_ptr e) noexcept {
    if (!fatal_) fatal_ = std::move(e);
  }
  detail::task_core* current_task_core() const noexcept { return current_; }
  void set_current_task_core(detail::task_core* t) noexcept { current_ = t; }
  // Every future and task of the loop is on one intrusive list, so teardown can detach them all.
  void attach(detail::future_core* f) noexcept {
    f->prev_ = nullptr;
    f->next_ = futures_head_;
    if (futures_head_) futures_head_->prev_ = f;
    futures_head_ = f;
  }
  void detach(detail::future_core* f) noexcept {
    if (f->prev_) f->prev_->next_ = f->next_;
    else if (futures_head_ == f) futures_head_ = f->next_;
    if (f->next_) f->next_->prev_ = f->prev_;
    f->prev_ = f->next_ = nullptr;
  }
  std::uint64_t next_task_id() noexcept { return ++task_counter_; }
  void log(std::string_view line) noexcept;
  void run_until_done(future_ref& f);  // run_until_complete without the typed result

private:
  template <class F, class... A>
  static auto bind(F&& f, A&&... args) {
    if constexpr (sizeof...(A) == 0)
      return std::decay_t<F>(std::forward<F>(f));
    else
      return std::bind_front(std::forward<F>(f), std::forward<A>(args)...);
  }
  void check_open() const;
  void run_once();
  void run_ready_batch();
  void run_item_timed(const detail::ready_item& it);
  void drop_cancelled_timers();
  void queue_due_timers();
  void watch(int fd, bool read, detail::handle_node* cb);
  bool unwatch(int fd, bool read);
  void poll_io(std::int64_t timeout_ns);
  void drain_threadsafe();
  void report_callback_exception(const detail::ready_item& it, std::exception_ptr e);
  void purge_cancelled_timers();
  void wait_for_events(std::int64_t timeout_ns);  // timeout < 0: indefinitely
  std::string describe(const detail::ready_item& it) const;
  void teardown() noexcept;

  struct heap_entry {
    std::int64_t when;
    std::uint64_t seq;
    detail::timer_node* node;
  };
  static bool later(const heap_entry& a, const heap_entry& b) noexcept {
    return a.when != b.when ? a.when > b.when : a.seq > b.seq;
  }

  detail::ready_queue ready_;
  std::vector<heap_entry> timers_;
  std::size_t cancelled_timers_ = 0;
  std::uint64_t timer_seq_ = 0;
  std::int64_t virtual_now_ = 0;
  clock_kind clock_;
  bool debug_;
  bool stopping_ = false;
  bool running_ = false;
  bool closed_ = false;
  std::chrono::duration<double> slow_callback_;
  detail::task_core* current_ = nullptr;
  detail::future_core* futures_head_ = nullptr;  // every live future and task of this loop
  std::uint64_t task_counter_ = 0;
  std::exception_ptr fatal_;
  exception_handler handler_;
  log_handler log_;
  event_loop* previous_running_ = nullptr;

  struct fd_watch {
    handle reader;
    handle writer;
    std::uint32_t events = 0;
  };
  int epfd_ = -1;
  std::unordered_map<int, fd_watch> fds_;
  std::shared_ptr<detail::loop_anchor> anchor_;
  std::size_t external_pending_ = 0;
  std::shared_ptr<executor> default_executor_;
  bool executor_shutdown_ = false;
};

// asyncio.get_running_loop(): throws std::runtime_error("no running event loop") outside a loop.
event_loop& get_running_loop();

namespace detail {
// The loop running on this thread (asyncio's _running_loop). Inline so the hot path reads it directly.
inline thread_local event_loop* tls_running_loop = nullptr;
inline event_loop* running_loop() noexcept { return tls_running_loop; }
inline void set_running_loop(event_loop* l) noexcept { tls_running_loop = l; }
void task_step_callback(void* ctx, future_core* fut, cb_op op);
}  // namespace detail

inline void event_loop::push_step(detail::task_core* t) {
  ready_.push({{&detail::task_step_callback, t}, nullptr});
}

// The future's hot path, here because it needs the loop's definition: creating and destroying a future,
// registering the awaiting task and completing with one callback are inline; the rest is in future_core.cpp.
namespace detail {
inline future_core::future_core(event_loop* loop) noexcept : loop_(loop) {
  if (loop) loop->attach(this);
}
inline future_core::~future_core() {
  if (loop_) loop_->detach(this);
}
inline void future_core::destroy_self() noexcept {
  if (log_traceback_) [[unlikely]]
    report_unretrieved();
  if (!callbacks_.empty()) [[unlikely]]
    discard_callbacks();
  dispose();
}
inline void future_core::complete(state s) noexcept {
  state_ = s;
  if (callbacks_.empty()) return;
  if (loop_ && callbacks_.single() && !mutant::is(mutant::inline_done_callbacks)) [[likely]] {
    add_ref();  // the queue's reference while the callback waits
    loop_->push_ready({callbacks_.take_single(), this});
    return;
  }
  complete_slow();
}
inline void future_core::add_done_callback(callback cb) {
  if (loop_ && !done()) [[likely]] {
    callbacks_.push(cb);
    return;
  }
  add_done_callback_slow(cb);
}
}  // namespace detail

}  // namespace coroscope
