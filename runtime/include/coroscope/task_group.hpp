#pragma once
// asyncio.TaskGroup (3.11): structured concurrency.
//
//   task_group tg;
//   co_await async_with(tg, [&](task_group& g) -> task<void> {
//     auto a = g.create_task(fetch(1));
//     g.create_task(fetch(2));
//     co_return;
//   });  // both children are done here
//
// The first child failure cancels the siblings and the body; the errors come out as one exception_group
// (base_exception_group when a member is not a std::exception); system_exit / keyboard_interrupt come
// out bare; an external cancellation of the parent propagates as plain cancelled_error (TG-001..TG-011).
#include <coroscope/async_with.hpp>
#include <coroscope/detail/rc_ptr.hpp>
#include <coroscope/task.hpp>

#include <string>
#include <unordered_set>
#include <vector>

namespace coroscope {

class task_group {
public:
  task_group();
  task_group(const task_group&) = delete;
  task_group& operator=(const task_group&) = delete;

  // Schedules coro as a task of the group. Throws std::runtime_error before the group is entered, after it
  // finished, or while it is shutting down after a failure (TG-009); the coroutine is then destroyed.
  template <class T>
  task_handle<T> create_task(task<T>&& coro, std::string name = {}) {
    state_->check_can_create();
    task_handle<T> t = state_->loop->create_task(std::move(coro), std::move(name));
    state_->adopt(t.core_ptr());
    return t;
  }

  // A queue or lock operation (anything that converts to a task<T>).
  template <detail::converts_to_task A>
  auto create_task(A&& op, std::string name = {}) {
    return create_task(detail::converted_task_t<A>(std::forward<A>(op)), std::move(name));
  }

  // create_task([&]() -> task<T> { ... }): the closure lives as long as the task.
  template <class F>
    requires detail::task_factory<std::decay_t<F>>
  auto create_task(F&& f, std::string name = {}) {
    return create_task(detail::own_and_call(std::decay_t<F>(std::forward<F>(f))), std::move(name));
  }

  detail::ready_awaitable<task_group&> aenter();
  task<void> aexit(std::exception_ptr error);

private:
  struct state final : detail::rc_base, detail::pooled {
    using pooled::operator new;
    using pooled::operator delete;
    bool entered = false;
    bool exiting = false;
    bool aborting = false;
    bool parent_cancel_requested = false;
    event_loop* loop = nullptr;
    task_ref parent;
    std::unordered_set<detail::future_core*> tasks;
    std::vector<std::exception_ptr> errors;
    std::exception_ptr base_error;
    future<void> on_completed;

    void check_can_create() const;
    void adopt(detail::future_core* t);
    void abort();
    void on_task_done(detail::future_core* t);
  };
  detail::rc_ptr<state> state_;
};

}  // namespace coroscope
