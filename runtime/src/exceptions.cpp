#include <coroscope/exceptions.hpp>

#include <typeinfo>

namespace coroscope {

std::exception_ptr make_exception_group(std::string message, std::vector<std::exception_ptr> exceptions) {
  bool all_std = true;
  for (const auto& e : exceptions) all_std = all_std && detail::is_std_exception(e);
  if (all_std) return std::make_exception_ptr(exception_group(std::move(message), std::move(exceptions)));
  return std::make_exception_ptr(base_exception_group(std::move(message), std::move(exceptions)));
}

namespace detail {

bool is_cancelled_error(const std::exception_ptr& e) noexcept {
  if (!e) return false;
  try {
    std::rethrow_exception(e);
  } catch (const cancelled_error&) {
    return true;
  } catch (...) {
    return false;
  }
}

bool is_fatal_error(const std::exception_ptr& e) noexcept {
  if (!e) return false;
  try {
    std::rethrow_exception(e);
  } catch (const system_exit&) {
    return true;
  } catch (const keyboard_interrupt&) {
    return true;
  } catch (...) {
    return false;
  }
}

bool is_std_exception(const std::exception_ptr& e) noexcept {
  if (!e) return false;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception&) {
    return true;
  } catch (...) {
    return false;
  }
}

std::string describe(const std::exception_ptr& e) {
  if (!e) return "no exception";
  try {
    std::rethrow_exception(e);
  } catch (const cancelled_error& x) {
    return x.message().empty() ? "cancelled_error" : "cancelled_error: " + x.message();
  } catch (const base_exception& x) {
    return std::string(typeid(x).name()) + ": " + x.what();
  } catch (const std::exception& x) {
    return std::string(typeid(x).name()) + ": " + x.what();
  } catch (...) {
    return "unknown exception";
  }
}

}  // namespace detail
}  // namespace coroscope
