#pragma once
// asyncio's exception vocabulary in C++ spelling.
//
// Python splits exceptions into BaseException (not meant to be caught by "catch everything that is an
// error") and Exception. The C++ mirror: types deriving from std::exception are "Exception";
// coroscope::base_exception is the BaseException-only branch. cancelled_error deliberately does NOT derive
// from std::exception, so `catch (const std::exception&)` does not swallow a cancellation (asyncio made the
// same move in 3.8, CAN-015).
#include <cstddef>
#include <exception>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <vector>

namespace coroscope {

namespace detail {
// Whether e holds an E. With libstdc++ (g++ and clang++ here) the catch clause's own matching is asked
// directly, on the stored object: no unwind, a few dozen instructions, so cancellation and failure can be
// classified on every completion. Elsewhere: one rethrow.
template <class E>
bool holds(const std::exception_ptr& e) noexcept {
  if (!e) return false;
#if defined(__GLIBCXX__) && defined(__GXX_RTTI)
  static_assert(sizeof(std::exception_ptr) == sizeof(void*), "libstdc++'s exception_ptr is one pointer");
  const std::type_info* thrown = e.__cxa_exception_type();
  void* object = *reinterpret_cast<void* const*>(&e);  // the thrown object (exception_ptr's only member)
  return thrown && typeid(E).__do_catch(thrown, &object, 1);
#else
  try {
    std::rethrow_exception(e);
  } catch (const E&) {
    return true;
  } catch (...) {
    return false;
  }
#endif
}
}  // namespace detail

// Root of the exceptions that are not errors in the std::exception sense (Python's BaseException minus
// Exception): cancellation, interpreter-exit analogues and groups holding them.
class base_exception {
public:
  base_exception() = default;
  explicit base_exception(std::string message) : message_(std::move(message)) {}
  base_exception(const base_exception&) = default;
  base_exception& operator=(const base_exception&) = default;
  virtual ~base_exception() = default;
  virtual const char* what() const noexcept { return message_.c_str(); }
  const std::string& message() const noexcept { return message_; }

private:
  std::string message_;
};

// asyncio.CancelledError. The message is the one given to cancel(msg); empty when none was given.
class cancelled_error : public base_exception {
public:
  cancelled_error() = default;
  explicit cancelled_error(std::string message) : base_exception(std::move(message)) {}
};

// SystemExit / KeyboardInterrupt: stored in the task like any exception, then re-raised out of the event
// loop itself (CAN-018) and bare out of task groups (TG-008).
class system_exit : public base_exception {
public:
  explicit system_exit(int code = 0) : base_exception("system exit " + std::to_string(code)), code_(code) {}
  int code() const noexcept { return code_; }

private:
  int code_;
};

class keyboard_interrupt : public base_exception {
public:
  keyboard_interrupt() : base_exception("keyboard interrupt") {}
};

// asyncio.TimeoutError (the builtin TimeoutError since 3.11). When raised because a cancellation was
// converted (wait_for, timeout scopes), it is thrown with std::throw_with_nested, so the CancelledError is
// reachable through std::rethrow_if_nested, the C++ spelling of __cause__.
class timeout_error : public std::runtime_error {
public:
  timeout_error() : std::runtime_error("timeout") {}
  explicit timeout_error(const std::string& what) : std::runtime_error(what) {}
};

// asyncio's RuntimeError('Event loop is closed'): raised by a closed loop's scheduling functions, and by a
// future or task handle used after its loop is gone (set_result, set_exception, cancel, add_done_callback,
// co_await, and reading the result of one that never finished). A future that finished before its loop
// went keeps its outcome: result(), exception(), done() and cancelled() still work.
class loop_closed_error : public std::runtime_error {
public:
  loop_closed_error() : std::runtime_error("coroscope: the future's event loop is closed") {}
  explicit loop_closed_error(const std::string& what) : std::runtime_error(what) {}
};

// asyncio.InvalidStateError: result() of a pending future, a second set_result(), ...
class invalid_state_error : public std::runtime_error {
public:
  explicit invalid_state_error(const std::string& what) : std::runtime_error(what) {}
};

// BaseExceptionGroup: raised by task_group when a member is not a std::exception.
class base_exception_group : public base_exception {
public:
  base_exception_group(std::string message, std::vector<std::exception_ptr> exceptions)
      : base_exception(std::move(message)), exceptions_(std::move(exceptions)) {}
  const std::vector<std::exception_ptr>& exceptions() const noexcept { return exceptions_; }

  // The nearest C++ has to `except* E`: how many direct members are an E.
  template <class E>
  std::size_t count() const {
    std::size_t n = 0;
    for (const auto& e : exceptions_) n += detail::holds<E>(e) ? 1 : 0;
    return n;
  }
  template <class E>
  bool contains() const {
    return count<E>() != 0;
  }

private:
  std::vector<std::exception_ptr> exceptions_;
};

// ExceptionGroup: every member derives from std::exception, so the group is one too and is caught by
// `catch (const std::exception&)`, exactly as ExceptionGroup is caught by `except Exception`.
class exception_group : public base_exception_group, public std::exception {
public:
  using base_exception_group::base_exception_group;
  const char* what() const noexcept override { return base_exception_group::what(); }
};

// Builds exception_group when every member is a std::exception, base_exception_group otherwise, like
// BaseExceptionGroup.__new__ does.
std::exception_ptr make_exception_group(std::string message, std::vector<std::exception_ptr> exceptions);

namespace detail {
// Classification (holds<E>: no unwind with libstdc++).
bool is_cancelled_error(const std::exception_ptr& e) noexcept;
bool is_fatal_error(const std::exception_ptr& e) noexcept;       // system_exit or keyboard_interrupt
bool is_std_exception(const std::exception_ptr& e) noexcept;
std::string describe(const std::exception_ptr& e);                // "type: message" for logs
}  // namespace detail

}  // namespace coroscope
