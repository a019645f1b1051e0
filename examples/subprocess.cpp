// Running shell commands and reading their output (asyncio docs, "Subprocesses"):
//
//   async def run(cmd):
//       proc = await asyncio.create_subprocess_shell(
//           cmd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
//       stdout, stderr = await proc.communicate()
//       print(f'[{cmd!r} exited with {proc.returncode}]')
//       if stdout:
//           print(f'[stdout]\n{stdout.decode()}')
//       if stderr:
//           print(f'[stderr]\n{stderr.decode()}')
//   async def main():
//       await run('echo hello')
//       await run('echo oops >&2; exit 3')
//       await run('kill -TERM $$')
//   asyncio.run(main())
#include <coroscope/coroscope.hpp>

#include <cstdio>

using coroscope::task;

task<void> run(const char* cmd) {
  coroscope::subprocess_options opts;
  opts.std_out = opts.std_err = coroscope::stdio::pipe;
  auto spawn = coroscope::create_subprocess_shell(cmd, opts);
  coroscope::process proc = co_await std::move(spawn);
  auto talk = proc.communicate();
  auto [out, err] = co_await std::move(talk);
  std::printf("['%s' exited with %d]\n", cmd, *proc.returncode());
  if (!out.empty()) std::printf("[stdout]\n%s\n", out.c_str());
  if (!err.empty()) std::printf("[stderr]\n%s\n", err.c_str());
}

task<void> amain() {
  co_await run("echo hello");
  co_await run("echo oops >&2; exit 3");
  co_await run("kill -TERM $$");
}

int main() { coroscope::run(amain()); }
