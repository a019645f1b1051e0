#pragma once
// asyncio's executor hand-off: loop.run_in_executor(executor, fn, *args) and asyncio.to_thread(fn, *args).
//
//   int v = co_await coroscope::to_thread(blocking_read, path);     // default thread pool
//   auto f = coroscope::run_in_executor(pool, [] { return crunch(); });
//
// The function runs on a worker thread; its result or exception comes back to the loop through
// call_soon_threadsafe and completes a future there. Cancelling that future does not stop the thread
// (THR-005), and a result that arrives after the awaiting task was cancelled is dropped, not lost into
// freed memory: the completion is created on the loop's thread and only carried by the worker.
#include <coroscope/event_loop.hpp>
#include <coroscope/future.hpp>

#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace coroscope {

// A move-only job for an executor. Small callables (run_in_executor's, a few pointers) live inside the
// job, so handing one to a thread allocates nothing; larger ones go to the heap.
class executor_job {
public:
  executor_job() = default;
  template <class F>
    requires(!std::is_same_v<std::decay_t<F>, executor_job>)
  executor_job(F&& f) {
    using D = std::decay_t<F>;
    if constexpr (fits<D>) {
      ::new (static_cast<void*>(buf_)) D(std::forward<F>(f));
      ops_ = &inline_ops<D>;
    } else {
      ::new (static_cast<void*>(buf_)) D*(new D(std::forward<F>(f)));
      ops_ = &heap_ops<D>;
    }
  }
  executor_job(executor_job&& o) noexcept : ops_(std::exchange(o.ops_, nullptr)) {
    if (ops_) ops_->relocate(o.buf_, buf_);
  }
  executor_job& operator=(executor_job&& o) noexcept {
    if (this != &o) {
      reset();
      ops_ = std::exchange(o.ops_, nullptr);
      if (ops_) ops_->relocate(o.buf_, buf_);
    }
    return *this;
  }
  executor_job(const executor_job&) = delete;
  executor_job& operator=(const executor_job&) = delete;
  ~executor_job() { reset(); }
  void operator()() { ops_->run(buf_); }
  explicit operator bool() const noexcept { return ops_ != nullptr; }

private:
  static constexpr std::size_t capacity = 6 * sizeof(void*);
  template <class D>
  static constexpr bool fits = sizeof(D) <= capacity && alignof(D) <= alignof(std::max_align_t) &&
                               std::is_nothrow_move_constructible_v<D>;
  struct ops {
    void (*run)(void* self);
    void (*relocate)(void* from, void* to) noexcept;  // move-constructs into to and destroys from
    void (*destroy)(void* self) noexcept;
  };
  template <class D>
  static constexpr ops inline_ops{
      [](void* self) { (*static_cast<D*>(self))(); },
      [](void* from, void* to) noexcept {
        ::new (to) D(std::move(*static_cast<D*>(from)));
        static_cast<D*>(from)->~D();
      },
      [](void* self) noexcept { static_cast<D*>(self)->~D(); }};
  template <class D>
  static constexpr ops heap_ops{
      [](void* self) { (**static_cast<D**>(self))(); },
      [](void* from, void* to) noexcept { *static_cast<D**>(to) = *static_cast<D**>(from); },
      [](void* self) noexcept { delete *static_cast<D**>(self); }};
  void reset() noexcept {
    if (ops_) std::exchange(ops_, nullptr)->destroy(buf_);
  }

  const ops* ops_ = nullptr;
  alignas(std::max_align_t) unsigned char buf_[capacity];
};

// concurrent.futures.Executor, reduced to what run_in_executor needs. Thread-safe.
class executor {
public:
  virtual ~executor() = default;
  // Runs job on some thread; throws std::runtime_error after shutdown.
  virtual void submit(executor_job job) = 0;
  // Stops accepting work; with wait, finishes what was submitted and joins the threads.
  virtual void shutdown(bool wait) = 0;
};

// ThreadPoolExecutor: a fixed set of workers and a FIFO of jobs.
class thread_pool_executor final : public executor {
public:
  // Python's default size: min(32, cores + 4).
  static std::size_t default_workers();
  explicit thread_pool_executor(std::size_t workers = default_workers());
  ~thread_pool_executor() override;
  void submit(executor_job job) override;
  void shutdown(bool wait) override;
  std::size_t workers() const noexcept { return size_; }

private:
  void work();
  std::mutex m_;
  std::condition_variable cv_;
  // FIFO of jobs: a ring that keeps its slots, where a deque would allocate a block every few jobs.
  std::vector<executor_job> ring_;
  std::size_t head_ = 0;
  std::size_t queued_ = 0;
  std::size_t idle_ = 0;  // workers waiting on cv_: a submit notifies only when one does
  std::vector<std::thread> threads_;
  std::size_t size_;
  bool stopping_ = false;
};

namespace detail {

// Created on the loop's thread; the worker fills result/error, then posts it back. Everything that has a
// non-atomic reference count (the future) is touched on the loop's thread only.
template <class T>
class executor_completion final : public handle_node, public pooled {
public:
  using pooled::operator new;
  using pooled::operator delete;
  executor_completion(event_loop& loop, future<T> f) : loop_(&loop), fut_(std::move(f)) {}
  void run() override {
    loop_->external_work_finished();
    if (fut_.done()) return;  // cancelled meanwhile: the late result is dropped (THR-005)
    if (error_)
      fut_.set_exception(error_);
    else if constexpr (std::is_void_v<T>)
      fut_.set_result();
    else
      fut_.set_result(std::move(*value_));
  }
  template <class F>
  void compute(F& f) noexcept {
    try {
      if constexpr (std::is_void_v<T>)
        f();
      else
        value_.emplace(f());
    } catch (...) {
      error_ = std::current_exception();
    }
  }

private:
  event_loop* loop_;
  future<T> fut_;
  std::conditional_t<std::is_void_v<T>, bool, std::optional<T>> value_{};
  std::exception_ptr error_;
};

}  // namespace detail

// loop.run_in_executor(executor, fn, args...): ex == nullptr means the loop's default executor.
template <class F, class... A>
auto run_in_executor(std::shared_ptr<executor> ex, F&& f, A&&... args) {
  using R = std::invoke_result_t<std::decay_t<F>&, std::decay_t<A>&...>;
  event_loop& loop = get_running_loop();
  if (!ex) ex = loop.default_executor();
  future<R> fut(loop);
  auto* done = new detail::executor_completion<R>(loop, fut);
  auto call = std::bind_front(std::forward<F>(f), std::forward<A>(args)...);
  auto anchor = loop.anchor();
  loop.external_work_started();
  try {
    ex->submit([done, anchor, call = std::move(call)]() mutable {
      done->compute(call);
      try {
        anchor->post(done);
      } catch (...) {
        // The loop is closed: nobody will read the result. The completion holds a future of that loop,
        // which must not be released on this thread; leaking one node is the lesser evil.
      }
    });
  } catch (...) {
    loop.external_work_finished();
    done->release();
    throw;
  }
  return fut;
}

// asyncio.to_thread(fn, args...): fn(args...) on the default executor.
template <class F, class... A>
auto to_thread(F&& f, A&&... args) {
  return run_in_executor(nullptr, std::forward<F>(f), std::forward<A>(args)...);
}

}  // namespace coroscope
