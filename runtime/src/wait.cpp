#include <coroscope/detail/rc_ptr.hpp>
#include <coroscope/wait.hpp>

namespace coroscope::detail {

task<std::exception_ptr> wait_impl(std::vector<future_core*> fs, return_when rw, std::optional<duration> timeout) {
  event_loop& loop = get_running_loop();
  future<void> waiter(loop);
  rc_ptr<wait_state> st(new wait_state(fs.size(), rw, waiter));
  // The timer holds a plain pointer: holding st would make a cycle (st keeps the timer's handle), and the
  // cleanup below cancels the timer before st can go.
  if (timeout) st->timeout_ = loop.call_later(*timeout, [s = st.get()] { s->on_timeout(); });
  for (auto* f : fs) f->add_done_callback(bind_callback<wait_state, &wait_state::on_completion>(st.get()));
  // Runs on every way out of the frame, destruction while suspended included (Python's `finally`).
  struct cleanup {
    wait_state* st;
    const std::vector<future_core*>& fs;
    ~cleanup() {
      st->timeout_.cancel();
      for (auto* f : fs) unbind_callback<wait_state, &wait_state::on_completion>(*f, st);
    }
  } guard{st.get(), fs};
  co_return co_await quietly(waiter);
}

}  // namespace coroscope::detail
