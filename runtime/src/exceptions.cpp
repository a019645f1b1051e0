#include <coroscope/detail/mutant.hpp>
#include <coroscope/exceptions.hpp>

#include <cstdlib>
#include <cxxabi.h>
#include <memory>
#include <typeinfo>

namespace coroscope {

std::exception_ptr make_exception_group(std::string message, std::vector<std::exception_ptr> exceptions) {
  bool all_std = true;
  for (const auto& e : exceptions) all_std = all_std && detail::is_std_exception(e);
  if (all_std) return std::make_exception_ptr(exception_group(std::move(message), std::move(exceptions)));
  return std::make_exception_ptr(base_exception_group(std::move(message), std::move(exceptions)));
}

namespace detail {

#if defined(COROSCOPE_MUTANTS)
int mutant::active() noexcept {
  static const int n = [] {
    const char* v = std::getenv("COROSCOPE_MUTANT");
    return v ? std::atoi(v) : 0;
  }();
  return n;
}
#endif

bool is_cancelled_error(const std::exception_ptr& e) noexcept { return holds<cancelled_error>(e); }

bool is_fatal_error(const std::exception_ptr& e) noexcept {
  return holds<system_exit>(e) || holds<keyboard_interrupt>(e);
}

bool is_std_exception(const std::exception_ptr& e) noexcept { return holds<std::exception>(e); }

namespace {
std::string type_name(const std::type_info& t) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> n(abi::__cxa_demangle(t.name(), nullptr, nullptr, &status), std::free);
  return status == 0 && n ? n.get() : t.name();
}
}  // namespace

std::string describe(const std::exception_ptr& e) {
  if (!e) return "no exception";
  try {
    std::rethrow_exception(e);
  } catch (const cancelled_error& x) {
    return x.message().empty() ? "cancelled_error" : "cancelled_error: " + x.message();
  } catch (const base_exception& x) {
    return type_name(typeid(x)) + ": " + x.what();
  } catch (const std::exception& x) {
    return type_name(typeid(x)) + ": " + x.what();
  } catch (...) {
    return "unknown exception";
  }
}

}  // namespace detail
}  // namespace coroscope
