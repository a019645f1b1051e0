// discarded-task reports only lazily started tasks, decided from the promise's initial_suspend(): eager and
// fire-and-forget coroutines (suspend_never, void) run when called, so dropping them is the design.
#include "coro.hpp"

// Starts running at the call; the caller may drop it (a one-way, fire-and-forget task).
struct Detached {
  struct promise_type {
    Detached get_return_object() { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() { std::terminate(); }
  };
};

// Eager with its own awaiter: await_ready() says it never suspends at the start.
struct EagerTask {
  struct Start {
    bool await_ready() const noexcept { return true; }
    void await_suspend(std::coroutine_handle<>) const noexcept {}
    void await_resume() const noexcept {}
  };
  struct promise_type {
    EagerTask get_return_object() { return {}; }
    Start initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() { std::terminate(); }
  };
};

// Lazy through a hand-written awaiter: suspends at the start like std::suspend_always.
struct LazyJob {
  struct Start {
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<>) const noexcept {}
    void await_resume() const noexcept {}
  };
  struct promise_type {
    LazyJob get_return_object() { return {}; }
    Start initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() { std::terminate(); }
  };
};

// Whether it suspends at the start depends on a run-time value: unclear, not reported.
struct Maybe {
  struct Start {
    bool lazy;
    bool await_ready() const noexcept { return !lazy; }
    void await_suspend(std::coroutine_handle<>) const noexcept {}
    void await_resume() const noexcept {}
  };
  struct promise_type {
    Maybe get_return_object() { return {}; }
    Start initial_suspend() noexcept { return {true}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() { std::terminate(); }
  };
};

// `void` coroutines: run at the call, nothing to keep.
template <typename... Args>
struct std::coroutine_traits<void, Args...> {
  struct promise_type {
    void get_return_object() {}
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() { std::terminate(); }
  };
};

void fire_and_forget() { co_await corpus::tick(); }
Detached log_later() { co_await corpus::tick(); }
EagerTask eager_job() { co_await corpus::tick(); }
LazyJob lazy_job() { co_await corpus::tick(); }
Maybe maybe_job() { co_await corpus::tick(); }
LazyJob lazy_declared();  // defined elsewhere: its nested promise_type says lazy
Detached detached_declared();

corpus::Task<> caller() {
  fire_and_forget();
  log_later();
  eager_job();
  maybe_job();
  detached_declared();
  lazy_job();  // expect: discarded-task
  lazy_declared();  // expect: discarded-task
  co_await corpus::tick();
}

void plain() {
  log_later();
  lazy_job();  // expect: discarded-task
}
