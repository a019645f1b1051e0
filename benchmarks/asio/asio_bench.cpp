// Asio's row of the catalogue, written the way Asio's documentation writes coroutines: co_spawn,
// use_awaitable, steady_timer, experimental channels and awaitable operators. One io_context, one thread.
#include "catalogue.hpp"
#include "echo_socket.hpp"

#include <asio.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/experimental/channel.hpp>

#include <chrono>
#include <exception>
#include <string>

namespace {

using asio::awaitable;
using asio::use_awaitable;
using benchmark::State;
using namespace std::chrono_literals;
using int_channel = asio::experimental::channel<void(asio::error_code, int)>;

// Runs one benchmark body as the main coroutine of a fresh io_context.
template <class Body, class... Args>
auto on_context(Body body, Args... args) {
  return [body, args...](State& state) {
    try {
      asio::io_context ctx(1);
      std::exception_ptr failure;
      asio::co_spawn(ctx, body(state, args...), [&](std::exception_ptr e) { failure = e; });
      ctx.run();
      if (failure) std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      state.SkipWithError(e.what());
    }
  };
}

// Counts completions down and wakes one waiter at zero: a steady_timer that never expires, cancelled as
// the signal (the usual Asio idiom for an event).
class latch {
public:
  latch(const asio::any_io_executor& ex, int count) : timer_(ex, asio::steady_timer::time_point::max()), remaining_(count) {}
  void count_down() {
    if (--remaining_ == 0) timer_.cancel();
  }
  awaitable<void> wait() {
    if (remaining_ == 0) co_return;
    asio::error_code ec;
    co_await timer_.async_wait(asio::redirect_error(use_awaitable, ec));
  }

private:
  asio::steady_timer timer_;
  int remaining_;
};

awaitable<int> leaf(int v) { co_return v + 1; }

awaitable<void> spawn_body(State& state) {
  auto ex = co_await asio::this_coro::executor;
  int v = 0;
  for (auto _ : state) v = co_await asio::co_spawn(ex, leaf(v), use_awaitable);
  benchmark::DoNotOptimize(v);
}

awaitable<void> resume_body(State& state) {
  auto ex = co_await asio::this_coro::executor;
  for (auto _ : state) co_await asio::post(ex, use_awaitable);
}

awaitable<void> pong(int_channel& in, int_channel& out) {
  for (;;) {
    const int v = co_await in.async_receive(use_awaitable);
    if (v < 0) co_return;
    co_await out.async_send(asio::error_code{}, v + 1, use_awaitable);
  }
}

awaitable<void> pingpong_body(State& state) {
  auto ex = co_await asio::this_coro::executor;
  int_channel a2b(ex, 1), b2a(ex, 1);
  latch finished(ex, 1);
  asio::co_spawn(ex, pong(a2b, b2a), [&](std::exception_ptr) { finished.count_down(); });
  int v = 0;
  for (auto _ : state) {
    co_await a2b.async_send(asio::error_code{}, v, use_awaitable);
    v = co_await b2a.async_receive(use_awaitable);
  }
  co_await a2b.async_send(asio::error_code{}, -1, use_awaitable);
  co_await finished.wait();
}

awaitable<int> chain(int depth) {
  if (depth == 0) co_return 1;
  co_return 1 + co_await chain(depth - 1);
}

awaitable<void> chain_body(State& state) {
  int v = 0;
  for (auto _ : state) v += co_await chain(bench::chain_depth);
  benchmark::DoNotOptimize(v);
}

// Asio 1.22 has no ranged when_all: spawn every child with a completion handler, wait on a latch.
awaitable<void> gather_body(State& state, int n) {
  auto ex = co_await asio::this_coro::executor;
  for (auto _ : state) {
    std::vector<int> results(static_cast<std::size_t>(n));
    latch all(ex, n);
    for (int i = 0; i < n; ++i)
      asio::co_spawn(ex, leaf(i), [&, i](std::exception_ptr, int r) {
        results[static_cast<std::size_t>(i)] = r;
        all.count_down();
      });
    co_await all.wait();
    benchmark::DoNotOptimize(results.data());
  }
  state.SetItemsProcessed(state.iterations() * n);
}

awaitable<void> sleeper(asio::steady_timer::time_point deadline) {
  asio::steady_timer t(co_await asio::this_coro::executor, deadline);
  co_await t.async_wait(use_awaitable);
}

awaitable<void> timers_body(State& state, int n) {
  auto ex = co_await asio::this_coro::executor;
  const auto delays = bench::random_delays_ns(n);
  for (auto _ : state) {
    const auto start = asio::steady_timer::clock_type::now();
    latch all(ex, n);
    for (auto d : delays)
      asio::co_spawn(ex, sleeper(start + std::chrono::nanoseconds(d)), [&](std::exception_ptr) { all.count_down(); });
    co_await all.wait();
  }
  state.SetItemsProcessed(state.iterations() * n);
}

awaitable<void> parked() {
  asio::steady_timer t(co_await asio::this_coro::executor, 1h);
  co_await t.async_wait(use_awaitable);
}

// Per-operation cancellation: each spawned coroutine bound to its own cancellation_signal.
awaitable<void> cancel_body(State& state, int n) {
  auto ex = co_await asio::this_coro::executor;
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<asio::cancellation_signal> signals(static_cast<std::size_t>(n));
    latch all(ex, n);
    int cancelled = 0;
    for (auto& sig : signals)
      asio::co_spawn(ex, parked(), asio::bind_cancellation_slot(sig.slot(), [&](std::exception_ptr e) {
                       cancelled += e != nullptr;
                       all.count_down();
                     }));
    co_await asio::post(ex, use_awaitable);  // every coroutine has started and waits on its timer
    state.ResumeTiming();
    for (auto& sig : signals) sig.emit(asio::cancellation_type::terminal);
    co_await all.wait();
    if (cancelled != n) state.SkipWithError("a coroutine was not cancelled");
  }
  state.SetItemsProcessed(state.iterations() * n);
}

// The documented timeout idiom: race the operation against a timer with ||.
awaitable<void> wait_for_body(State& state) {
  using namespace asio::experimental::awaitable_operators;
  auto ex = co_await asio::this_coro::executor;
  int v = 0;
  for (auto _ : state) {
    asio::steady_timer timeout(ex, 1s);
    auto r = co_await (leaf(v) || timeout.async_wait(use_awaitable));
    v = std::get<0>(r);
  }
  benchmark::DoNotOptimize(v);
}

awaitable<void> consumer(int_channel& q, long& sum) {
  for (;;) {
    const int v = co_await q.async_receive(use_awaitable);
    if (v < 0) co_return;
    sum += v;
  }
}

awaitable<void> queue_body(State& state) {
  auto ex = co_await asio::this_coro::executor;
  int_channel q(ex, bench::queue_capacity);
  long sum = 0;
  latch finished(ex, 1);
  asio::co_spawn(ex, consumer(q, sum), [&](std::exception_ptr) { finished.count_down(); });
  int i = 0;
  for (auto _ : state) co_await q.async_send(asio::error_code{}, i++ & 0xffff, use_awaitable);
  co_await q.async_send(asio::error_code{}, -1, use_awaitable);
  co_await finished.wait();
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations());
}

awaitable<void> executor_body(State& state, asio::thread_pool* pool) {
  int v = 0;
  for (auto _ : state) v = co_await asio::co_spawn(pool->get_executor(), leaf(v), use_awaitable);
  benchmark::DoNotOptimize(v);
}

void executor_roundtrip(State& state) {
  asio::thread_pool pool(1);
  on_context(executor_body, &pool)(state);
}

awaitable<void> echo_session(asio::ip::tcp::socket s) {
  char buf[64 * 1024];
  try {
    for (;;) {
      const std::size_t n = co_await s.async_read_some(asio::buffer(buf), use_awaitable);
      co_await asio::async_write(s, asio::buffer(buf, n), use_awaitable);
    }
  } catch (const std::system_error&) {
    // the client closed: the session ends
  }
}

awaitable<void> echo_body(State& state, std::size_t size, int conns) {
  auto ex = co_await asio::this_coro::executor;
  bench::socket_pair_list fds;
  bench::open_loopback_pairs(conns, fds);
  std::vector<asio::ip::tcp::socket> clients;
  latch sessions(ex, conns);
  for (int i = 0; i < conns; ++i) {
    const auto k = static_cast<std::size_t>(i);
    clients.emplace_back(ex, asio::ip::tcp::v4(), fds.clients[k]);
    asio::co_spawn(ex, echo_session(asio::ip::tcp::socket(ex, asio::ip::tcp::v4(), fds.servers[k])),
                   [&](std::exception_ptr) { sessions.count_down(); });
  }
  fds.clients.clear();  // the sockets own them now
  fds.servers.clear();
  const std::string message(size, 'x');
  std::string reply(size, '\0');
  for (auto _ : state) {
    for (auto& c : clients) co_await asio::async_write(c, asio::buffer(message), use_awaitable);
    for (auto& c : clients) co_await asio::async_read(c, asio::buffer(reply), use_awaitable);
  }
  for (auto& c : clients) c.close();
  co_await sessions.wait();
  state.SetItemsProcessed(state.iterations() * conns);
  state.SetBytesProcessed(state.iterations() * conns * static_cast<std::int64_t>(size) * 2);
}

awaitable<void> parked_on(asio::steady_timer& gate) {
  asio::error_code ec;
  co_await gate.async_wait(asio::redirect_error(use_awaitable, ec));
}

// Parked on a never-expiring timer (Asio's event); bytes per task from the heap's growth, on a fresh thread
// so the recycling allocator's thread-local cache from earlier runs cannot hide the cost.
awaitable<void> memory_once(double& per_task) {
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer gate(ex, asio::steady_timer::time_point::max());
  latch all(ex, bench::parked_tasks);
  const std::size_t before = bench::heap_in_use();
  for (int i = 0; i < bench::parked_tasks; ++i)
    asio::co_spawn(ex, parked_on(gate), [&](std::exception_ptr) { all.count_down(); });
  co_await asio::post(ex, use_awaitable);
  per_task = static_cast<double>(bench::heap_in_use() - before) / bench::parked_tasks;
  gate.cancel();
  co_await all.wait();
}

void memory(State& state) {
  bench::bytes_per_task(state, [] {
    double r = 0;
    asio::io_context ctx(1);
    asio::co_spawn(ctx, memory_once(r), asio::detached);
    ctx.run();
    return r;
  });
}

std::string asio_version() {
  return std::to_string(ASIO_VERSION / 100000) + "." + std::to_string(ASIO_VERSION / 100 % 1000) + "." +
         std::to_string(ASIO_VERSION % 100);
}

}  // namespace

int main(int argc, char** argv) {
  bench::record_context("asio", asio_version());
  bench::suite s;
  s.spawn = on_context(spawn_body);
  s.resume = on_context(resume_body);
  s.pingpong = on_context(pingpong_body);
  s.chain = on_context(chain_body);
  s.gather = [](State& st, int n) { on_context(gather_body, n)(st); };
  s.timers = [](State& st, int n) { on_context(timers_body, n)(st); };
  s.cancel = [](State& st, int n) { on_context(cancel_body, n)(st); };
  s.wait_for = on_context(wait_for_body);
  s.queue = on_context(queue_body);
  s.executor = executor_roundtrip;
  s.echo = [](State& st, std::size_t size, int conns) { on_context(echo_body, size, conns)(st); };
  s.memory = memory;
  bench::register_catalogue(s);
  return bench::run_main(argc, argv);
}
