#!/usr/bin/env python3
"""Runs one benchmark suite and checks the Google Benchmark JSON it wrote.

Google Benchmark exits 0 even when a benchmark errors or a filter matches nothing, so the JSON is what
must be checked: the runtime named in the context, exactly the expected benchmark names, no error, and
finite positive times. Usage: check_json.py --runtime R --expect NAME... --out FILE -- COMMAND...
Exit 0 when all checks pass, 1 when one fails, 2 on usage errors.
"""
import argparse
import json
import math
import subprocess
import sys


def main():
    argv = sys.argv[1:]
    if "--" not in argv:
        print("usage: check_json.py --runtime R --expect NAME... --out FILE -- COMMAND...", file=sys.stderr)
        return 2
    split = argv.index("--")
    parser = argparse.ArgumentParser()
    parser.add_argument("--runtime", required=True)
    parser.add_argument("--expect", nargs="+", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv[:split])
    command = argv[split + 1:]

    run = subprocess.run(command)
    if run.returncode != 0:
        print(f"FAIL: {command[0]} exited {run.returncode}")
        return 1
    with open(args.out) as f:
        doc = json.load(f)  # Python reads the bare NaN/Infinity Google Benchmark may write
    problems = []
    runtime = doc.get("context", {}).get("runtime")
    if runtime != args.runtime:
        problems.append(f"context.runtime is {runtime!r}, expected {args.runtime!r}")
    names = set()
    for i, b in enumerate(doc.get("benchmarks", [])):
        name = b.get("run_name", b.get("name"))
        names.add(name)
        if b.get("error_occurred"):
            problems.append(f"{name}: errored: {b.get('error_message')}")
            continue
        if b.get("run_type", "iteration") != "iteration":
            continue
        for field in ("cpu_time", "real_time"):
            v = b.get(field)
            if not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
                problems.append(f"benchmarks[{i}] {name}: {field} is {v!r}")
        if name.startswith("BM_Memory/"):
            v = b.get("bytes_per_task")
            if not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
                problems.append(f"{name}: bytes_per_task counter is {v!r}")
    expected = set(args.expect)
    if names != expected:
        problems.append(f"names differ: missing {sorted(expected - names)}, unexpected {sorted(names - expected)}")
    for p in problems:
        print("FAIL:", p)
    if not problems:
        print(f"ok: {args.runtime}: {len(names)} benchmarks, no errors")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
