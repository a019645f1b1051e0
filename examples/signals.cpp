// Handlers for SIGINT and SIGTERM (asyncio docs, "Event Loop": "Set signal handlers for SIGINT and
// SIGTERM"), with the program sending itself SIGTERM instead of waiting for a user:
//
//   def ask_exit(signame, done):
//       print(f"got signal {signame}: exit")
//       done.set_result(None)
//   async def main():
//       loop = asyncio.get_running_loop()
//       done = loop.create_future()
//       for signame in ('SIGINT', 'SIGTERM'):
//           loop.add_signal_handler(getattr(signal, signame), functools.partial(ask_exit, signame, done))
//       print("waiting for SIGINT or SIGTERM")
//       loop.call_later(0.01, os.kill, os.getpid(), signal.SIGTERM)
//       await done
//       print("removed:", loop.remove_signal_handler(signal.SIGTERM), loop.remove_signal_handler(signal.SIGTERM))
//   asyncio.run(main())
#include <coroscope/coroscope.hpp>

#include <csignal>
#include <cstdio>

#include <unistd.h>

using namespace std::chrono_literals;
using coroscope::task;

void ask_exit(const char* signame, coroscope::future<void>& done) {
  std::printf("got signal %s: exit\n", signame);
  done.set_result();
}

task<void> amain() {
  auto& loop = coroscope::get_running_loop();
  auto done = loop.create_future<void>();
  coroscope::add_signal_handler(loop, SIGINT, ask_exit, "SIGINT", std::ref(done));
  coroscope::add_signal_handler(loop, SIGTERM, ask_exit, "SIGTERM", std::ref(done));
  std::printf("waiting for SIGINT or SIGTERM\n");
  loop.call_later(10ms, [] { ::kill(::getpid(), SIGTERM); });
  co_await done;
  const bool first = coroscope::remove_signal_handler(loop, SIGTERM);
  const bool second = coroscope::remove_signal_handler(loop, SIGTERM);
  std::printf("removed: %s %s\n", first ? "True" : "False", second ? "True" : "False");
  coroscope::remove_signal_handler(loop, SIGINT);
}

int main() { coroscope::run(amain()); }
