// Executor hops are catalogue data: after `co_await resume_on(pool)`, `co_await pool.schedule()` or
// `co_await asio::post(pool, use_awaitable)` the coroutine runs on a thread pool, where blocking is fine,
// until it hops back to its loop. An executor the catalogue does not know: unclear, not reported.
#include "coro.hpp"

#include <chrono>
#include <memory>
#include <thread>

using namespace std::chrono_literals;

namespace concurrencpp {
struct executor {};
struct thread_pool_executor : executor {};
struct inline_executor : executor {};
template <typename E>
corpus::Tick resume_on(std::shared_ptr<E>) { return {}; }
}  // namespace concurrencpp

namespace cppcoro {
struct static_thread_pool {
  corpus::Tick schedule() { return {}; }
};
struct io_service {
  corpus::Tick schedule() { return {}; }
};
}  // namespace cppcoro

namespace asio {
struct thread_pool {};
struct io_context {};
struct use_awaitable_t {};
inline constexpr use_awaitable_t use_awaitable{};
template <typename Ex, typename Token>
corpus::Tick post(Ex&, Token) { return {}; }
}  // namespace asio

struct UnknownExecutor {};

corpus::Task<> concurrencpp_hop(std::shared_ptr<concurrencpp::thread_pool_executor> pool,
                                std::shared_ptr<concurrencpp::inline_executor> loop) {
  std::this_thread::sleep_for(1ms);  // expect: blocking-call
  co_await concurrencpp::resume_on(pool);
  std::this_thread::sleep_for(1ms);  // on the pool
  co_await concurrencpp::resume_on(loop);
  std::this_thread::sleep_for(1ms);  // expect: blocking-call
}

corpus::Task<> cppcoro_hop(cppcoro::static_thread_pool& pool, cppcoro::io_service& io) {
  co_await pool.schedule();
  std::this_thread::sleep_for(1ms);
  co_await io.schedule();
  std::this_thread::sleep_for(1ms);  // expect: blocking-call
}

corpus::Task<> asio_hop(asio::thread_pool& pool, asio::io_context& io) {
  co_await asio::post(pool, asio::use_awaitable);
  std::this_thread::sleep_for(1ms);
  co_await asio::post(io, asio::use_awaitable);
  std::this_thread::sleep_for(1ms);  // expect: blocking-call
}

corpus::Task<> unknown_executor(std::shared_ptr<UnknownExecutor> ex) {
  co_await concurrencpp::resume_on(ex);
  std::this_thread::sleep_for(1ms);  // where this runs is unclear: not reported
}
