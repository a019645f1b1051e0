#pragma once
// asyncio.as_completed: iterate over awaitables that yield results in completion order (ASC-001).
//
//   for (auto next : as_completed(std::move(tasks), 1s)) {
//     int v = co_await next;   // raises the child's exception, or timeout_error once the time is up
//   }
//
// Each item is a task<T> to await once; the remaining children are not cancelled on timeout (ASC-002).
#include <coroscope/detail/ensure_future.hpp>
#include <coroscope/detail/rc_ptr.hpp>

#include <chrono>
#include <deque>
#include <optional>
#include <unordered_set>
#include <vector>

namespace coroscope {

namespace detail {

// asyncio's as_completed closure state: the `todo` set, the `done` queue and the queue's getters.
class as_completed_state final : public rc_base, public pooled {
public:
  using pooled::operator new;
  using pooled::operator delete;
  ~as_completed_state() override;

  void on_completion(future_core* f);
  void on_timeout();
  // Queue.get(): the next finished future, or nullptr for a timeout marker.
  task<future_core*> get();

  std::unordered_set<future_core*> todo;
  std::vector<future_core*> all;  // references held for the lifetime of the iteration
  std::deque<future_core*> done;
  std::deque<future<void>> getters;
  timer_handle timeout;

private:
  void wakeup_next();
};

// future.result() typed: raises what the future failed with.
template <class T>
T result_as(future_core& c) {
  c.check_result();
  if constexpr (!std::is_void_v<T>) {
    if constexpr (std::is_copy_constructible_v<T>)
      return value_of<T>(c);
    else
      return std::move(value_of<T>(c));
  }
}

template <class T>
task<T> wait_for_one(rc_ptr<as_completed_state> st) {
  future_core* f = co_await st->get();
  if (!f) throw timeout_error();
  co_return result_as<T>(*f);
}

void start_as_completed(as_completed_state& st, std::optional<duration> timeout);

}  // namespace detail

template <class T>
class as_completed_range {
public:
  class iterator {
  public:
    using value_type = task<T>;
    using difference_type = std::ptrdiff_t;
    task<T> operator*() const { return detail::wait_for_one<T>(range_->state_); }
    iterator& operator++() {
      ++i_;
      return *this;
    }
    void operator++(int) { ++i_; }
    bool operator==(const iterator& o) const noexcept { return i_ == o.i_; }

  private:
    friend class as_completed_range;
    iterator(const as_completed_range* r, std::size_t i) : range_(r), i_(i) {}
    const as_completed_range* range_;
    std::size_t i_;
  };

  explicit as_completed_range(detail::rc_ptr<detail::as_completed_state> s, std::size_t n)
      : state_(std::move(s)), n_(n) {}
  iterator begin() const { return iterator(this, 0); }
  iterator end() const { return iterator(this, n_); }
  std::size_t size() const noexcept { return n_; }

private:
  detail::rc_ptr<detail::as_completed_state> state_;
  std::size_t n_;
};

// Duplicates are collapsed (ASC-004); coroutines become tasks.
template <class A>
  requires detail::awaitable_arg<A>
as_completed_range<detail::arg_value_t<A>> as_completed(std::vector<A> aws,
                                                        std::optional<duration> timeout = std::nullopt) {
  using T = detail::arg_value_t<A>;
  detail::rc_ptr<detail::as_completed_state> st(new detail::as_completed_state());
  for (auto& a : aws) {
    future<T> f = detail::ensure_future(std::move(a));
    auto* c = f.core_ptr();
    if (st->todo.insert(c).second) {
      c->add_ref();
      st->all.push_back(c);
    }
  }
  detail::start_as_completed(*st, timeout);
  std::size_t n = st->all.size();
  return as_completed_range<T>(std::move(st), n);
}

template <class A, class Rep, class Period>
  requires detail::awaitable_arg<A>
as_completed_range<detail::arg_value_t<A>> as_completed(std::vector<A> aws, std::chrono::duration<Rep, Period> t) {
  return as_completed(std::move(aws), std::optional<duration>(to_duration(t)));
}

}  // namespace coroscope
