#include <coroscope/timeout.hpp>

#include <stdexcept>

namespace coroscope {

const char* timeout_scope::state_name(state s) noexcept {
  switch (s) {
    case state::created: return "created";
    case state::entered: return "active";
    case state::expiring: return "expiring";
    case state::expired: return "expired";
    case state::exited: return "finished";
  }
  return "?";
}

void timeout_scope::reschedule(std::optional<time_point> when) {
  if (state_ != state::entered) {
    if (state_ == state::created) throw std::runtime_error("Timeout has not been entered");
    throw std::runtime_error(std::string("Cannot change state of ") + state_name(state_) + " Timeout");
  }
  when_ = when;
  handler_.cancel();
  handler_ = handle();
  if (!when) return;
  event_loop& loop = get_running_loop();
  if (*when <= loop.now())
    handler_ = loop.call_soon([this] { on_timeout(); });  // a past deadline fires next iteration (TMO-004)
  else
    handler_ = loop.call_at(*when, [this] { on_timeout(); });
}

detail::ready_awaitable<timeout_scope&> timeout_scope::aenter() {
  if (state_ != state::created) throw std::runtime_error("Timeout has already been entered");
  task_ref t = current_task();
  if (!t) throw std::runtime_error("Timeout should be used inside a task");
  state_ = state::entered;
  task_ = t;
  cancelling_ = t.cancelling();
  reschedule(when_);
  return {*this};
}

std::suspend_never timeout_scope::aexit(std::exception_ptr error) {
  handler_.cancel();
  handler_ = handle();
  if (state_ == state::expiring) {
    state_ = state::expired;
    const int left = detail::mutant::is(detail::mutant::timeout_stays_cancelled) ? task_.cancelling() : task_.uncancel();
    if (left <= cancelling_ && detail::is_cancelled_error(error)) {
      // No new cancel request arrived: this cancellation is ours, and becomes a timeout.
      try {
        std::rethrow_exception(error);
      } catch (...) {
        std::throw_with_nested(timeout_error());
      }
    }
  } else if (state_ == state::entered) {
    state_ = state::exited;
  }
  return {};
}

void timeout_scope::on_timeout() {
  task_.cancel();
  state_ = state::expiring;
  handler_ = handle();
}

}  // namespace coroscope
