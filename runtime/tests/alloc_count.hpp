#pragma once
// Counts the calls to the global operator new made by this thread while an allocation_count is alive, for
// tests that pin down "allocates nothing". It replaces operator new for the whole test binary, so include
// it from the one source file of a test executable only.
#include <cstddef>
#include <cstdlib>
#include <new>

namespace alloc_count_detail {
inline thread_local bool counting = false;
inline thread_local long count = 0;
}  // namespace alloc_count_detail

// g++ pairs the free() below with operator new at every inlined call site and warns; they do match here.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(std::size_t n) {
  if (alloc_count_detail::counting) ++alloc_count_detail::count;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

class allocation_count {
public:
  allocation_count() noexcept {
    alloc_count_detail::count = 0;
    alloc_count_detail::counting = true;
  }
  allocation_count(const allocation_count&) = delete;
  allocation_count& operator=(const allocation_count&) = delete;
  ~allocation_count() { alloc_count_detail::counting = false; }
  long so_far() const noexcept { return alloc_count_detail::count; }
};
