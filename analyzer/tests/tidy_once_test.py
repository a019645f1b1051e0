#!/usr/bin/env python3
"""The clang-tidy plugin analyses each translation unit once, however many coroscope checks are enabled, and
still reports each finding under its own check's name.

usage: tidy_once_test.py <clang-tidy> <plugin.so> <corpus dir>
"""
import os
import re
import subprocess
import sys


def main(tidy, plugin, corpus):
    files = [os.path.join(corpus, "transitive.cpp"), os.path.join(corpus, "locks.cpp")]
    env = dict(os.environ, COROSCOPE_TIDY_DEBUG="1")
    proc = subprocess.run([tidy, "-load", plugin, "-checks=-*,coroscope-*", *files, "--", "-std=c++20",
                           "-I" + corpus], capture_output=True, text=True, env=env)
    problems = []
    analysed = re.findall(r"^coroscope-tidy: analysed (\S+) once for (.*)$", proc.stderr, re.M)
    per_file = {}
    for path, rules in analysed:
        per_file[os.path.realpath(path)] = per_file.get(os.path.realpath(path), 0) + 1
        if set(rules.split()) != {"blocking-call", "transitive-blocking-call", "lock-held-across-await",
                                  "discarded-task", "blocking-lock", "dangling-task-reference"}:
            problems.append("analysis of %s ran for %s, expected all six rules" % (path, rules))
    for f in files:
        if per_file.get(os.path.realpath(f), 0) != 1:
            problems.append("%s analysed %d times, expected once" % (f, per_file.get(os.path.realpath(f), 0)))
    checks = set(re.findall(r"\[(coroscope-[a-z-]+)\]$", proc.stdout, re.M))
    want = {"coroscope-transitive-blocking-call", "coroscope-lock-held-across-await", "coroscope-blocking-lock"}
    if not want <= checks:
        problems.append("checks reported: %s, expected at least %s" % (sorted(checks), sorted(want)))
    for p in problems:
        print(p)
    if problems:
        print(proc.stdout + proc.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
