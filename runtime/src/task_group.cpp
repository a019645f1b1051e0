#include <coroscope/task_group.hpp>

#include <stdexcept>

namespace coroscope {

task_group::task_group() : state_(new state()) {}

void task_group::state::check_can_create() const {
  if (!entered) throw std::runtime_error("TaskGroup has not been entered");
  if (exiting && tasks.empty()) throw std::runtime_error("TaskGroup is finished");
  if (aborting) throw std::runtime_error("TaskGroup is shutting down");
}

void task_group::state::adopt(detail::future_core* t) {
  t->add_done_callback(detail::bind_callback<state, &state::on_task_done>(this));
  tasks.insert(t);
}

void task_group::state::abort() {
  aborting = true;
  for (auto* t : tasks)
    if (!t->done()) t->cancel(nullptr);
}

void task_group::state::on_task_done(detail::future_core* t) {
  tasks.erase(t);
  if (on_completed && tasks.empty() && !on_completed.done()) on_completed.set_result();
  if (t->cancelled()) return;  // a cancelled child is not a failure (TG-010)
  std::exception_ptr e = t->exception();
  if (!e) return;
  errors.push_back(e);
  if (detail::is_fatal_error(e) && !base_error) base_error = e;
  if (parent.done()) {
    exception_context ctx;
    ctx.message = "Task has errored out but its parent task is already completed";
    ctx.exception = e;
    loop->call_exception_handler(ctx);
    return;
  }
  if (!aborting && !parent_cancel_requested) {
    // Cancel the body too, so that whatever it awaits is interrupted; aexit takes the request back.
    abort();
    parent_cancel_requested = true;
    parent.cancel();
  }
}

detail::ready_awaitable<task_group&> task_group::aenter() {
  auto& s = *state_;
  if (s.entered) throw std::runtime_error("TaskGroup has already been entered");
  s.loop = &get_running_loop();
  s.parent = current_task();
  if (!s.parent) throw std::runtime_error("TaskGroup cannot determine the parent task");
  s.entered = true;
  return {*this};
}

task<void> task_group::aexit(std::exception_ptr error) {
  detail::rc_ptr<state> keep = state_;
  auto& s = *keep;
  // The group must not keep its parent task alive past the exit (the parent's frame holds the group).
  struct forget_parent {
    state& s;
    ~forget_parent() { s.parent = task_ref(); }
  } forget{s};
  s.exiting = true;
  const bool body_cancelled = detail::is_cancelled_error(error);
  if (error && detail::is_fatal_error(error) && !s.base_error) s.base_error = error;
  std::exception_ptr propagate_cancel = body_cancelled ? error : nullptr;
  // Python 3.11 takes its own cancel request back here, before waiting (see TG-012 for what that means).
  if (s.parent_cancel_requested && s.parent.uncancel() == 0) propagate_cancel = nullptr;
  if (error && !s.aborting) s.abort();

  while (!s.tasks.empty()) {
    if (!s.on_completed) s.on_completed = create_future<void>();
    std::exception_ptr cancel_while_waiting = co_await detail::quietly(s.on_completed);
    if (cancel_while_waiting && !s.aborting) {
      propagate_cancel = cancel_while_waiting;
      s.abort();
    }
    s.on_completed = future<void>();
  }

  if (s.base_error) co_await detail::raise(s.base_error);  // bare, never grouped (TG-008)
  if (propagate_cancel && s.errors.empty()) co_await detail::raise(propagate_cancel);
  if (error && !body_cancelled) s.errors.push_back(error);
  if (!s.errors.empty()) {
    auto errors = std::move(s.errors);
    s.errors.clear();
    co_await detail::raise(make_exception_group("unhandled errors in a TaskGroup", std::move(errors)));
  }
}

}  // namespace coroscope
