#pragma once
// rc_ptr: an owning pointer to a single-threaded refcounted object (an rc_base from future_core.hpp): the
// states that handles, callbacks and coroutines share (locks, queues, streams, task groups, combinators).
#include <utility>

namespace coroscope::detail {

template <class S>
class rc_ptr {
public:
  rc_ptr() = default;
  explicit rc_ptr(S* s) noexcept : s_(s) {}  // adopts
  rc_ptr(const rc_ptr& o) noexcept : s_(o.s_) {
    if (s_) s_->add_ref();
  }
  rc_ptr(rc_ptr&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  rc_ptr& operator=(rc_ptr o) noexcept {
    std::swap(s_, o.s_);
    return *this;
  }
  ~rc_ptr() {
    if (s_) s_->release();
  }
  S* operator->() const noexcept { return s_; }
  S& operator*() const noexcept { return *s_; }
  S* get() const noexcept { return s_; }

private:
  S* s_ = nullptr;
};

}  // namespace coroscope::detail
