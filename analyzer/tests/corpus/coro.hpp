// Tiny coroutine types for the corpus: the linter must recognise coroutines by their bodies, whatever the
// library, so these stand in for a task type, a generator, an Asio-like awaitable and an offload hop.
#pragma once

#include <coroutine>
#include <exception>

namespace corpus {

template <typename T = void>
struct Task {
  struct promise_type {
    Task get_return_object() { return {}; }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() { std::terminate(); }
  };
  // Awaiting a task: the corpus only needs it to type-check.
  bool await_ready() const noexcept { return true; }
  void await_suspend(std::coroutine_handle<>) const noexcept {}
  void await_resume() const noexcept {}
};

template <typename T>
struct Generator {
  struct promise_type {
    Generator get_return_object() { return {}; }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    std::suspend_always yield_value(T) { return {}; }
    void return_void() {}
    void unhandled_exception() { std::terminate(); }
  };
};

// Something to co_await.
struct Tick {
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<>) const noexcept {}
  void await_resume() const noexcept {}
};
inline Tick tick() { return {}; }

// A hop to a worker thread, after which blocking is intended (listed as an offload awaitable in configs).
struct ToThread : Tick {};
inline ToThread to_thread() { return {}; }

}  // namespace corpus

// An Asio-like awaitable: no nested promise_type, the coroutine_traits specialisation provides it. Lazy, as
// Asio's awaitable_frame is.
namespace asio {
template <typename T>
class awaitable {};
struct awaitable_promise {
  awaitable<void> get_return_object() { return {}; }
  std::suspend_always initial_suspend() noexcept { return {}; }
  std::suspend_never final_suspend() noexcept { return {}; }
  void return_void() {}
  void unhandled_exception() { std::terminate(); }
};
}  // namespace asio

template <typename... Args>
struct std::coroutine_traits<asio::awaitable<void>, Args...> {
  using promise_type = asio::awaitable_promise;
};
