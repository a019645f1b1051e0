#include <coroscope/detail/rc_ptr.hpp>
#include <coroscope/run.hpp>

namespace coroscope::detail {

void check_no_running_loop() {
  if (running_loop()) throw std::runtime_error("coroscope: run() cannot be called from a running event loop");
}

namespace {
struct countdown final : rc_base {
  std::size_t left;
  future<void> all_done;
  countdown(std::size_t n, future<void> f) : left(n), all_done(std::move(f)) {}
  void one_done(future_core*) {
    if (--left == 0 && !all_done.done()) all_done.set_result();
  }
};
}  // namespace

void finish_run(event_loop& loop) {
  cancel_all_tasks(loop);
  loop.run_until_external_work_done();
  loop.shutdown_default_executor();
}

void cancel_all_tasks(event_loop& loop) {
  auto tasks = loop.all_tasks();
  if (tasks.empty() || loop.is_closed()) return;
  for (auto& t : tasks) t.cancel();
  // Drain them (asyncio gathers them with return_exceptions=True).
  future<void> all_done(loop);
  rc_ptr<countdown> c(new countdown(tasks.size(), all_done));
  for (auto& t : tasks) t.core_ptr()->add_done_callback(bind_callback<countdown, &countdown::one_done>(c.get()));
  future_ref r = all_done;
  loop.run_until_done(r);
  for (auto& t : tasks) {
    if (t.cancelled()) continue;
    if (auto e = t.exception()) {
      exception_context ctx;
      ctx.message = "unhandled exception during asyncio.run() shutdown";
      ctx.exception = e;
      ctx.task = t.get_name();
      loop.call_exception_handler(ctx);
    }
  }
}

}  // namespace coroscope::detail
