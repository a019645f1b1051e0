#pragma once
// A per-thread size-class free list for coroutine frames and the loop's small nodes.
//
// Why: a spawned task costs one frame allocation, and malloc+free (~8 ns here) is half of the physical
// floor for spawning (~15 ns). Frames of one coroutine function all have the same size, so a free list per
// 16-byte size class turns the steady state into two pointer moves. Blocks go back to the list of the
// thread that frees them; lists are returned to the system when their thread exits.
#include <cstddef>
#include <new>

namespace coroscope::detail {

class frame_pool {
public:
  static constexpr std::size_t granularity = 16;
  static constexpr std::size_t max_pooled = 1024;  // larger frames go straight to operator new
  static constexpr std::size_t classes = max_pooled / granularity;

  static void* allocate(std::size_t n) {
    if (bypass || n > max_pooled || n == 0) return ::operator new(n);
    auto& list = lists()[index(n)];
    if (list.head) {
      node* b = list.head;
      list.head = b->next;
      --list.count;
      return b;
    }
    return ::operator new(round_up(n));
  }

  static void deallocate(void* p, std::size_t n) noexcept {
    if (bypass || n > max_pooled || n == 0) return ::operator delete(p);
    auto& list = lists()[index(n)];
    if (list.count >= max_cached_per_class) return ::operator delete(p);
    auto* b = static_cast<node*>(p);
    b->next = list.head;
    list.head = b;
    ++list.count;
  }

private:
  // Under AddressSanitizer every frame gets its own allocation, so a use-after-free of a frame is reported
  // instead of being hidden by reuse.
#if defined(__SANITIZE_ADDRESS__) || defined(COROSCOPE_NO_FRAME_POOL)
  static constexpr bool bypass = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  static constexpr bool bypass = true;
#else
  static constexpr bool bypass = false;
#endif
#else
  static constexpr bool bypass = false;
#endif
  struct node { node* next; };
  struct free_list {
    node* head = nullptr;
    std::size_t count = 0;
  };
  struct lists_holder {
    free_list l[classes];
    ~lists_holder() {
      for (auto& fl : l)
        while (fl.head) {
          node* n = fl.head;
          fl.head = n->next;
          ::operator delete(n);
        }
    }
  };
  // Bounded so that a burst of a million tasks does not pin its memory forever.
  static constexpr std::size_t max_cached_per_class = 1u << 16;

  static constexpr std::size_t index(std::size_t n) { return (n - 1) / granularity; }
  static constexpr std::size_t round_up(std::size_t n) { return (index(n) + 1) * granularity; }
  static free_list* lists() {
    thread_local lists_holder holder;
    return holder.l;
  }
};

// Mixin giving a class pooled operator new/delete.
struct pooled {
  static void* operator new(std::size_t n) { return frame_pool::allocate(n); }
  static void operator delete(void* p, std::size_t n) noexcept { frame_pool::deallocate(p, n); }
};

}  // namespace coroscope::detail
