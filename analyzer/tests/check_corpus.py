#!/usr/bin/env python3
"""Runs coroscope-lint on corpus files and compares its findings with the `// expect: <rule>[, <rule>]`
annotations on their lines. Fails on any missed or extra finding, and on a wrong exit code.

usage: check_corpus.py <coroscope-lint> <file.cpp>... [-- <extra lint args>]
       check_corpus.py --tidy <clang-tidy> <plugin.so> <file.cpp>...   (the clang-tidy module instead)
"""
import json
import os
import re
import subprocess
import sys

EXPECT = re.compile(r"expect:\s*([a-z-]+(?:\s*,\s*[a-z-]+)*)")


def expectations(path):
    found = set()
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            m = EXPECT.search(line)
            if m:
                for rule in m.group(1).split(","):
                    found.add((os.path.realpath(path), number, rule.strip()))
    return found


TIDY_LINE = re.compile(r"^(.*):(\d+):(\d+): warning: (.*) \[coroscope-([a-z-]+)\]$")


def run_tidy(tidy, plugin, files, include):
    """Findings in coroscope-lint's JSON shape, from clang-tidy's output; exit code as coroscope-lint's."""
    cmd = [tidy, "-load", plugin, "-checks=-*,coroscope-*,-coroscope-blocking-lock", *files, "--",
           "-std=c++20", "-I" + include]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    findings = []
    for line in proc.stdout.splitlines():
        m = TIDY_LINE.match(line)
        if m:
            findings.append({"file": m.group(1), "line": int(m.group(2)), "column": int(m.group(3)),
                             "message": m.group(4), "rule": m.group(5)})
    if proc.returncode != 0:
        return 2, {"findings": findings}, proc.stdout + proc.stderr
    return (1 if findings else 0), {"findings": findings}, ""


def main(argv):
    include = os.path.dirname(os.path.abspath(__file__)) + "/corpus"
    if argv[1] == "--tidy":
        rc, report, err = run_tidy(argv[2], argv[3], argv[4:], include)
        return compare(argv[4:], rc, report, err)
    if "--" in argv:
        split = argv.index("--")
        argv, extra = argv[:split], argv[split + 1:]
    else:
        extra = []
    lint, files = argv[1], argv[2:]
    cmd = [lint, "--format=json", *extra, *files, "--", "-std=c++20", "-I" + include]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    return compare(files, proc.returncode, json.loads(proc.stdout) if proc.stdout else None, proc.stderr)


def compare(files, returncode, report, stderr):
    if returncode == 2:
        print("the linter failed (exit 2):\n" + stderr)
        return 1
    got = {}
    for f in report["findings"]:
        key = (os.path.realpath(f["file"]), f["line"], f["rule"])
        got.setdefault(key, []).append(f)
    want = set()
    for path in files:
        want |= expectations(path)
    errors = []
    for key in sorted(want - set(got)):
        errors.append("missed: %s:%d: expected [%s]" % key)
    for key in sorted(set(got) - want):
        for f in got[key]:
            errors.append("extra: %s:%d:%d: %s [%s]" % (key[0], f["line"], f["column"], f["message"], f["rule"]))
    for key, items in got.items():
        if len(items) > 1 and key in want:
            errors.append("reported %d times: %s:%d [%s]" % (len(items), *key))
    expected_rc = 1 if want else 0
    if returncode != expected_rc:
        errors.append("exit code %d, expected %d" % (returncode, expected_rc))
    for e in errors:
        print(e)
    print("%d expected, %d reported, %d problems" % (len(want), len(report["findings"]), len(errors)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
