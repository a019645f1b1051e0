#!/usr/bin/env python3
"""Benchmark (not a test): coroscope-lint's time per translation unit against `clang++-19 -fsyntax-only` on
the same TU, and the speed-up of -j 2 over -j 1. Parsing should dominate: the goal is a ratio <= 1.25.

usage: bench.py <coroscope-lint> [--repeat N] [--project DIR]
  --project DIR  also time the project's runtime sources (DIR/runtime/src, -I DIR/runtime/include)
"""
import argparse
import glob
import os
import statistics
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.normpath(os.path.join(HERE, "..", "tests", "corpus"))
SKIP = {"broken.cpp"}


def timed(cmd, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("lint")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--project")
    ap.add_argument("--clang", default="clang++-19")
    a = ap.parse_args()

    groups = [("corpus", sorted(f for f in glob.glob(CORPUS + "/**/*.cpp", recursive=True)
                                if os.path.basename(f) not in SKIP), ["-std=c++20", "-I" + CORPUS])]
    if a.project:
        inc = os.path.join(a.project, "runtime", "include")
        groups.append(("runtime", sorted(glob.glob(os.path.join(a.project, "runtime", "src", "*.cpp"))),
                       ["-std=c++20", "-I" + inc]))

    print("%-40s %10s %10s %7s" % ("translation unit", "clang s", "lint s", "ratio"))
    for name, files, flags in groups:
        total_c = total_l = 0.0
        for f in files:
            c = timed([a.clang, "-fsyntax-only", "-w", *flags, f], a.repeat)
            l = timed([a.lint, "-j", "1", f, "--", *flags], a.repeat)
            total_c += c
            total_l += l
            print("%-40s %10.3f %10.3f %7.2f" % (os.path.relpath(f, os.path.dirname(CORPUS) if name == "corpus"
                                                                else a.project), c, l, l / c))
        print("%-40s %10.3f %10.3f %7.2f" % ("== %s total (%d TUs)" % (name, len(files)), total_c, total_l,
                                             total_l / total_c))
        j1 = timed([a.lint, "-j", "1", *files, "--", *flags], a.repeat)
        j2 = timed([a.lint, "-j", "2", *files, "--", *flags], a.repeat)
        print("%-40s -j1 %.3f s, -j2 %.3f s, speed-up %.2fx" % ("== %s in one run" % name, j1, j2, j1 / j2))


if __name__ == "__main__":
    main()
