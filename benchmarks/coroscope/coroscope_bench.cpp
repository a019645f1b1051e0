// coroscope's row of the catalogue, written as a user would write it: create_task, sleep, gather,
// wait_for, future<T>, streams (start_server / open_connection), queue, run_in_executor.
#include "catalogue.hpp"

#include <coroscope/coroscope.hpp>
#include <coroscope/executor.hpp>

#include <chrono>
#include <exception>
#include <string>
#include <vector>

namespace {

using benchmark::State;
using coroscope::task;
using namespace std::chrono_literals;

// Runs one benchmark body as the main task of coroscope::run.
template <class Body, class... Args>
auto on_loop(Body body, Args... args) {
  return [body, args...](State& state) {
    try {
      coroscope::run(body(state, args...));
    } catch (const std::exception& e) {
      state.SkipWithError(e.what());
    }
  };
}

task<int> leaf(int v) { co_return v + 1; }

task<void> spawn_body(State& state) {
  int v = 0;
  for (auto _ : state) v = co_await coroscope::create_task(leaf(v));
  benchmark::DoNotOptimize(v);
}

task<void> resume_body(State& state) {
  for (auto _ : state) co_await coroscope::sleep(0ms);
}

// A one-value mailbox: the value is handed over through future<int>::set_result.
struct mailbox {
  coroscope::future<int> f = coroscope::create_future<int>();
  void put(int v) { f.set_result(v); }
};

task<void> pong(mailbox& in, mailbox& out) {
  for (;;) {
    const int v = co_await in.f;
    in.f = coroscope::create_future<int>();
    if (v < 0) co_return;
    out.put(v + 1);
  }
}

task<void> pingpong_body(State& state) {
  mailbox a2b, b2a;
  auto other = coroscope::create_task(pong(a2b, b2a));
  co_await coroscope::sleep(0ms);
  int v = 0;
  for (auto _ : state) {
    a2b.put(v);
    v = co_await b2a.f;
    b2a.f = coroscope::create_future<int>();
  }
  a2b.put(-1);
  co_await other;
}

task<int> chain(int depth) {
  if (depth == 0) co_return 1;
  co_return 1 + co_await chain(depth - 1);
}

task<void> chain_body(State& state) {
  int v = 0;
  for (auto _ : state) v += co_await chain(bench::chain_depth);
  benchmark::DoNotOptimize(v);
}

task<void> gather_body(State& state, int n) {
  for (auto _ : state) {
    std::vector<task<int>> children;
    children.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) children.push_back(leaf(i));
    std::vector<int> results = co_await coroscope::gather(std::move(children));
    benchmark::DoNotOptimize(results.data());
  }
  state.SetItemsProcessed(state.iterations() * n);
}

task<void> sleeper(std::chrono::nanoseconds d) { co_await coroscope::sleep(d); }

task<void> timers_body(State& state, int n) {
  const auto delays = bench::random_delays_ns(n);
  for (auto _ : state) {
    std::vector<task<void>> sleepers;
    sleepers.reserve(delays.size());
    for (auto d : delays) sleepers.push_back(sleeper(std::chrono::nanoseconds(d)));
    co_await coroscope::gather(std::move(sleepers));
  }
  state.SetItemsProcessed(state.iterations() * n);
}

task<void> parked() { co_await coroscope::sleep(1h); }

task<void> cancel_body(State& state, int n) {
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<coroscope::task_handle<void>> tasks;
    tasks.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) tasks.push_back(coroscope::create_task(parked()));
    co_await coroscope::sleep(0ms);  // every task is now parked in its sleep
    state.ResumeTiming();
    for (auto& t : tasks) t.cancel();
    int cancelled = 0;
    for (auto& t : tasks) {
      try {
        co_await t;
      } catch (const coroscope::cancelled_error&) {
        ++cancelled;
      }
    }
    if (cancelled != n) state.SkipWithError("a task was not cancelled");
  }
  state.SetItemsProcessed(state.iterations() * n);
}

task<void> wait_for_body(State& state) {
  int v = 0;
  for (auto _ : state) v = co_await coroscope::wait_for(leaf(v), 1s);
  benchmark::DoNotOptimize(v);
}

// The echo server's side of one connection, as the asyncio docs write it.
task<void> echo_session(coroscope::stream_reader reader, coroscope::stream_writer writer) {
  for (;;) {
    std::string data = co_await reader.read(64 * 1024);
    if (data.empty()) break;
    writer.write(data);
    co_await writer.drain();
  }
}

// start_server and open_connection over loopback; each iteration every client writes its message and then
// every client reads it back whole (readexactly), like the other runtimes' rows.
task<void> echo_body(State& state, std::size_t size, int conns) {
  coroscope::server server = co_await coroscope::start_server(echo_session, "127.0.0.1", 0);
  const std::uint16_t port = server.ports().at(0);
  std::vector<coroscope::stream_reader> readers;
  std::vector<coroscope::stream_writer> writers;
  for (int i = 0; i < conns; ++i) {
    auto [reader, writer] = co_await coroscope::open_connection("127.0.0.1", port);
    readers.push_back(std::move(reader));
    writers.push_back(std::move(writer));
  }
  const std::string message(size, 'x');
  for (auto _ : state) {
    for (auto& w : writers) {
      w.write(message);
      co_await w.drain();
    }
    for (auto& r : readers) {
      const std::string reply = co_await r.readexactly(size);
      benchmark::DoNotOptimize(reply.data());
    }
  }
  for (auto& w : writers) w.close();
  writers.clear();
  readers.clear();
  server.close();
  co_await server.wait_closed();
  state.SetItemsProcessed(state.iterations() * conns);
  state.SetBytesProcessed(state.iterations() * conns * static_cast<std::int64_t>(size) * 2);
}

task<void> parked_on(coroscope::future<void> gate) { co_await gate; }

// Tasks parked on one future (asyncio's Event.wait in spirit); bytes from the heap's growth on a fresh
// thread, so the frame pool's cache from earlier runs cannot hide the cost.
task<void> memory_once(double& per_task) {
  auto gate = coroscope::create_future<void>();
  std::vector<coroscope::task_handle<void>> tasks;
  tasks.reserve(bench::parked_tasks);
  const std::size_t before = bench::heap_in_use();
  for (int i = 0; i < bench::parked_tasks; ++i) tasks.push_back(coroscope::create_task(parked_on(gate)));
  co_await coroscope::sleep(0ms);
  per_task = static_cast<double>(bench::heap_in_use() - before) / bench::parked_tasks;
  gate.set_result();
  for (auto& t : tasks) co_await t;
}

void memory(State& state) {
  bench::bytes_per_task(state, [] {
    double r = 0;
    coroscope::run(memory_once(r));
    return r;
  });
}

// One item from producer to consumer through a bounded queue (capacity 64): asyncio.Queue's put/get.
task<void> queue_consumer(coroscope::queue<int>& q, long& sum) {
  for (;;) {
    const int v = co_await q.get();
    if (v < 0) co_return;
    sum += v;
  }
}

task<void> queue_body(State& state) {
  coroscope::queue<int> q(bench::queue_capacity);
  long sum = 0;
  auto consumer = coroscope::create_task(queue_consumer(q, sum));
  int i = 0;
  for (auto _ : state) co_await q.put(i++ & 0xffff);
  co_await q.put(-1);
  co_await consumer;
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations());
}

// A trivial function on a one-thread pool and back: run_in_executor's round trip (a kernel wake each way).
task<void> executor_body(State& state) {
  auto pool = std::make_shared<coroscope::thread_pool_executor>(1);
  int v = 0;
  for (auto _ : state) v = co_await coroscope::run_in_executor(pool, [v] { return v + 1; });
  benchmark::DoNotOptimize(v);
  pool->shutdown(true);
}

}  // namespace

int main(int argc, char** argv) {
  bench::record_context("coroscope", COROSCOPE_BENCH_RUNTIME_VERSION);
  bench::suite s;
  s.spawn = on_loop(spawn_body);
  s.resume = on_loop(resume_body);
  s.pingpong = on_loop(pingpong_body);
  s.chain = on_loop(chain_body);
  s.gather = [](State& st, int n) { on_loop(gather_body, n)(st); };
  s.timers = [](State& st, int n) { on_loop(timers_body, n)(st); };
  s.cancel = [](State& st, int n) { on_loop(cancel_body, n)(st); };
  s.wait_for = on_loop(wait_for_body);
  s.queue = on_loop(queue_body);
  s.executor = on_loop(executor_body);
  s.echo = [](State& st, std::size_t bytes, int conns) { on_loop(echo_body, bytes, conns)(st); };
  s.memory = memory;
  bench::register_catalogue(s);
  return bench::run_main(argc, argv);
}
