#pragma once
// asyncio.gather.
//
//   auto [a, b] = co_await gather(fetch(1), fetch(2));          // tuple, argument order (GAT-001)
//   std::vector<int> v = co_await gather(std::move(tasks));      // vector form
//   auto [x, y] = co_await gather(return_exceptions, f(), g());  // outcome<T> per child (GAT-003)
//
// Like asyncio, gather is not structured: the first exception propagates at once and the other children
// keep running (GAT-002); cancelling gather's future cancels the children (GAT-004). Coroutine arguments
// become tasks when gather is called; void children contribute coroscope::none.
#include <coroscope/detail/ensure_future.hpp>

#include <algorithm>
#include <tuple>
#include <unordered_map>
#include <vector>

namespace coroscope {

struct return_exceptions_t {
  explicit constexpr return_exceptions_t() = default;
};
inline constexpr return_exceptions_t return_exceptions{};

namespace detail {

// _GatheringFuture plus gather's _done_callback. Build is a policy that turns the finished children into
// the result (a tuple or a vector).
template <class Result, class Build, bool ReturnExceptions>
class gather_state final : public value_holder<Result, future_core>, public pooled {
public:
  using pooled::operator new;
  using pooled::operator delete;

  // distinct: the children are known to be distinct (tasks gather created from coroutines).
  gather_state(event_loop* loop, std::vector<future_core*> children, bool distinct)
      : value_holder<Result, future_core>(loop), children_(std::move(children)) {
    for (auto* c : children_) c->add_ref();
    if (distinct) {
      nfuts_ = children_.size();
      for (auto* c : children_) c->add_done_callback(bind_callback<gather_state, &gather_state::child_done>(this));
      return;
    }
    std::vector<future_core*> seen;
    // Each distinct child is awaited once, however often it is passed (GAT-010).
    if (children_.size() <= 16) {
      for (auto* c : children_)
        if (std::find(seen.begin(), seen.end(), c) == seen.end()) seen.push_back(c);
    } else {
      std::unordered_map<future_core*, bool> m;
      m.reserve(children_.size());
      for (auto* c : children_)
        if (m.emplace(c, true).second) seen.push_back(c);
    }
    nfuts_ = seen.size();
    for (auto* c : seen) c->add_done_callback(bind_callback<gather_state, &gather_state::child_done>(this));
  }

  // _GatheringFuture.cancel: like Task.cancel, a request forwarded to the children (GAT-004).
  bool cancel(const std::string* msg) override {
    if (this->done()) return false;
    bool ret = false;
    for (auto* c : children_)
      if (c->cancel(msg)) ret = true;
    if (ret) cancel_requested_ = true;
    return ret;
  }

  void child_done(future_core* fut) {
    ++nfinished_;
    if (mutant::is(mutant::gather_completion_order)) completed_.push_back(fut);
    if (this->done()) {
      if (!fut->cancelled()) fut->mark_retrieved();  // no "never retrieved" for the losers (GAT-012)
      return;
    }
    if constexpr (!ReturnExceptions) {
      if (fut->cancelled()) {
        this->exc_ = fut->make_cancelled_error();
        this->log_traceback_ = true;
        this->complete(future_core::state::finished);
        return;
      }
      if (auto e = fut->exception()) {
        this->exc_ = e;
        this->log_traceback_ = true;
        this->complete(future_core::state::finished);
        return;
      }
    }
    if (nfinished_ != nfuts_) return;
    if (cancel_requested_) {
      // The gather itself was cancelled: that wins over return_exceptions (GAT-008).
      this->exc_ = fut->cancelled() ? fut->make_cancelled_error() : std::make_exception_ptr(cancelled_error());
      this->log_traceback_ = true;
      this->complete(future_core::state::finished);
      return;
    }
    try {
      if (Build::reorderable && mutant::is(mutant::gather_completion_order))
        this->emplace_value(Build::build(completed_));
      else
        this->emplace_value(Build::build(children_));
    } catch (...) {
      this->exc_ = std::current_exception();
      this->log_traceback_ = true;
      this->complete(future_core::state::finished);
      return;
    }
    this->complete(future_core::state::finished);
  }

  static future<Result> start(std::vector<future_core*> children, bool distinct) {
    event_loop& loop = get_running_loop();
    auto* s = new gather_state(&loop, std::move(children), distinct);
    future<Result> f(s);
    s->release();
    if (s->children_.empty()) {
      s->emplace_value(Build::build(s->children_));
      s->complete(future_core::state::finished);  // an empty gather is done at once (GAT-010)
    }
    return f;
  }

  ~gather_state() override {
    for (auto* c : children_) c->release();
  }

private:
  std::vector<future_core*> children_;
  std::vector<future_core*> completed_;  // mutants only
  std::size_t nfuts_ = 0;
  std::size_t nfinished_ = 0;
  bool cancel_requested_ = false;
};

template <class T, bool ReturnExceptions>
using gather_slot_t = std::conditional_t<ReturnExceptions, outcome<result_slot_t<T>>, result_slot_t<T>>;

template <class T, bool ReturnExceptions>
gather_slot_t<T, ReturnExceptions> gather_slot(future_core& c) {
  if constexpr (ReturnExceptions) {
    if (c.cancelled()) return c.make_cancelled_error();  // the slot holds a CancelledError (GAT-007)
    if (auto e = c.exception()) return e;
    return take_value<T>(c);
  } else {
    return take_value<T>(c);
  }
}

template <bool ReturnExceptions, class... Ts>
struct tuple_builder {
  static constexpr bool reorderable = false;
  using result = std::tuple<gather_slot_t<Ts, ReturnExceptions>...>;
  static result build(const std::vector<future_core*>& ch) {
    return build_impl(ch, std::index_sequence_for<Ts...>{});
  }
  template <std::size_t... I>
  static result build_impl(const std::vector<future_core*>& ch, std::index_sequence<I...>) {
    if constexpr (sizeof...(Ts) == 0) {
      return {};
    } else {
      return result(gather_slot<Ts, ReturnExceptions>(*ch[I])...);
    }
  }
};

template <bool ReturnExceptions, class T>
struct vector_builder {
  static constexpr bool reorderable = true;
  using result = std::vector<gather_slot_t<T, ReturnExceptions>>;
  static result build(const std::vector<future_core*>& ch) {
    result r;
    r.reserve(ch.size());
    for (auto* c : ch) r.push_back(gather_slot<T, ReturnExceptions>(*c));
    return r;
  }
};

template <bool RE, class... A>
auto gather_args(A&&... aws) {
  using B = tuple_builder<RE, arg_value_t<A>...>;
  std::vector<future_core*> children;
  children.reserve(sizeof...(A));
  // Arguments are scheduled left to right (a braced list guarantees the order).
  std::vector<future_ref> keep{future_ref(ensure_future(std::forward<A>(aws)))...};
  for (auto& k : keep) children.push_back(k.core_ptr());
  constexpr bool distinct = (future_like<std::remove_cvref_t<A>>::is_coroutine && ...);
  return gather_state<typename B::result, B, RE>::start(std::move(children), distinct);
}

template <bool RE, class A>
auto gather_vector(std::vector<A> aws) {
  using T = arg_value_t<A>;
  using B = vector_builder<RE, T>;
  std::vector<future_ref> keep;
  keep.reserve(aws.size());
  for (auto& a : aws) keep.emplace_back(ensure_future(std::move(a)));
  std::vector<future_core*> children;
  children.reserve(keep.size());
  for (auto& k : keep) children.push_back(k.core_ptr());
  return gather_state<typename B::result, B, RE>::start(std::move(children), future_like<A>::is_coroutine);
}

}  // namespace detail

template <class... A>
  requires(detail::awaitable_arg<A> && ...)
auto gather(A&&... aws) {
  return detail::gather_args<false>(std::forward<A>(aws)...);
}
template <class... A>
  requires(detail::awaitable_arg<A> && ...)
auto gather(return_exceptions_t, A&&... aws) {
  return detail::gather_args<true>(std::forward<A>(aws)...);
}
template <class A>
  requires detail::awaitable_arg<A>
auto gather(std::vector<A> aws) {
  return detail::gather_vector<false>(std::move(aws));
}
template <class A>
  requires detail::awaitable_arg<A>
auto gather(return_exceptions_t, std::vector<A> aws) {
  return detail::gather_vector<true>(std::move(aws));
}

}  // namespace coroscope
