#pragma once
// The untyped heart shared by futures, tasks and the combinators' internal futures: state machine, done
// callbacks, refcount. Everything typed lives in future.hpp / task.hpp on top of it.
#include <coroscope/detail/pool.hpp>

#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace coroscope {
class event_loop;
}

namespace coroscope::detail {

class future_core;

// Callbacks are a function pointer plus a context pointer: no allocation to register one. A callback that
// is dropped without running (removed, or its loop closed) is told so with cb_op::discard, so that it can
// release what its context owns.
enum class cb_op : unsigned char { invoke, discard };
using callback_fn = void (*)(void* ctx, future_core* fut, cb_op op);
struct callback {
  callback_fn fn = nullptr;
  void* ctx = nullptr;
  explicit operator bool() const noexcept { return fn != nullptr; }
};

// Single-threaded intrusive refcount: a loop and everything it schedules live on one thread.
class rc_base {
public:
  rc_base() = default;
  rc_base(const rc_base&) = delete;
  rc_base& operator=(const rc_base&) = delete;
  void add_ref() noexcept { ++refs_; }
  void release() noexcept {
    if (--refs_ == 0) destroy_self();
  }
  std::uint32_t ref_count() const noexcept { return refs_; }

protected:
  virtual ~rc_base() = default;
  virtual void destroy_self() noexcept { delete this; }

private:
  std::uint32_t refs_ = 1;
};

// Anything a task can be parked on and that a Task.cancel() must be forwarded to (Python's _fut_waiter).
class waitable {
public:
  virtual bool cancel_wait(const std::string* msg) = 0;

protected:
  virtual ~waitable() = default;
};

// The second and later done callbacks of one future, in fixed blocks: a future that thousands of tasks
// wait on (an Event's broadcast, a gate) grows without copying and wastes at most one block, where a
// doubling vector would hold up to twice what it needs.
class callback_blocks {
public:
  callback_blocks() : head_(new block), tail_(head_) {}
  callback_blocks(const callback_blocks&) = delete;
  callback_blocks& operator=(const callback_blocks&) = delete;
  ~callback_blocks() {
    while (head_) delete std::exchange(head_, head_->next);
  }
  void push(callback c) {
    if (tail_->n == per_block) tail_ = tail_->next = new block;
    tail_->items[tail_->n++] = c;
  }
  template <class F>
  void for_each(F&& f) {
    for (block* b = head_; b; b = b->next)
      for (std::size_t i = 0; i < b->n; ++i) f(b->items[i]);
  }

private:
  static constexpr std::size_t per_block = 32;
  struct block {
    block* next = nullptr;
    std::size_t n = 0;
    callback items[per_block];
  };
  block* head_;
  block* tail_;
};

// Registration order is execution order (ORD-012). Most futures have one callback (the awaiting task), so
// the first lives inline and only a second one allocates.
class callback_list {
public:
  callback_list() = default;
  callback_list(const callback_list&) = delete;
  callback_list& operator=(const callback_list&) = delete;
  ~callback_list() { delete rest_; }

  bool empty() const noexcept { return !first_; }
  void push(callback c) {
    if (!first_) [[likely]] {
      first_ = c;
      return;
    }
    push_rest(c);
  }
  bool single() const noexcept { return rest_ == nullptr; }
  // Takes the only callback out (the list must hold exactly one).
  callback take_single() noexcept { return std::exchange(first_, callback{}); }
  // Hands every callback to f in order and leaves the list empty.
  template <class F>
  void drain(F&& f) {
    if (!first_) return;
    callback c = first_;
    first_ = {};
    callback_blocks* rest = rest_;
    rest_ = nullptr;
    f(c);
    if (rest) {
      rest->for_each(f);
      delete rest;
    }
  }
  // Removes every registration of (fn, ctx); each removed one is passed to on_removed.
  template <class F>
  std::size_t remove(callback_fn fn, void* ctx, F&& on_removed) {
    std::vector<callback> kept;
    std::size_t n = 0;
    drain([&](callback c) {
      if (c.fn == fn && c.ctx == ctx) {
        ++n;
        on_removed(c);
      } else {
        kept.push_back(c);
      }
    });
    for (auto& c : kept) push(c);
    return n;
  }

private:
  void push_rest(callback c) {
    if (!rest_) rest_ = new callback_blocks();
    rest_->push(c);
  }
  callback first_{};
  callback_blocks* rest_ = nullptr;  // invariant: null when first_ is empty
};

// What a future or task needs only now and then (a cancellation message, a name, a pending throw): kept
// behind one pointer, so that the common future and task frame stay small.
struct future_extras {
  std::string cancel_msg;              // Future.cancel(msg)
  std::string task_msg;                // Task._cancel_message
  std::unique_ptr<std::string> name;   // Task.set_name(); unset: "Task-<id>"
  std::exception_ptr pending_throw;    // raised in the task at its next resumption
  std::uint32_t num_cancels = 0;       // Task.cancelling()
};

class future_core : public rc_base {
public:
  enum class state : std::uint8_t { pending, finished, cancelled };

  // Joins loop's list of futures (null: a task frame not scheduled yet; task_core::start attaches it).
  // Defined in event_loop.hpp, with the other parts of the hot path that need the loop's definition.
  explicit future_core(event_loop* loop) noexcept;

  bool done() const noexcept { return state_ != state::pending; }
  bool cancelled() const noexcept { return state_ == state::cancelled; }
  bool failed() const noexcept { return state_ == state::finished && exc_ != nullptr; }
  bool is_task() const noexcept { return is_task_; }
  event_loop* loop() const noexcept { return loop_; }
  // The loop, or loop_closed_error when the loop is gone (teardown detaches every future).
  event_loop& live_loop() const {
    if (!loop_) [[unlikely]]
      throw_loop_closed();
    return *loop_;
  }
  [[noreturn]] static void throw_loop_closed();

  // Future.cancel(msg). Task and gather's future give it their own meaning.
  virtual bool cancel(const std::string* msg);

  // Where a typed subclass keeps its value (nullptr for void).
  virtual void* value_ptr() noexcept { return nullptr; }

  // Future.result() minus the value: raises the exception or CancelledError, InvalidStateError when
  // pending. Marks the exception retrieved.
  void check_result();
  // Future.exception(): nullptr when finished with a value.
  std::exception_ptr exception();
  // The stored exception or CancelledError, without checks or marking (internal plumbing).
  std::exception_ptr stored_exception() const noexcept { return exc_; }
  void mark_retrieved() noexcept { log_traceback_ = false; }

  void set_exception(std::exception_ptr e);
  // set_result for typed subclasses: check first, construct the value, then finish.
  void check_settable() const {
    if (is_task_ || !loop_ || done()) [[unlikely]]
      refuse_settable();
  }
  void finish_with_value() noexcept { complete(state::finished); }

  void add_done_callback(callback cb);  // event_loop.hpp
  std::size_t remove_done_callback(callback_fn fn, void* ctx);

  // Cancelled futures raise this; built lazily, with the message given to cancel().
  std::exception_ptr make_cancelled_error() const;

protected:
  ~future_core() override;             // event_loop.hpp
  void destroy_self() noexcept final;  // event_loop.hpp
  // Frees the object once reporting and callbacks are dealt with (a frame destroys its coroutine).
  virtual void dispose() noexcept { delete this; }
  virtual const char* kind_name() const noexcept { return "Future"; }
  // The task to name when an exception was never retrieved (a Task's own name; empty for a future).
  virtual std::string owner_name() const { return {}; }
  future_extras& extras() {
    if (!extras_) extras_ = std::make_unique<future_extras>();
    return *extras_;
  }

  // Sets the state and schedules the callbacks (never runs them inline). event_loop.hpp: the common case
  // (one callback, the awaiting task) is inline; complete_slow() does the rest.
  void complete(state s) noexcept;
  void complete_slow() noexcept;
  void discard_callbacks() noexcept;
  [[noreturn]] void refuse_settable() const;
  void add_done_callback_slow(callback cb);
  void report_unretrieved() noexcept;

  // The small fields come first so that they fill rc_base's tail padding. The bits after is_task_ belong
  // to task_core; they live here only because that padding is free, which keeps a task frame small.
  state state_ = state::pending;
  bool log_traceback_ = false;
  bool is_task_ = false;
  bool must_cancel_ : 1 = false;
  bool deliver_cancel_ : 1 = false;
  bool started_ : 1 = false;
  bool owned_by_loop_ : 1 = false;
  bool has_pending_throw_ : 1 = false;
  event_loop* loop_;
  future_core* prev_ = nullptr;  // the loop's list of its futures, for teardown and all_tasks()
  future_core* next_ = nullptr;
  // The outcome's exception. For a coroutine frame, what escaped its body, before the task completes.
  std::exception_ptr exc_;
  std::unique_ptr<future_extras> extras_;
  callback_list callbacks_;

  friend class coroscope::event_loop;
};

// A member function as a done callback whose context is refcounted: registering takes a reference,
// running or discarding gives it back, so the context outlives every callback that points to it.
template <class S, void (S::*M)(future_core*)>
void member_callback(void* ctx, future_core* fut, cb_op op) {
  S* s = static_cast<S*>(ctx);
  struct releaser {
    S* s;
    ~releaser() { s->release(); }
  } r{s};
  if (op == cb_op::invoke) (s->*M)(fut);
}
template <class S, void (S::*M)(future_core*)>
callback bind_callback(S* s) noexcept {
  s->add_ref();
  return {&member_callback<S, M>, s};
}
template <class S, void (S::*M)(future_core*)>
std::size_t unbind_callback(future_core& f, S* s) {
  return f.remove_done_callback(&member_callback<S, M>, s);
}

// Typed value storage mixed into a future or a task frame.
template <class T, class Base>
class value_holder : public Base {
public:
  using Base::Base;
  ~value_holder() override {
    if (has_value_) std::launder(reinterpret_cast<T*>(storage_))->~T();
  }
  void* value_ptr() noexcept override { return has_value_ ? storage_ : nullptr; }
  template <class... A>
  void emplace_value(A&&... a) {
    ::new (static_cast<void*>(storage_)) T(static_cast<A&&>(a)...);
    has_value_ = true;
  }
  T& value_ref() noexcept { return *std::launder(reinterpret_cast<T*>(storage_)); }

private:
  alignas(T) unsigned char storage_[sizeof(T)];
  bool has_value_ = false;
};

template <class Base>
class value_holder<void, Base> : public Base {
public:
  using Base::Base;
};

// A plain future (loop.create_future()).
template <class T>
class future_state final : public value_holder<T, future_core>, public pooled {
public:
  using value_holder<T, future_core>::value_holder;
  using pooled::operator new;
  using pooled::operator delete;
};

}  // namespace coroscope::detail
