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
  bool wake;
  {
    std::lock_guard<std::mutex> g(m_);
    if (stopping_) throw std::runtime_error("coroscope: cannot schedule new work after shutdown");
    if (queued_ == ring_.size()) {
      // Grow to twice the size, unrolling the ring so that the oldest job comes first again.
      std::vector<executor_job> bigger(std::max<std::size_t>(8, ring_.size() * 2));
      for (std::size_t i = 0; i < queued_; ++i) bigger[i] = std::move(ring_[(head_ + i) % ring_.size()]);
      ring_.swap(bigger);
      head_ = 0;
    }
    ring_[(head_ + queued_) % ring_.size()] = std::move(job);
    ++queued_;
    wake = idle_ > 0;
  }
  if (wake) cv_.notify_one();
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
      while (!stopping_ && queued_ == 0) {
        ++idle_;
        cv_.wait(lk);
        --idle_;
      }
      if (queued_ == 0) return;  // stopping, and everything submitted is done
      job = std::move(ring_[head_]);
      head_ = (head_ + 1) % ring_.size();
      --queued_;
    }
    job();
  }
}

}  // namespace coroscope
