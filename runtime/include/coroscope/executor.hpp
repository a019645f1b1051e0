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
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace coroscope {

// A move-only job for an executor.
class executor_job {
public:
  executor_job() = default;
  template <class F>
    requires(!std::is_same_v<std::decay_t<F>, executor_job>)
  executor_job(F&& f) : impl_(std::make_unique<model<std::decay_t<F>>>(std::forward<F>(f))) {}
  void operator()() { impl_->run(); }
  explicit operator bool() const noexcept { return static_cast<bool>(impl_); }

private:
  struct concept_t {
    virtual ~concept_t() = default;
    virtual void run() = 0;
  };
  template <class F>
  struct model final : concept_t {
    explicit model(F fn) : f(std::move(fn)) {}
    void run() override { f(); }
    F f;
  };
  std::unique_ptr<concept_t> impl_;
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
  std::deque<executor_job> jobs_;
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
