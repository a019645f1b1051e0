// The built-in knowledge of blocking functions (see the project's shared blocking-apis notes).
// Adding a blocking function is one line in kSpecs; adding a category is one line in kCategories.
#include "Catalog.h"

namespace coroscope::lint {
namespace {

using E = Exemption;

struct CategoryDefault {
  std::string_view name;
  bool enabled;
};

// `lock` is off: an uncontended critical section costs nanoseconds; holding a lock across a suspension is
// the real bug and has its own rule, lock-held-across-await.
constexpr CategoryDefault kCategories[] = {
    {"sleep", true},   {"poll", true}, {"wait", true},    {"future", true}, {"file-io", true},
    {"net-io", true},  {"dns", true},  {"process", true}, {"console", true}, {"spin", true},
    {"lock", false},
};

constexpr BlockingSpec kSpecs[] = {
    // sleep
    {"sleep", "sleep", E::None, -1, {}, 0, "co_await coroscope::sleep(std::chrono::seconds({0}))"},
    {"sleep", "usleep", E::None, -1, {}, 0, "co_await coroscope::sleep(std::chrono::microseconds({0}))"},
    {"sleep", "nanosleep"},
    {"sleep", "clock_nanosleep"},
    {"sleep", "pause"},
    {"sleep", "std::this_thread::sleep_for", E::None, -1, {}, 0, "co_await coroscope::sleep({0})"},
    {"sleep", "std::this_thread::sleep_until"},
    // poll: the pointer timeouts of select/pselect/ppoll cannot be told apart from "wait forever"
    {"poll", "select"},
    {"poll", "pselect"},
    {"poll", "poll", E::ZeroTimeout, 2},
    {"poll", "ppoll"},
    {"poll", "epoll_wait", E::ZeroTimeout, 3},
    {"poll", "epoll_pwait", E::ZeroTimeout, 3},
    // wait
    {"wait", "std::condition_variable::wait"},
    {"wait", "std::condition_variable::wait_for"},
    {"wait", "std::condition_variable::wait_until"},
    {"wait", "std::condition_variable_any::wait"},
    {"wait", "std::condition_variable_any::wait_for"},
    {"wait", "std::condition_variable_any::wait_until"},
    {"wait", "std::counting_semaphore::acquire"},
    {"wait", "std::counting_semaphore::try_acquire_for"},
    {"wait", "std::counting_semaphore::try_acquire_until"},
    {"wait", "std::latch::wait"},
    {"wait", "std::latch::arrive_and_wait"},
    {"wait", "std::barrier::wait"},
    {"wait", "std::barrier::arrive_and_wait"},
    {"wait", "std::atomic::wait"},
    {"wait", "std::atomic_ref::wait"},
    {"wait", "std::atomic_flag::wait"},
    {"wait", "std::atomic_wait"},
    {"wait", "std::atomic_wait_explicit"},
    {"wait", "std::call_once"},
    {"wait", "pthread_cond_wait"},
    {"wait", "pthread_cond_timedwait"},
    {"wait", "pthread_barrier_wait"},
    {"wait", "sem_wait"},
    {"wait", "sem_timedwait"},
    {"wait", "cnd_wait"},
    // future
    {"future", "std::future::get"},
    {"future", "std::future::wait"},
    {"future", "std::future::wait_for", E::ZeroDuration, 0},
    {"future", "std::future::wait_until"},
    {"future", "std::shared_future::get"},
    {"future", "std::shared_future::wait"},
    {"future", "std::shared_future::wait_for", E::ZeroDuration, 0},
    {"future", "std::shared_future::wait_until"},
    {"future", "std::thread::join"},
    {"future", "std::jthread::join"},
    {"future", "std::jthread::jthread", E::CopyOrMove},  // its destructor joins
    {"future", "std::async"},                            // the returned future's destructor waits
    {"future", "pthread_join"},
    {"future", "thrd_join"},
    // Running a coroutine to completion on the calling thread: inside a coroutine it blocks the loop (and
    // deadlocks when the awaited work needs that loop).
    {"future", "cppcoro::sync_wait"},
    {"future", "coro::sync_wait"},
    {"future", "folly::coro::blockingWait"},
    {"future", "async_simple::coro::syncAwait"},
    {"future", "stdexec::sync_wait"},
    {"future", "std::this_thread::sync_wait"},
    {"future", "concurrencpp::result::get"},
    {"future", "concurrencpp::result::wait"},
    {"future", "concurrencpp::result::wait_for", E::ZeroDuration, 0},
    {"future", "concurrencpp::result::wait_until"},
    {"future", "concurrencpp::shared_result::get"},
    {"future", "concurrencpp::shared_result::wait"},
    {"future", "concurrencpp::shared_result::wait_for", E::ZeroDuration, 0},
    {"future", "boost::fibers::future::get"},
    {"future", "boost::thread::join"},
    {"future", "folly::SemiFuture::get"},
    {"future", "folly::Future::get"},
    {"future", "folly::Future::wait"},
    // file-io
    {"file-io", "open"},
    {"file-io", "openat"},
    {"file-io", "creat"},
    {"file-io", "read"},
    {"file-io", "write"},
    {"file-io", "pread"},
    {"file-io", "pwrite"},
    {"file-io", "readv"},
    {"file-io", "writev"},
    {"file-io", "fsync"},
    {"file-io", "fdatasync"},
    {"file-io", "sync"},
    {"file-io", "ftruncate"},
    {"file-io", "truncate"},
    {"file-io", "fopen"},
    {"file-io", "freopen"},
    {"file-io", "fdopen"},
    {"file-io", "fread"},
    {"file-io", "fwrite"},
    {"file-io", "fgets"},
    {"file-io", "fgetc"},
    {"file-io", "getc"},
    {"file-io", "getline"},
    {"file-io", "getdelim"},
    {"file-io", "fputs"},
    {"file-io", "fprintf"},
    {"file-io", "fscanf"},
    {"file-io", "fflush"},
    {"file-io", "stat"},
    {"file-io", "lstat"},
    {"file-io", "access"},
    {"file-io", "mkdir"},
    {"file-io", "rmdir"},
    {"file-io", "unlink"},
    {"file-io", "rename"},
    {"file-io", "opendir"},
    {"file-io", "readdir"},
    {"file-io", "std::basic_ifstream::basic_ifstream", E::CopyOrMove},
    {"file-io", "std::basic_ofstream::basic_ofstream", E::CopyOrMove},
    {"file-io", "std::basic_fstream::basic_fstream", E::CopyOrMove},
    {"file-io", "std::basic_ifstream::open"},
    {"file-io", "std::basic_ofstream::open"},
    {"file-io", "std::basic_fstream::open"},
    {"file-io", "std::getline", E::UnlessFileStream, 0},
    {"file-io", "std::basic_ifstream::operator>>"},
    {"file-io", "std::basic_fstream::operator>>"},
    {"file-io", "std::basic_ofstream::operator<<"},
    {"file-io", "std::basic_fstream::operator<<"},
    {"file-io", "std::filesystem::exists", E::FileStatus, 0},
    {"file-io", "std::filesystem::status"},
    {"file-io", "std::filesystem::symlink_status"},
    {"file-io", "std::filesystem::file_size"},
    {"file-io", "std::filesystem::copy"},
    {"file-io", "std::filesystem::copy_file"},
    {"file-io", "std::filesystem::remove"},
    {"file-io", "std::filesystem::remove_all"},
    {"file-io", "std::filesystem::create_directory"},
    {"file-io", "std::filesystem::create_directories"},
    {"file-io", "std::filesystem::rename"},
    {"file-io", "std::filesystem::canonical"},
    {"file-io", "std::filesystem::last_write_time"},
    {"file-io", "std::filesystem::space"},
    {"file-io", "std::filesystem::directory_iterator::directory_iterator", E::CopyOrMove},
    {"file-io", "std::filesystem::recursive_directory_iterator::recursive_directory_iterator", E::CopyOrMove},
    // net-io
    {"net-io", "connect"},
    {"net-io", "accept"},
    {"net-io", "accept4"},
    {"net-io", "recv", E::Flag, 3, "MSG_DONTWAIT", 0x40},
    {"net-io", "recvfrom", E::Flag, 3, "MSG_DONTWAIT", 0x40},
    {"net-io", "recvmsg", E::Flag, 2, "MSG_DONTWAIT", 0x40},
    {"net-io", "send", E::Flag, 3, "MSG_DONTWAIT", 0x40},
    {"net-io", "sendto", E::Flag, 3, "MSG_DONTWAIT", 0x40},
    {"net-io", "sendmsg", E::Flag, 2, "MSG_DONTWAIT", 0x40},
    {"net-io", "sendfile"},
    // dns
    {"dns", "getaddrinfo"},
    {"dns", "getnameinfo"},
    {"dns", "gethostbyname"},
    {"dns", "gethostbyname_r"},
    {"dns", "gethostbyname2"},
    {"dns", "gethostbyaddr"},
    {"dns", "res_query"},
    {"dns", "res_search"},
    {"dns", "__res_query"},  // glibc's <resolv.h> renames res_query/res_search with macros
    {"dns", "__res_search"},
    // process
    {"process", "system"},
    {"process", "popen"},
    {"process", "pclose"},
    {"process", "wait"},
    {"process", "waitpid", E::Flag, 2, "WNOHANG", 1},
    {"process", "waitid", E::Flag, 3, "WNOHANG", 1},
    {"process", "wait3", E::Flag, 1, "WNOHANG", 1},
    {"process", "wait4", E::Flag, 2, "WNOHANG", 1},
    // console
    {"console", "getchar"},
    {"console", "scanf"},
    {"console", "getpass"},
    {"console", "std::getline", E::UnlessStdin, 0},
    {"console", "std::basic_istream::operator>>", E::UnlessStdin, 0},
    // spin: busy-waiting for another thread; a spin lock held by a task suspended on the same loop never
    // comes free. Loops on an atomic test_and_set/exchange are found from the AST (kSpinLoop).
    {"spin", kSpinLoop},
    {"spin", "pthread_spin_lock"},
    {"spin", "tbb::spin_mutex::lock"},
    {"spin", "tbb::spin_rw_mutex::lock"},
    {"spin", "boost::detail::spinlock::lock"},
    {"spin", "folly::MicroSpinLock::lock"},
    {"spin", "folly::SpinLock::lock"},
    {"spin", "absl::base_internal::SpinLock::Lock"},
    // lock (reported by the blocking-lock rule)
    {"lock", "std::mutex::lock"},
    {"lock", "std::recursive_mutex::lock"},
    {"lock", "std::timed_mutex::lock"},
    {"lock", "std::recursive_timed_mutex::lock"},
    {"lock", "std::shared_mutex::lock"},
    {"lock", "std::shared_mutex::lock_shared"},
    {"lock", "std::shared_timed_mutex::lock"},
    {"lock", "std::shared_timed_mutex::lock_shared"},
    {"lock", "std::unique_lock::lock"},
    {"lock", "std::shared_lock::lock"},
    {"lock", "std::lock"},
    {"lock", "std::lock_guard::lock_guard", E::LockTag},
    {"lock", "std::scoped_lock::scoped_lock", E::LockTag},
    {"lock", "std::unique_lock::unique_lock", E::LockTag},
    {"lock", "std::shared_lock::shared_lock", E::LockTag},
    {"lock", "pthread_mutex_lock"},
    {"lock", "pthread_rwlock_rdlock"},
    {"lock", "pthread_rwlock_wrlock"},
    {"lock", "mtx_lock"},
    {"lock", "flock", E::Flag, 1, "LOCK_NB", 4},
    {"lock", "lockf"},
};

// Executor hops: after these the coroutine runs on a pool (Off) or on its loop again (Loop).
constexpr HopSpec kHops[] = {
    {"concurrencpp::resume_on", HopKind::ByExecutor, 0},
    {"cppcoro::static_thread_pool::schedule", HopKind::Off},
    {"cppcoro::io_service::schedule", HopKind::Loop},
    {"coro::thread_pool::schedule", HopKind::Off},
    {"coro::io_scheduler::schedule", HopKind::Loop},
    {"asio::post", HopKind::ByExecutor, 0},
    {"asio::dispatch", HopKind::ByExecutor, 0},
    {"boost::asio::post", HopKind::ByExecutor, 0},
    {"boost::asio::dispatch", HopKind::ByExecutor, 0},
    {"async_simple::coro::dispatch", HopKind::ByExecutor, 0},
};

constexpr std::string_view kSpawns[] = {
    "coroscope::event_loop::create_task",
    "coroscope::task_group::create_task",
    "coroscope::create_task",
    "asio::co_spawn",
    "boost::asio::co_spawn",
    "cppcoro::async_scope::spawn",
    "coro::io_scheduler::spawn",
    "coro::task_container::start",
    "async_simple::coro::Lazy::start",
    "async_simple::coro::RescheduleLazy::start",
    "stdexec::start_detached",
};

constexpr ExecutorSpec kExecutors[] = {
    {"concurrencpp::thread_pool_executor", true},
    {"concurrencpp::thread_executor", true},
    {"concurrencpp::worker_thread_executor", true},
    {"concurrencpp::inline_executor", false},
    {"concurrencpp::manual_executor", false},
    {"asio::thread_pool", true},
    {"asio::thread_pool::basic_executor_type", true},
    {"boost::asio::thread_pool", true},
    {"boost::asio::thread_pool::basic_executor_type", true},
    {"asio::io_context", false},
    {"asio::io_context::basic_executor_type", false},
    {"boost::asio::io_context", false},
    {"boost::asio::io_context::basic_executor_type", false},
    {"cppcoro::static_thread_pool", true},
    {"coro::thread_pool", true},
};

}  // namespace

std::vector<BlockingSpec> builtinBlockingSpecs() { return {std::begin(kSpecs), std::end(kSpecs)}; }
std::vector<HopSpec> builtinHops() { return {std::begin(kHops), std::end(kHops)}; }
std::vector<std::string_view> builtinSpawns() { return {std::begin(kSpawns), std::end(kSpawns)}; }
std::vector<ExecutorSpec> builtinExecutors() { return {std::begin(kExecutors), std::end(kExecutors)}; }

std::vector<std::string_view> builtinCategories() {
  std::vector<std::string_view> names;
  for (const auto& c : kCategories) names.push_back(c.name);
  return names;
}

bool categoryEnabledByDefault(std::string_view category) {
  for (const auto& c : kCategories)
    if (c.name == category) return c.enabled;
  return true;  // categories a config invents for its own functions
}

}  // namespace coroscope::lint
