#include <coroscope/detail/combinators.hpp>
#include <coroscope/wait.hpp>
#include <coroscope/wait_for.hpp>

namespace coroscope::detail {

void release_waiter_callback(void* ctx, future_core*, cb_op op) {
  auto* waiter = static_cast<future_core*>(ctx);
  struct releaser {
    future_core* w;
    ~releaser() { w->release(); }
  } r{waiter};
  if (op == cb_op::invoke && !waiter->done()) waiter->finish_with_value();
}

namespace {
// Runs `cleanup` when the coroutine frame leaves the scope, on every path (Python's `finally`).
template <class F>
struct finally {
  F f;
  ~finally() { f(); }
};
template <class F>
finally(F) -> finally<F>;
}  // namespace

task<std::exception_ptr> wait_impl(std::vector<future_core*> fs, return_when rw, std::optional<duration> timeout) {
  event_loop& loop = get_running_loop();
  future<void> waiter(loop);
  rc_ptr<wait_state> st(new wait_state(fs.size(), rw, waiter));
  // The timer holds a plain pointer: holding st would make a cycle (st keeps the timer's handle), and the
  // cleanup below cancels the timer before st can go.
  if (timeout) st->timeout_ = loop.call_later(*timeout, [s = st.get()] { s->on_timeout(); });
  for (auto* f : fs) f->add_done_callback(bind_callback<wait_state, &wait_state::on_completion>(st.get()));
  finally cleanup{[&] {
    st->timeout_.cancel();
    for (auto* f : fs) unbind_callback<wait_state, &wait_state::on_completion>(*f, st.get());
  }};
  co_return co_await quietly(waiter);
}

// timeout_error with the CancelledError nested (its __cause__), as std::throw_with_nested would make it.
// The nesting captures the exception being handled, so the cancellation is rethrown once to be caught
// here; that unwind is the timeout's, never a cancellation's.
struct nested_timeout_error : timeout_error, std::nested_exception {};
std::exception_ptr timeout_caused_by(const std::exception_ptr& cancellation) {
  try {
    std::rethrow_exception(cancellation);
  } catch (...) {
    return std::make_exception_ptr(nested_timeout_error());
  }
}

task<std::exception_ptr> cancel_and_wait(future_ref f) {
  future<void> waiter(f.get_loop());
  auto* fc = f.core_ptr();
  fc->add_done_callback(release_waiter(waiter.core_ptr()));
  finally cleanup{[&] { fc->remove_done_callback(&release_waiter_callback, waiter.core_ptr()); }};
  f.cancel();
  co_return co_await quietly(waiter);
}

task<std::exception_ptr> wait_for_core(future_ref f, duration timeout) {
  event_loop& loop = get_running_loop();
  auto* fc = f.core_ptr();
  if (timeout.count() <= 0) {
    // A coroutine is cancelled before its first step (WF-003).
    if (fc->done()) co_return nullptr;
    if (auto own = co_await cancel_and_wait(f)) co_return own;
    co_return fc->cancelled() ? timeout_caused_by(fc->make_cancelled_error()) : nullptr;
  }

  future<void> waiter(loop);
  timer_handle th = loop.call_later(timeout, [w = waiter]() mutable {
    if (!w.done()) w.set_result();
  });
  finally cancel_timer{[&] { th.cancel(); }};
  fc->add_done_callback(release_waiter(waiter.core_ptr()));

  std::exception_ptr own = co_await quietly(waiter);
  if (fc->done()) co_return nullptr;  // finished, or a late cancellation lost in the race (3.11, WF-008)
  fc->remove_done_callback(&release_waiter_callback, waiter.core_ptr());
  if (mutant::is(mutant::wait_for_keeps_inner) && !own) co_return std::make_exception_ptr(timeout_error());
  // The inner must not run after wait_for returns: cancel it and wait for the cancellation to finish.
  std::exception_ptr again = co_await cancel_and_wait(f);
  if (own) co_return own;
  if (again) co_return again;
  co_return fc->cancelled() ? timeout_caused_by(fc->make_cancelled_error()) : nullptr;
}

}  // namespace coroscope::detail

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
