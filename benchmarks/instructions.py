#!/usr/bin/env python3
"""Instructions per operation, by callgrind: `benchmarks/run.sh instructions` (see run.sh --help).

Each deterministic workload of each runtime runs twice under `valgrind --tool=callgrind`, once with N
iterations and once with 2N (the suites' own --iterations flag). Start-up, loop creation and every other
fixed cost appear in both runs, so (I(2N) - I(N)) / N is what one iteration costs, exactly and repeatably.
The result is Google Benchmark's JSON schema with the counters instructions_per_op (per iteration) and,
for workloads of N elements (gather, cancel), instructions_per_item; coroscope-report shows them beside
the times.

Workloads that depend on the clock, other threads or the kernel (timers, executor, echo, memory) are left
out: their counts would not repeat.

Exit status: 0 every workload measured, 1 a run failed, 2 usage error or a suite/valgrind missing.
"""
import argparse
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

# name -> N (iterations of the first run); sized so that each valgrind run takes about a second.
WORKLOADS = [
    ("BM_Spawn", 2000),
    ("BM_Resume", 4000),
    ("BM_PingPong", 2000),
    ("BM_Chain/depth:100", 100),
    ("BM_Gather/fanout:10", 400),
    ("BM_Gather/fanout:1000", 10),
    ("BM_Cancel/1000", 4),
    ("BM_WaitFor/overhead", 1000),
    ("BM_Queue/pipeline", 4000),
]
RUNTIMES = ("floor", "coroscope", "asio")


def die(msg, code=2):
    print(f"instructions: {msg}", file=sys.stderr)
    sys.exit(code)


def total_instructions(exe, name, iterations, tmp):
    out = os.path.join(tmp, "callgrind.out")
    cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", exe,
           f"--benchmark_filter=^{re.escape(name)}(/iterations:[0-9]+)?$", f"--iterations={iterations}",
           "--benchmark_repetitions=1"]
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {r.returncode}: {r.stderr.strip()[-400:]}")
    total = None
    with open(out) as f:
        for line in f:
            if line.startswith(("totals:", "summary:")):
                total = int(line.split()[1])
    os.unlink(out)
    if "Failed to match any benchmarks" in r.stderr:
        raise RuntimeError(f"{name}: the suite has no such benchmark")
    if total is None:
        raise RuntimeError(f"{name}: callgrind wrote no total")
    return total


def items_of(name):
    m = re.search(r"(?:fanout:|Cancel/)(\d+)$", name)
    return int(m.group(1)) if m else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="directory for <runtime>-instructions.json")
    ap.add_argument("--build", required=True, help="CMake build directory holding benchmarks/bench_*")
    ap.add_argument("--runtimes", default="floor coroscope", help=f"space-separated, of {' '.join(RUNTIMES)}")
    ap.add_argument("--filter", default=".", help="regex on workload names")
    ap.add_argument("--revision", default="unknown", help="git revision recorded in the context")
    a = ap.parse_args()
    if not shutil.which("valgrind"):
        die("valgrind is not installed (Debian: valgrind)")
    try:
        pick = re.compile(a.filter)
    except re.error as e:
        die(f"--filter: {e}")
    runtimes = a.runtimes.split()
    for rt in runtimes:
        if rt not in RUNTIMES:
            die(f"unknown runtime '{rt}' (instructions mode runs {' '.join(RUNTIMES)})")
    os.makedirs(a.out, exist_ok=True)
    failed = False
    for rt in runtimes:
        exe = os.path.join(a.build, "benchmarks", f"bench_{rt}")
        if not os.access(exe, os.X_OK):
            die(f"{rt}: {exe} is not built")
        entries = []
        with tempfile.TemporaryDirectory(prefix="coroscope-instr-") as tmp:
            for name, n in WORKLOADS:
                if not pick.search(name):
                    continue
                try:
                    i1 = total_instructions(exe, name, n, tmp)
                    i2 = total_instructions(exe, name, 2 * n, tmp)
                except RuntimeError as e:
                    print(f"instructions: {rt}: {e}", file=sys.stderr)
                    failed = True
                    continue
                per_op = (i2 - i1) / n
                entry = {"name": name, "run_name": name, "run_type": "iteration", "repetitions": 1,
                         "repetition_index": 0, "threads": 1, "iterations": n,
                         "real_time": 0, "cpu_time": 0, "time_unit": "ns",
                         "instructions_per_op": per_op}
                if items_of(name):
                    entry["instructions_per_item"] = per_op / items_of(name)
                entries.append(entry)
                extra = f", {entry['instructions_per_item']:.0f} per item" if "instructions_per_item" in entry else ""
                print(f"instructions: {rt} {name}: {per_op:.0f} per op{extra}", file=sys.stderr)
        doc = {"context": {"runtime": rt, "mode": "instructions", "git_revision": a.revision,
                           "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                           "measure": "valgrind --tool=callgrind, (I(2N) - I(N)) / N"},
               "benchmarks": entries}
        path = os.path.join(a.out, f"{rt}-instructions.json")
        with open(path, "w") as f:
            json.dump(doc, f, indent=2)
        print(f"instructions: wrote {path}", file=sys.stderr)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
