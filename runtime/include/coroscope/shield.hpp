#pragma once
// asyncio.shield: the caller can be cancelled, the shielded work cannot (SHD-001).
//
//   auto r = co_await shield(task_handle_or_coroutine);
//
// Returns a new future that follows the inner one; cancelling that future (or the task awaiting it)
// does not cancel the inner. An already-done inner is returned as it is (SHD-004).
#include <coroscope/detail/ensure_future.hpp>

namespace coroscope {

namespace detail {

template <class T>
class shield_state final : public rc_base, public pooled {
public:
  shield_state(future_core* inner, future_core* outer) noexcept : inner_(inner), outer_(outer) { inner_->add_ref(); }
  ~shield_state() override { inner_->release(); }
  using pooled::operator new;
  using pooled::operator delete;

  void inner_done(future_core* inner) {
    if (!outer_ || outer_->cancelled()) {
      if (!inner->cancelled()) inner->mark_retrieved();
      return;
    }
    if (outer_->done()) return;
    if (inner->cancelled()) {
      outer_->cancel(nullptr);
    } else if (auto e = inner->exception()) {
      outer_->set_exception(e);
    } else {
      auto& o = static_cast<value_holder<T, future_core>&>(*outer_);
      if constexpr (!std::is_void_v<T>) o.emplace_value(take_value<T>(*inner));
      o.finish_with_value();
    }
  }

  // Registered on the outer future, which the state does not own: when the outer completes or is
  // dropped, the state forgets it, so inner_done never touches a dead future.
  static void outer_done(void* ctx, future_core*, cb_op op) {
    auto* s = static_cast<shield_state*>(ctx);
    s->outer_ = nullptr;
    if (op == cb_op::invoke && !s->inner_->done())
      unbind_callback<shield_state, &shield_state::inner_done>(*s->inner_, s);
    s->release();
  }

private:
  future_core* inner_;
  future_core* outer_;
};

}  // namespace detail

template <class A>
  requires detail::awaitable_arg<A>
future<detail::arg_value_t<A>> shield(A&& aw) {
  using T = detail::arg_value_t<A>;
  future<T> inner = detail::ensure_future(std::forward<A>(aw));
  if (inner.done() || detail::mutant::is(detail::mutant::shield_passes_cancel)) return inner;
  future<T> outer(inner.get_loop());
  auto* s = new detail::shield_state<T>(inner.core_ptr(), outer.core_ptr());
  inner.core_ptr()->add_done_callback(
      detail::bind_callback<detail::shield_state<T>, &detail::shield_state<T>::inner_done>(s));
  outer.core_ptr()->add_done_callback({&detail::shield_state<T>::outer_done, s});  // takes s's own reference
  return outer;
}

}  // namespace coroscope
