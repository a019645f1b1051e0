#include <coroscope/as_completed.hpp>

namespace coroscope::detail {

as_completed_state::~as_completed_state() {
  timeout.cancel();
  for (auto* c : all) c->release();
}

void as_completed_state::wakeup_next() {
  while (!getters.empty()) {
    future<void> g = std::move(getters.front());
    getters.pop_front();
    if (!g.done()) {
      g.set_result();
      break;
    }
  }
}

void as_completed_state::on_completion(future_core* f) {
  if (todo.empty()) return;  // the timeout came first
  todo.erase(f);
  done.push_back(f);
  wakeup_next();
  if (todo.empty()) timeout.cancel();
}

void as_completed_state::on_timeout() {
  for (auto* f : todo) {
    unbind_callback<as_completed_state, &as_completed_state::on_completion>(*f, this);
    done.push_back(nullptr);  // one timeout marker per item still to come
    wakeup_next();
  }
  todo.clear();
}

task<future_core*> as_completed_state::get() {
  while (done.empty()) {
    future<void> getter = create_future<void>();
    getters.push_back(getter);
    std::exception_ptr err;
    try {
      err = co_await quietly(getter);
    } catch (...) {
      err = std::current_exception();  // no running task: raised by the await itself
    }
    if (err) {
      getter.cancel();
      for (auto it = getters.begin(); it != getters.end(); ++it)
        if (*it == getter) {
          getters.erase(it);
          break;
        }
      if (!done.empty() && !getter.cancelled()) wakeup_next();  // pass a wake-up we cannot use on
      co_await raise(std::move(err));
    }
  }
  future_core* f = done.front();
  done.pop_front();
  co_return f;
}

void start_as_completed(as_completed_state& st, std::optional<duration> timeout) {
  for (auto* c : st.all)
    c->add_done_callback(bind_callback<as_completed_state, &as_completed_state::on_completion>(&st));
  // A plain pointer: the state cancels its timer when it goes (holding it would be a cycle).
  if (!st.todo.empty() && timeout)
    st.timeout = get_running_loop().call_later(*timeout, [s = &st] { s->on_timeout(); });
}

}  // namespace coroscope::detail
