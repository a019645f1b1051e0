#pragma once
// Small value types the combinators return.
#include <coroscope/exceptions.hpp>

#include <exception>
#include <utility>
#include <variant>

namespace coroscope {

// What a void child contributes to gather's tuple: Python's None.
struct none_t {
  friend constexpr bool operator==(none_t, none_t) noexcept { return true; }
};
inline constexpr none_t none{};

template <class T>
using result_slot_t = std::conditional_t<std::is_void_v<T>, none_t, T>;

// A child's result or its exception: what gather(return_exceptions, ...) puts in each slot (GAT-003).
template <class T>
class outcome {
public:
  outcome(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  outcome(std::exception_ptr error) : v_(std::in_place_index<1>, std::move(error)) {}

  bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }
  // The value, or rethrows the exception.
  const T& value() const& {
    if (!has_value()) std::rethrow_exception(std::get<1>(v_));
    return std::get<0>(v_);
  }
  T&& value() && {
    if (!has_value()) std::rethrow_exception(std::get<1>(v_));
    return std::get<0>(std::move(v_));
  }
  std::exception_ptr error() const noexcept { return has_value() ? nullptr : std::get<1>(v_); }
  // True when the slot holds an exception of type E (e.g. cancelled_error, GAT-007).
  template <class E>
  bool holds() const noexcept {
    return !has_value() && detail::holds<E>(std::get<1>(v_));
  }

private:
  std::variant<T, std::exception_ptr> v_;
};

}  // namespace coroscope
