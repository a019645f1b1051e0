#include <coroscope/executor.hpp>

#include <algorithm>
#include <stdexcept>

namespace coroscope {

std::size_t thread_pool_executor::default_workers() {
  const std::size_t cores = std::max(1u, std::thread::hardware_concurrency());
  return std::min<std::size_t>(32, cores + 4);
}

thread_pool_executor::thread_pool_executor(std::size_t workers) : size_(std::max<std::size_t>(1, workers)) {
  threads_.reserve(size_);
  for (std::size_t i = 0; i < size_; ++i) threads_.emplace_back([this] { work(); });
}

thread_pool_executor::~thread_pool_executor() { shutdown(true); }

void thread_pool_executor::submit(executor_job job) {
  {
    std::lock_guard<std::mutex> g(m_);
    if (stopping_) throw std::runtime_error("coroscope: cannot schedule new work after shutdown");
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
}

void thread_pool_executor::shutdown(bool wait) {
  {
    std::lock_guard<std::mutex> g(m_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (!wait) return;
  for (auto& t : threads_)
    if (t.joinable()) t.join();
}

void thread_pool_executor::work() {
  for (;;) {
    executor_job job;
    {
      std::unique_lock<std::mutex> lk(m_);
      cv_.wait(lk, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping, and everything submitted is done
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

}  // namespace coroscope
