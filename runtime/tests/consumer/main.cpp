#include <coroscope/coroscope.hpp>

#include <cstdio>

using namespace std::chrono_literals;

coroscope::task<int> answer() {
  co_await coroscope::sleep(1ms);
  co_return 42;
}

int main() {
  int v = coroscope::run([]() -> coroscope::task<int> {
    auto [a] = co_await coroscope::gather(answer());
    co_return a;
  }());
  std::printf("consumer got %d\n", v);
  return v == 42 ? 0 : 1;
}
