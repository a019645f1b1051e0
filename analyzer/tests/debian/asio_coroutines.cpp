// Real code shipped by Debian (libasio-dev): Asio's own coroutine machinery (co_spawn, awaitable operators)
// instantiated by ordinary use, linted as the project's code (debian_asio_test.py puts Asio behind a
// non-system include path). Asio's coroutines must give no findings; synchronous Asio calls made from a
// coroutine are real transitive blocking calls through Asio's implementation down to ::poll.
#include <asio.hpp>
#include <asio/experimental/awaitable_operators.hpp>

using namespace asio::experimental::awaitable_operators;

asio::awaitable<void> a();
asio::awaitable<int> b();

asio::awaitable<void> both() {
  co_await (a() && b());
  co_await (a() || b());
  int x = co_await (a() && b() && a());
  (void)x;
}

asio::awaitable<void> echo(asio::ip::tcp::socket s) {
  char data[64];
  for (;;) {
    auto n = co_await s.async_read_some(asio::buffer(data), asio::use_awaitable);
    co_await asio::async_write(s, asio::buffer(data, n), asio::use_awaitable);
  }
}

asio::awaitable<void> mixed(asio::ip::tcp::socket& s) {
  char data[64];
  co_await s.async_read_some(asio::buffer(data), asio::use_awaitable);
  asio::read(s, asio::buffer(data));  // expect: transitive-blocking-call
  s.write_some(asio::buffer(data, 1));  // expect: transitive-blocking-call
}

int main() {
  asio::io_context io;
  asio::co_spawn(io, both(), asio::detached);
  io.run();
}
