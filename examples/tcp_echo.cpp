// The TCP echo server and client of the asyncio docs ("Streams": TCP echo client / TCP echo server), in one
// program: the server listens on a free loopback port and the client learns it from the server.
//
//   async def handle_echo(reader, writer):
//       data = await reader.read(100)
//       message = data.decode()
//       addr = writer.get_extra_info('peername')
//       print(f"Received {message!r} from {addr!r}")
//       print(f"Send: {message!r}")
//       writer.write(data)
//       await writer.drain()
//       print("Close the connection")
//       writer.close()
//       await writer.wait_closed()
//
//   async def tcp_echo_client(message):
//       reader, writer = await asyncio.open_connection('127.0.0.1', 8888)
//       print(f'Send: {message!r}')
//       writer.write(message.encode())
//       await writer.drain()
//       data = await reader.read(100)
//       print(f'Received: {data.decode()!r}')
//       print('Close the connection')
//       writer.close()
//       await writer.wait_closed()
//
// Ports change from run to run, so only hosts are printed.
#include <coroscope/coroscope.hpp>

#include <cstdint>
#include <cstdio>
#include <string>

namespace cs = coroscope;
using cs::task;

task<void> handle_echo(cs::stream_reader reader, cs::stream_writer writer) {
  const std::string data = co_await reader.read(100);
  const std::string host = writer.peername()->host();
  std::printf("[server] Received '%s' from %s\n", data.c_str(), host.c_str());
  std::printf("[server] Send: '%s'\n", data.c_str());
  writer.write(data);
  co_await writer.drain();
  std::printf("[server] Close the connection\n");
  writer.close();
  co_await writer.wait_closed();
}

task<void> tcp_echo_client(std::string message, std::uint16_t port) {
  auto [reader, writer] = co_await cs::open_connection("127.0.0.1", port);
  std::printf("[client] Send: '%s'\n", message.c_str());
  writer.write(message);
  co_await writer.drain();
  const std::string data = co_await reader.read(100);
  std::printf("[client] Received: '%s'\n", data.c_str());
  std::printf("[client] Close the connection\n");
  writer.close();
  co_await writer.wait_closed();
}

task<void> amain() {
  cs::server server = co_await cs::start_server(handle_echo, "127.0.0.1", 0);
  const std::string host = server.sockets().at(0).host();
  std::printf("[server] Serving on %s\n", host.c_str());
  const std::uint16_t port = server.ports().at(0);
  // async with server: closed, and its connections finished, when the client is done.
  co_await cs::async_with(server, [port](cs::server&) -> task<void> {
    auto client = tcp_echo_client("Hello World!", port);
    co_await std::move(client);
  });
}

int main() { cs::run(amain()); }
