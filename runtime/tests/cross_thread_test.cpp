// The cross-thread machinery under stress: the anchor's wake-ups (a post wakes the loop only when it is
// asleep, in a futex when no fd is watched or in epoll when one is), the thread pool's ring of jobs, and
// executor round trips from several threads at once. Real clock, and run again under TSan (label
// "threads"). A lost wake-up shows as a watchdog failure, never as a timing assertion.
#include "support.hpp"

#include <coroscope/executor.hpp>

#include <array>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <numeric>
#include <string>
#include <thread>

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

template <class T>
T rrun(task<T> t) {
  return cs::run(std::move(t), {.clock = cs::clock_kind::real});
}

// Fails the test if the loop is still waiting after a long time: it posts a callback that records the
// failure and completes the test's future, so a lost wake-up ends the test with a message instead of a
// hang. Futures are single-threaded, so the watchdog's thread reaches the future only through a shared
// cell that the loop's thread reads and clears.
class watchdog {
public:
  watchdog(cs::event_loop& loop, cs::future<void>& done, std::string& failure)
      : cell_(std::make_shared<cell>(cell{&done, &failure})), thread_([this, &loop, c = cell_] {
          std::unique_lock<std::mutex> lk(m_);
          if (cv_.wait_for(lk, 2s, [this] { return finished_; })) return;
          loop.call_soon_threadsafe([c] {
            if (!c->done || c->done->done()) return;
            *c->failure = "the loop slept through a post: a wake-up was lost";
            c->done->set_result();
          });
        }) {}
  ~watchdog() { stop(); }
  // Loop thread, while the future is alive.
  void stop() {
    {
      std::lock_guard<std::mutex> g(m_);
      finished_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    cell_->done = nullptr;
  }

private:
  struct cell {
    cs::future<void>* done;
    std::string* failure;
  };
  std::mutex m_;
  std::condition_variable cv_;
  bool finished_ = false;
  std::shared_ptr<cell> cell_;
  std::thread thread_;  // last: started once the members it uses exist
};

// Each of `threads` threads posts `rounds` callbacks one at a time and waits until the loop has run the
// previous one before posting the next, so nearly every post races with the loop going back to sleep and
// must wake it. Returns what each thread's callbacks recorded, in the order the loop ran them.
std::vector<std::vector<int>> ping_the_loop(int threads, int rounds, bool watch_an_fd, std::string& failure) {
  std::vector<std::vector<int>> seen(static_cast<std::size_t>(threads));
  int fds[2] = {-1, -1};
  if (watch_an_fd) {
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
  }
  rrun([&]() -> task<void> {
    auto& loop = cs::get_running_loop();
    // A reader that never fires keeps the loop waiting in epoll rather than on its futex.
    if (watch_an_fd) loop.add_reader(fds[0], [] { ADD_FAILURE() << "nothing is ever written to this fd"; });
    auto done = cs::create_future<void>();
    int remaining = threads * rounds;
    std::atomic<int> busy{0};
    std::vector<std::unique_ptr<std::atomic<int>>> acked;
    for (int t = 0; t < threads; ++t) acked.push_back(std::make_unique<std::atomic<int>>(0));
    watchdog dog(loop, done, failure);
    std::vector<std::thread> posters;
    for (int t = 0; t < threads; ++t)
      posters.emplace_back([&, t] {
        auto& ack = *acked[static_cast<std::size_t>(t)];
        for (int i = 0; i < rounds; ++i) {
          loop.call_soon_threadsafe([&, t, i] {
            seen[static_cast<std::size_t>(t)].push_back(i);
            acked[static_cast<std::size_t>(t)]->store(i + 1, std::memory_order_release);
            // The next post is on its way now. A varying amount of work before the loop heads back to
            // sleep sweeps the moment that post lands across the loop's last check before sleeping.
            for (int k = (i * 37 + t * 13) % 500; k > 0; --k) busy.fetch_add(1, std::memory_order_relaxed);
            if (--remaining == 0 && !done.done()) done.set_result();
          });
          for (int spins = 0; ack.load(std::memory_order_acquire) <= i; ++spins)
            if (spins % 1024 == 1023) std::this_thread::yield();
        }
      });
    co_await done;
    dog.stop();
    for (auto& p : posters) p.join();
    if (watch_an_fd) loop.remove_reader(fds[0]);
  }());
  if (watch_an_fd) {
    ::close(fds[0]);
    ::close(fds[1]);
  }
  return seen;
}

void expect_every_post_ran_in_order(const std::vector<std::vector<int>>& seen, int rounds) {
  std::vector<int> expected(static_cast<std::size_t>(rounds));
  std::iota(expected.begin(), expected.end(), 0);
  for (std::size_t t = 0; t < seen.size(); ++t) EXPECT_EQ(seen[t], expected) << "thread " << t;
}

// The anchor's sleep protocol, one interleaving at a time on this thread: each test plays the loop and a
// poster in the order that would lose a wake-up if the protocol were wrong.
struct anchor_fixture {
  cs::detail::loop_anchor anchor;
  int ran = 0;
  void post() {
    anchor.post(new cs::detail::handle_impl([this] { ++ran; }));
  }
  void drain() {
    anchor.drain([](cs::detail::handle_node* n) {
      n->run();
      n->release();
    });
  }
};

TEST(CrossThread, ALoopAboutToSleepAfterAPostDoesNotSleep) {
  anchor_fixture f;
  f.post();  // lands after the loop's last drain, before it announces its sleep
  EXPECT_FALSE(f.anchor.about_to_sleep(cs::detail::loop_anchor::in_futex));
  EXPECT_EQ(f.anchor.sleeping.load(), cs::detail::loop_anchor::awake);
  f.drain();
  EXPECT_EQ(f.ran, 1);
  EXPECT_TRUE(f.anchor.about_to_sleep(cs::detail::loop_anchor::in_futex));  // nothing pending any more
  f.anchor.woke();
}

TEST(CrossThread, APostBetweenTheAnnouncementAndTheFutexWaitMakesTheWaitReturn) {
  anchor_fixture f;
  ASSERT_TRUE(f.anchor.about_to_sleep(cs::detail::loop_anchor::in_futex));
  f.post();  // the post saw the announcement: it takes the word back to awake and wakes the futex
  ASSERT_EQ(f.anchor.sleeping.load(), cs::detail::loop_anchor::awake);
  f.anchor.sleep_on_futex(-1);  // would block forever if the post had left the word alone
  f.anchor.woke();
  f.drain();
  EXPECT_EQ(f.ran, 1);
}

TEST(CrossThread, APostToALoopAnnouncedInEpollSignalsTheWakeFdOncePerSleep) {
  anchor_fixture f;
  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  ASSERT_GE(ep, 0);
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLET;  // as the loop registers it
  ev.data.fd = f.anchor.wakefd;
  ASSERT_EQ(::epoll_ctl(ep, EPOLL_CTL_ADD, f.anchor.wakefd, &ev), 0);
  auto events_now = [ep] {
    epoll_event got[4];
    return ::epoll_wait(ep, got, 4, 0);
  };
  EXPECT_EQ(events_now(), 0);
  f.post();  // the loop is awake: no system call, no event
  EXPECT_EQ(events_now(), 0);
  f.drain();
  ASSERT_TRUE(f.anchor.about_to_sleep(cs::detail::loop_anchor::in_epoll));
  f.post();
  f.post();  // the first post already woke the loop: the second adds nothing
  EXPECT_EQ(events_now(), 1);
  EXPECT_EQ(events_now(), 0);  // edge-triggered: reported once, without reading the fd
  f.anchor.woke();
  f.drain();
  EXPECT_EQ(f.ran, 3);
  ASSERT_TRUE(f.anchor.about_to_sleep(cs::detail::loop_anchor::in_epoll));
  f.post();  // the next sleep gets its own event
  EXPECT_EQ(events_now(), 1);
  f.anchor.woke();
  f.drain();
  EXPECT_EQ(f.ran, 4);
  ::close(ep);
}

TEST(CrossThread, APostToAClosedAnchorThrowsAndFreesTheCallback) {
  anchor_fixture f;
  auto token = std::make_shared<int>(0);
  f.anchor.post(new cs::detail::handle_impl([token] {}));
  EXPECT_EQ(token.use_count(), 2);
  f.anchor.close();  // drops what was pending
  EXPECT_EQ(token.use_count(), 1);
  EXPECT_THROW(f.anchor.post(new cs::detail::handle_impl([token] {})), cs::loop_closed_error);
  EXPECT_EQ(token.use_count(), 1);
}

// One poster: nobody else's post can rescue a lost wake-up, so one is enough to fail the test.
TEST(CrossThread, PostsRacingWithTheLoopFallingAsleepOnItsFutexAreNeverLost) {
  std::string failure;
  auto seen = ping_the_loop(1, 20000, false, failure);
  EXPECT_EQ(failure, "");
  expect_every_post_ran_in_order(seen, 20000);
}

TEST(CrossThread, PostsRacingWithTheLoopFallingAsleepInEpollAreNeverLost) {
  std::string failure;
  auto seen = ping_the_loop(1, 20000, true, failure);
  EXPECT_EQ(failure, "");
  expect_every_post_ran_in_order(seen, 20000);
}

TEST(CrossThread, PostsFromSeveralThreadsAtOnceEachKeepTheirOrder) {
  std::string failure;
  auto seen = ping_the_loop(3, 3000, false, failure);
  EXPECT_EQ(failure, "");
  expect_every_post_ran_in_order(seen, 3000);
}

TEST(CrossThread, APostWakesALoopSleepingUntilAFarTimer) {
  // The loop's only timer is an hour away, so it sleeps with a timeout; the post must end that sleep.
  trace L;
  rrun([&]() -> task<void> {
    auto& loop = cs::get_running_loop();
    auto far = loop.call_later(1h, [&L] { L.push_back("timer"); });
    auto posted = cs::create_future<void>();
    std::thread t([&loop, &L, &posted] {
      loop.call_soon_threadsafe([&L, &posted] {
        L.push_back("posted");
        posted.set_result();
      });
    });
    co_await posted;
    t.join();
    far.cancel();
  }());
  EXPECT_EQ(L, (trace{"posted"}));
}

TEST(CrossThread, ManyRoundTripsFromSeveralTasksOnOnePoolAllComeBack) {
  constexpr int tasks = 8, rounds = 400;
  std::vector<int> results = rrun([]() -> task<std::vector<int>> {
    auto pool = std::make_shared<cs::thread_pool_executor>(3);
    auto chain = [](std::shared_ptr<cs::executor> ex, int id) -> task<int> {
      int v = id * 1'000'000;
      for (int i = 0; i < rounds; ++i) v = co_await cs::run_in_executor(ex, [v] { return v + 1; });
      co_return v;
    };
    std::vector<cs::task_handle<int>> running;
    for (int id = 0; id < tasks; ++id) running.push_back(cs::create_task(chain(pool, id)));
    std::vector<int> out;
    for (auto& t : running) out.push_back(co_await t);
    pool->shutdown(true);
    co_return out;
  }());
  ASSERT_EQ(results.size(), static_cast<std::size_t>(tasks));
  for (int id = 0; id < tasks; ++id) EXPECT_EQ(results[static_cast<std::size_t>(id)], id * 1'000'000 + rounds);
}

TEST(CrossThread, LoopsOnSeveralThreadsShareOnePoolAndEachGetsItsOwnResults) {
  constexpr int loops = 3, rounds = 1000;
  auto pool = std::make_shared<cs::thread_pool_executor>(2);
  std::array<int, loops> results{};
  std::vector<std::thread> threads;
  for (int l = 0; l < loops; ++l)
    threads.emplace_back([&, l] {
      results[static_cast<std::size_t>(l)] = rrun([](std::shared_ptr<cs::executor> ex, int base) -> task<int> {
        int v = base;
        for (int i = 0; i < rounds; ++i) v = co_await cs::run_in_executor(ex, [v] { return v + 1; });
        co_return v;
      }(pool, l * 100'000));
    });
  for (auto& t : threads) t.join();
  pool->shutdown(true);
  for (int l = 0; l < loops; ++l) EXPECT_EQ(results[static_cast<std::size_t>(l)], l * 100'000 + rounds);
}

// A gate the pool's only worker blocks on, so the test decides when queued jobs may start.
struct gate {
  std::mutex m;
  std::condition_variable cv;
  bool open = false;
  void wait() {
    std::unique_lock<std::mutex> lk(m);
    cv.wait(lk, [this] { return open; });
  }
  void release() {
    {
      std::lock_guard<std::mutex> g(m);
      open = true;
    }
    cv.notify_all();
  }
};

TEST(CrossThread, AOneWorkerPoolRunsJobsInSubmissionOrderWhileItsQueueWrapsAndGrows) {
  cs::thread_pool_executor pool(1);
  std::mutex m;
  std::vector<int> ran;
  auto record = [&](int i) {
    std::lock_guard<std::mutex> g(m);
    ran.push_back(i);
  };
  // First a few jobs that run through, so the queue's start has moved when it next fills up.
  gate first;
  pool.submit([&] { first.wait(); });
  for (int i = 0; i < 5; ++i) pool.submit([&record, i] { record(i); });
  first.release();
  for (;;) {
    std::lock_guard<std::mutex> g(m);
    if (ran.size() == 5) break;
  }
  // Then many jobs queued behind a blocked one: starting mid-ring, the queue wraps around and grows.
  gate second;
  pool.submit([&] { second.wait(); });
  for (int i = 5; i < 40; ++i) pool.submit([&record, i] { record(i); });
  second.release();
  pool.shutdown(true);  // finishes what was submitted
  std::vector<int> expected(40);
  std::iota(expected.begin(), expected.end(), 0);
  EXPECT_EQ(ran, expected);
}

TEST(CrossThread, ExecutorJobsRunAndDestroyCallablesOfEverySizeExactlyOnce) {
  auto token = std::make_shared<int>(0);
  std::string big(200, 'x');  // a capture far larger than the job's inline room
  int small_calls = 0, big_calls = 0;
  {
    cs::executor_job small([token, &small_calls] { ++small_calls; });
    cs::executor_job large([token, big, &big_calls] { big_calls += static_cast<int>(big.size()); });
    EXPECT_EQ(token.use_count(), 3);
    cs::executor_job moved_small(std::move(small));
    cs::executor_job moved_large(std::move(large));
    EXPECT_FALSE(small);
    EXPECT_FALSE(large);
    EXPECT_EQ(token.use_count(), 3);  // moving neither copies nor drops a callable
    moved_small();
    moved_large();
    cs::executor_job assigned;
    assigned = std::move(moved_small);
    assigned();
    assigned = std::move(moved_large);  // destroys the small callable it held
    EXPECT_EQ(token.use_count(), 2);
    assigned();
  }
  EXPECT_EQ(token.use_count(), 1);
  EXPECT_EQ(small_calls, 2);
  EXPECT_EQ(big_calls, 400);
}

}  // namespace
