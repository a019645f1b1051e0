// A concurrent fetcher, the classic asyncio demo: download N resources one after the other, then all at
// once with gather, and compare. The example starts its own small HTTP/1.0 server on loopback; every
// response takes a while (a slow backend), which is what concurrency hides.
//
//   async def fetch(port, path):
//       reader, writer = await asyncio.open_connection('127.0.0.1', port)
//       writer.write(f'GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n'.encode())
//       headers = await reader.readuntil(b'\r\n\r\n')
//       body = await reader.read()
//       writer.close()
//       await writer.wait_closed()
//       return len(body)
//
//   sizes = [await fetch(port, p) for p in paths]                       # sequential
//   sizes = await asyncio.gather(*(fetch(port, p) for p in paths))       # concurrent
//
// Times vary from run to run, so they go to stderr; stdout says which way was faster, as a word.
#include <coroscope/coroscope.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <utility>
#include <string>
#include <vector>

namespace cs = coroscope;
using cs::task;
using namespace std::chrono_literals;

constexpr int resources = 5;
constexpr auto backend_delay = 100ms;

std::size_t resource_size(int i) { return 1000u * static_cast<std::size_t>(i + 1); }

// The server: GET /resource/<i> answers resource_size(i) bytes after backend_delay.
task<void> serve_http(cs::stream_reader reader, cs::stream_writer writer) {
  const std::string request = co_await reader.readuntil("\r\n\r\n");
  const auto start = request.find(' ') + 1;
  const std::string path = request.substr(start, request.find(' ', start) - start);
  const std::string prefix = "/resource/";
  std::string status = "404 Not Found";
  std::string body = "no such resource\n";
  if (path.rfind(prefix, 0) == 0) {
    status = "200 OK";
    body.assign(resource_size(std::stoi(path.substr(prefix.size()))), 'x');
  }
  co_await cs::sleep(backend_delay);
  writer.write("HTTP/1.0 " + status + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n");
  writer.write(body);
  co_await writer.drain();
  writer.close();
  co_await writer.wait_closed();
}

task<std::size_t> fetch(std::uint16_t port, std::string path) {
  auto [reader, writer] = co_await cs::open_connection("127.0.0.1", port);
  writer.write("GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
  const std::string headers = co_await reader.readuntil("\r\n\r\n");
  const std::string body = co_await reader.read();  // HTTP/1.0: the body ends with the connection
  writer.close();
  co_await writer.wait_closed();
  if (headers.rfind("HTTP/1.0 200", 0) != 0) throw std::runtime_error("fetch " + path + ": " + headers);
  co_return body.size();
}

std::string path_of(int i) { return "/resource/" + std::to_string(i); }

void print_sizes(const char* mode, const std::vector<std::size_t>& sizes) {
  std::printf("%s:\n", mode);
  for (int i = 0; i < resources; ++i)
    std::printf("  %s: %zu bytes\n", path_of(i).c_str(), sizes[static_cast<std::size_t>(i)]);
}

task<void> amain(std::pair<double, double>& timings) {
  cs::server server = co_await cs::start_server(serve_http, "127.0.0.1", 0);
  const std::uint16_t port = server.ports().at(0);
  auto& loop = cs::get_running_loop();

  double t0 = loop.time();
  std::vector<std::size_t> sizes;
  for (int i = 0; i < resources; ++i) {
    auto one = fetch(port, path_of(i));
    sizes.push_back(co_await std::move(one));
  }
  const double sequential = loop.time() - t0;
  print_sizes("sequential", sizes);

  t0 = loop.time();
  std::vector<task<std::size_t>> all;
  for (int i = 0; i < resources; ++i) all.push_back(fetch(port, path_of(i)));
  sizes = co_await cs::gather(std::move(all));
  const double concurrent = loop.time() - t0;
  print_sizes("concurrent", sizes);

  timings = {sequential, concurrent};
  std::printf("faster: %s\n", concurrent < sequential ? "concurrent" : "sequential");
  server.close();
  co_await server.wait_closed();
}

int main() {
  std::pair<double, double> timings;
  cs::run(amain(timings));
  // The times vary from run to run, so they go to stderr, printed once the loop is gone.
  std::fprintf(stderr, "sequential %.3f s, concurrent %.3f s\n", timings.first, timings.second);
}
