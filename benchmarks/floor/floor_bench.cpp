// The floor's row of the catalogue: each workload done with the least machinery that can do it (floor.hpp
// for tasks, a raw epoll loop for echo). Other runtimes are reported as multiples of these numbers.
#include "catalogue.hpp"
#include "echo_socket.hpp"
#include "floor.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <deque>
#include <stdexcept>
#include <thread>

namespace {

using benchmark::State;
using floor_rt::detached;
using floor_rt::join;
using floor_rt::spawn;
using floor_rt::task;
using floor_rt::yield;

task<int> leaf(int v) { co_return v + 1; }

detached spawn_body(State& state, bool& done) {
  co_await yield{};  // start from the loop, like every runtime's main task
  int v = 0;
  for (auto _ : state) {
    auto t = leaf(v);
    spawn(t);
    v = co_await join(t);
  }
  benchmark::DoNotOptimize(v);
  done = true;
}

detached resume_body(State& state, bool& done) {
  co_await yield{};
  for (auto _ : state) co_await yield{};
  done = true;
}

detached pong(floor_rt::slot<int>& in, floor_rt::slot<int>& out) {
  for (;;) {
    const int v = co_await in.wait();
    if (v < 0) break;
    out.put(v + 1);
  }
}

detached pingpong_body(State& state, bool& done) {
  floor_rt::slot<int> a2b, b2a;
  pong(a2b, b2a);
  co_await yield{};
  int v = 0;
  for (auto _ : state) {
    a2b.put(v);
    v = co_await b2a.wait();
  }
  a2b.put(-1);
  co_await yield{};
  done = true;
}

task<int> chain(int depth) {
  if (depth == 0) co_return 1;
  co_return 1 + co_await chain(depth - 1);
}

detached chain_body(State& state, bool& done) {
  co_await yield{};
  int v = 0;
  for (auto _ : state) v += co_await chain(bench::chain_depth);
  benchmark::DoNotOptimize(v);
  done = true;
}

// gather: spawn all, then collect results in order.
detached gather_body(State& state, bool& done, int n) {
  co_await yield{};
  for (auto _ : state) {
    std::vector<task<int>> tasks;
    tasks.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      tasks.push_back(leaf(i));
      spawn(tasks.back());
    }
    std::vector<int> results;
    results.reserve(tasks.size());
    for (auto& t : tasks) results.push_back(co_await join(t));
    benchmark::DoNotOptimize(results.data());
  }
  state.SetItemsProcessed(state.iterations() * n);
  done = true;
}

task<int> sleeper(std::int64_t deadline) {
  co_await floor_rt::sleep_until{deadline};
  co_return 0;
}

detached timers_body(State& state, bool& done, int n) {
  const auto delays = bench::random_delays_ns(n);
  co_await yield{};
  for (auto _ : state) {
    const std::int64_t start = floor_rt::now_ns();
    std::vector<task<int>> tasks;
    tasks.reserve(delays.size());
    for (auto d : delays) {
      tasks.push_back(sleeper(start + d));
      spawn(tasks.back());
    }
    for (auto& t : tasks) co_await join(t);
  }
  state.SetItemsProcessed(state.iterations() * n);
  done = true;
}

// Cancelling a parked task: kill its timer (generation bump) and resume it with a cancelled mark.
struct cancel_cell {
  std::uint64_t generation = 0;
  bool cancelled = false;
};

task<int> parked(cancel_cell& cell) {
  co_await floor_rt::sleep_until{floor_rt::now_ns() + 3'600'000'000'000, &cell.generation};
  co_return cell.cancelled ? -1 : 0;
}

detached cancel_body(State& state, bool& done, int n) {
  std::vector<cancel_cell> cells(static_cast<std::size_t>(n));
  co_await yield{};
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<task<int>> tasks;
    tasks.reserve(cells.size());
    for (auto& c : cells) {
      c.cancelled = false;
      tasks.push_back(parked(c));
      spawn(tasks.back());
    }
    co_await yield{};  // every task is now parked on its timer
    state.ResumeTiming();
    for (std::size_t i = 0; i < cells.size(); ++i) {
      ++cells[i].generation;
      cells[i].cancelled = true;
      floor_rt::current->note_cancelled_timer();
      floor_rt::current->post(tasks[i].handle());
    }
    int cancelled = 0;
    for (auto& t : tasks) cancelled += co_await join(t) < 0;
    if (cancelled != n) state.SkipWithError("a task was not cancelled");
  }
  state.SetItemsProcessed(state.iterations() * n);
  done = true;
}

// wait_for(child, 1 s) where the child finishes at once: arm a timer, run the child, disarm.
detached wait_for_body(State& state, bool& done) {
  std::uint64_t generation = 0;
  co_await yield{};
  int v = 0;
  for (auto _ : state) {
    floor_rt::current->add_timer(floor_rt::now_ns() + 1'000'000'000, std::noop_coroutine(), &generation);
    v = co_await leaf(v);
    ++generation;
    floor_rt::current->note_cancelled_timer();
  }
  benchmark::DoNotOptimize(v);
  done = true;
}

// A bounded queue with one waiting producer and one waiting consumer at most.
class bounded_queue {
public:
  explicit bounded_queue(std::size_t capacity) : capacity_(capacity) {}
  auto put(int v) {
    struct awaiter {
      bounded_queue& q;
      int v;
      bool await_ready() const noexcept { return q.items_.size() < q.capacity_; }
      void await_suspend(std::coroutine_handle<> h) noexcept { q.putter_ = h; }
      void await_resume() {
        q.items_.push_back(v);
        if (auto g = std::exchange(q.getter_, {})) floor_rt::current->post(g);
      }
    };
    return awaiter{*this, v};
  }
  auto get() {
    struct awaiter {
      bounded_queue& q;
      bool await_ready() const noexcept { return !q.items_.empty(); }
      void await_suspend(std::coroutine_handle<> h) noexcept { q.getter_ = h; }
      int await_resume() {
        const int v = q.items_.front();
        q.items_.pop_front();
        if (auto p = std::exchange(q.putter_, {})) floor_rt::current->post(p);
        return v;
      }
    };
    return awaiter{*this};
  }

private:
  std::deque<int> items_;
  std::size_t capacity_;
  std::coroutine_handle<> getter_, putter_;
};

detached consumer(bounded_queue& q, floor_rt::slot<long>& finished) {
  long sum = 0;
  for (;;) {
    const int v = co_await q.get();
    if (v < 0) break;
    sum += v;
  }
  finished.put(sum);
}

detached queue_body(State& state, bool& done) {
  bounded_queue q(bench::queue_capacity);
  floor_rt::slot<long> finished;
  consumer(q, finished);
  co_await yield{};
  int i = 0;
  for (auto _ : state) co_await q.put(i++ & 0xffff);
  co_await q.put(-1);
  benchmark::DoNotOptimize(co_await finished.wait());
  state.SetItemsProcessed(state.iterations());
  done = true;
}

// One worker thread and a spinning handoff through one atomic: no kernel on either side, which is the
// physical limit of a cross-thread round trip (blocking wakes cost 13-50 us here). Both sides yield the
// CPU after a while so a busy machine cannot starve the other thread.
class worker {
public:
  struct job {
    int in, out;
    std::coroutine_handle<> h;
  };
  worker() : thread_([this] { serve(); }) {}
  ~worker() {
    state_.store(stop, std::memory_order_release);
    thread_.join();
  }
  void submit(job* j) {
    job_ = j;
    state_.store(posted, std::memory_order_release);
  }
  // The loop's idle hook: wait for the job to finish, then resume its awaiter.
  bool wait_and_post() {
    if (!job_) return false;
    spin_until([this] { return state_.load(std::memory_order_acquire) == finished; });
    state_.store(idle, std::memory_order_relaxed);
    floor_rt::current->post(std::exchange(job_, nullptr)->h);
    return true;
  }

private:
  enum : int { idle, posted, finished, stop };
  template <class Pred>
  static void spin_until(Pred done) {
    for (int spins = 0; !done(); ++spins)
      if (spins > 4096) std::this_thread::yield();
  }
  void serve() {
    for (;;) {
      int s = idle;
      spin_until([&] { return (s = state_.load(std::memory_order_acquire)) == posted || s == stop; });
      if (s == stop) return;
      job_->out = job_->in + 1;
      state_.store(finished, std::memory_order_release);
    }
  }
  std::atomic<int> state_{idle};
  job* job_ = nullptr;
  std::thread thread_;
};

struct run_on {
  worker& w;
  worker::job j;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) {
    j.h = h;
    w.submit(&j);
  }
  int await_resume() const noexcept { return j.out; }
};

void executor_roundtrip(State& state) {
  worker w;
  floor_rt::run(
      [&](bool& done) {
        [](State& st, bool& d, worker& wk) -> detached {
          co_await yield{};
          int v = 0;
          for (auto _ : st) v = co_await run_on{wk, {v, 0, {}}};
          benchmark::DoNotOptimize(v);
          d = true;
        }(state, done, w);
      },
      [&](floor_rt::loop& l) { l.idle = [&w] { return w.wait_and_post(); }; });
}

// Echo over loopback with a raw level-triggered epoll loop: every connection sends one message, the server
// side echoes what it reads, the iteration ends when every client has its whole message back.
class epoll_echo {
public:
  epoll_echo(int conns, std::size_t size) : size_(size), message_(size, 'x') {
    bench::open_loopback_pairs(conns, pairs_);
    epfd_ = epoll_create1(EPOLL_CLOEXEC);
    if (epfd_ < 0) throw std::runtime_error(std::string("epoll_create1: ") + std::strerror(errno));
    ends_.resize(2 * static_cast<std::size_t>(conns));
    for (int i = 0; i < conns; ++i) {
      auto& server = ends_[static_cast<std::size_t>(i)];
      server.fd = pairs_.servers[static_cast<std::size_t>(i)];
      server.server = true;
      ends_[static_cast<std::size_t>(conns + i)].fd = pairs_.clients[static_cast<std::size_t>(i)];
    }
    for (std::size_t k = 0; k < ends_.size(); ++k) watch(k, EPOLL_CTL_ADD, EPOLLIN);
  }
  ~epoll_echo() { close(epfd_); }

  void round_trip() {
    std::size_t waiting = 0;
    for (auto& e : ends_) {
      if (e.server) continue;
      e.received = 0;
      send(e, message_.data(), size_);
      ++waiting;
    }
    epoll_event events[256];
    while (waiting > 0) {
      const int n = epoll_wait(epfd_, events, 256, -1);
      if (n < 0 && errno != EINTR) throw std::runtime_error(std::string("epoll_wait: ") + std::strerror(errno));
      for (int i = 0; i < n; ++i) {
        const std::size_t k = events[i].data.u32;
        end& e = ends_[k];
        if (events[i].events & EPOLLOUT) flush(k);
        if (!(events[i].events & EPOLLIN) || !e.pending.empty()) continue;  // backpressure: finish writing first
        const ssize_t got = read(e.fd, buffer_, sizeof buffer_);
        if (got <= 0) {
          if (got < 0 && errno == EAGAIN) continue;
          throw std::runtime_error("echo: connection closed");
        }
        if (e.server) {
          send(e, buffer_, static_cast<std::size_t>(got));
          if (!e.pending.empty()) watch(k, EPOLL_CTL_MOD, EPOLLIN | EPOLLOUT);
        } else if ((e.received += static_cast<std::size_t>(got)) == size_) {
          --waiting;
        }
      }
    }
  }

private:
  struct end {
    int fd = -1;
    bool server = false;
    std::size_t received = 0;
    std::string pending;
  };
  void watch(std::size_t k, int op, std::uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u32 = static_cast<std::uint32_t>(k);
    if (epoll_ctl(epfd_, op, ends_[k].fd, &ev) < 0) throw std::runtime_error(std::string("epoll_ctl: ") + std::strerror(errno));
  }
  void send(end& e, const char* data, std::size_t n) {
    const ssize_t put = write(e.fd, data, n);
    if (put < 0 && errno != EAGAIN) throw std::runtime_error(std::string("write: ") + std::strerror(errno));
    const std::size_t done = put < 0 ? 0 : static_cast<std::size_t>(put);
    if (done < n) {
      e.pending.append(data + done, n - done);
      if (!e.server) watch(static_cast<std::size_t>(&e - ends_.data()), EPOLL_CTL_MOD, EPOLLIN | EPOLLOUT);
    }
  }
  void flush(std::size_t k) {
    end& e = ends_[k];
    const ssize_t put = write(e.fd, e.pending.data(), e.pending.size());
    if (put < 0 && errno != EAGAIN) throw std::runtime_error(std::string("write: ") + std::strerror(errno));
    if (put > 0) e.pending.erase(0, static_cast<std::size_t>(put));
    if (e.pending.empty()) watch(k, EPOLL_CTL_MOD, EPOLLIN);
  }

  std::size_t size_;
  std::string message_;
  bench::socket_pair_list pairs_;
  int epfd_ = -1;
  std::vector<end> ends_;
  char buffer_[64 * 1024];
};

void echo(State& state, std::size_t size, int conns) {
  try {
    epoll_echo loop(conns, size);
    for (auto _ : state) loop.round_trip();
    state.SetItemsProcessed(state.iterations() * conns);
    state.SetBytesProcessed(state.iterations() * conns * static_cast<std::int64_t>(size) * 2);
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
}

// Bytes per task parked on an event, from the heap's growth.
struct event {
  std::vector<std::coroutine_handle<>> waiters;
  auto wait() {
    struct awaiter {
      event& e;
      bool await_ready() const noexcept { return false; }
      void await_suspend(std::coroutine_handle<> h) { e.waiters.push_back(h); }
      void await_resume() const noexcept {}
    };
    return awaiter{*this};
  }
  void set() {
    for (auto h : waiters) floor_rt::current->post(h);
    waiters.clear();
  }
};

task<int> parked_on(event& e) {
  co_await e.wait();
  co_return 1;
}

detached memory_once(double& per_task, bool& done) {
  co_await yield{};
  std::vector<task<int>> tasks;
  tasks.reserve(bench::parked_tasks);
  event e;
  const std::size_t before = bench::heap_in_use();
  for (int i = 0; i < bench::parked_tasks; ++i) {
    tasks.push_back(parked_on(e));
    spawn(tasks.back());
  }
  co_await yield{};
  per_task = static_cast<double>(bench::heap_in_use() - before) / bench::parked_tasks;
  e.set();
  for (auto& t : tasks) co_await join(t);
  done = true;
}

// Measured on a fresh thread, like every runtime's memory workload (see catalogue.hpp).
void memory(State& state) {
  bench::bytes_per_task(state, [] {
    double r = 0;
    floor_rt::run([&](bool& done) { memory_once(r, done); });
    return r;
  });
}

template <class Body, class... Args>
auto on_loop(Body body, Args... args) {
  return [body, args...](State& state) { floor_rt::run([&](bool& done) { body(state, done, args...); }); };
}

}  // namespace

int main(int argc, char** argv) {
  bench::record_context("floor", "hand-written FIFO scheduler and epoll loop");
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
  s.executor = executor_roundtrip;
  s.echo = echo;
  s.memory = memory;
  bench::register_catalogue(s);
  return bench::run_main(argc, argv);
}
