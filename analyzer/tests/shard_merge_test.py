#!/usr/bin/env python3
"""`--shard K/N` + `coroscope-lint merge` equals the unsharded run, in JSON and SARIF, on the project's own
sources (runtime/src) and examples, plus the cross-TU corpus pair (a chain from a coroutine in one shard to a
blocking call in another, so the merge must solve the transitive analysis over every shard's summaries).
Also: shards are deterministic and disjoint, and merge rejects bad input with exit 2 naming the file.

usage: shard_merge_test.py <coroscope-lint> <repository root>
"""
import glob
import json
import os
import subprocess
import sys
import tempfile

SHARDS = 3


def run(*args):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True)


def main(lint, root):
    root = os.path.realpath(root)
    corpus = os.path.join(root, "analyzer", "tests", "corpus")
    files = sorted(glob.glob(os.path.join(root, "runtime", "src", "*.cpp")) +
                   glob.glob(os.path.join(root, "examples", "*.cpp")) +
                   [os.path.join(corpus, "cross_tu", "log.cpp"), os.path.join(corpus, "cross_tu", "server.cpp")])
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        db = [{"directory": tmp, "file": f,
               "arguments": ["clang++-19", "-std=c++20", "-I" + os.path.join(root, "runtime", "include"),
                             "-I" + corpus, "-c", f]} for f in files]
        with open(os.path.join(tmp, "compile_commands.json"), "w") as out:
            json.dump(db, out)
        common = ["-p", tmp, "--root", root, "-j", "2"]

        def lint_run(*extra):
            proc = run(lint, *common, *extra)
            if proc.returncode not in (0, 1):
                problems.append("lint %s exited %d: %s" % (" ".join(extra), proc.returncode, proc.stderr))
            return proc

        # Two passes over the files in all: the whole run, and the shards (two write JSON, one SARIF, so
        # merge reads both formats).
        out = os.path.join(tmp, "whole.json")
        lint_run("--format", "json", "-o", out)
        with open(out) as f:
            whole = json.load(f)
        chain = [f for f in whole["findings"] if f["file"].endswith("cross_tu/server.cpp")]
        if len(chain) != 1 or "open_log -> (anonymous namespace)::write_header -> fopen" not in chain[0]["message"]:
            problems.append("unsharded run: cross-TU chain not found: %s" % chain)

        shard_files = {}
        outs = []
        for k in range(1, SHARDS + 1):
            fmt = "sarif" if k == SHARDS else "json"
            out = os.path.join(tmp, "shard-%d.%s" % (k, fmt))
            lint_run("--shard", "%d/%d" % (k, SHARDS), "--format", fmt, "-o", out)
            outs.append(out)
            with open(out) as f:
                doc = json.load(f)
            if fmt == "json":
                shard_files[k] = doc["summary"]["files"]
                reported = [x["rule"] for x in doc["findings"]]
            else:
                shard_files[k] = doc["runs"][0]["properties"]["coroscopeLint"]["summary"]["files"]
                reported = [x["ruleId"] for x in doc["runs"][0]["results"]]
            if "transitive-blocking-call" in reported:
                problems.append("shard %d reported transitive findings itself" % k)
        expected_rc = 1 if whole["findings"] else 0
        for fmt in ("json", "sarif"):
            merged = os.path.join(tmp, "merged." + fmt)
            proc = run(lint, "merge", "--format", fmt, "-o", merged, *outs)
            if proc.returncode != expected_rc:
                problems.append("merge (%s) exited %d: %s" % (fmt, proc.returncode, proc.stderr))
                continue
            with open(merged) as f:
                doc = json.load(f)
            if fmt == "json":
                if doc["findings"] != whole["findings"]:
                    problems.append("merged JSON findings differ from the unsharded run")
                if doc["summary"] != whole["summary"]:
                    problems.append("merged summary %s, unsharded %s" % (doc["summary"], whole["summary"]))
            else:
                got = [r["properties"]["coroscopeLint"] for r in doc["runs"][0]["results"]]
                if got != whole["findings"]:
                    problems.append("merged SARIF results differ from the unsharded run")
        if sum(shard_files.values()) != len(files):
            problems.append("shards cover %d files, expected %d" % (sum(shard_files.values()), len(files)))
        server = files.index(os.path.join(corpus, "cross_tu", "server.cpp"))
        log = files.index(os.path.join(corpus, "cross_tu", "log.cpp"))
        if server % SHARDS == log % SHARDS:
            problems.append("the cross-TU pair landed in one shard; the test no longer crosses shards")

        # Bad input: exit 2, the message names the file and the field.
        bad = os.path.join(tmp, "bad.json")
        with open(bad, "w") as f:
            json.dump({"version": 1, "findings": [{"rule": "blocking-call"}]}, f)
        proc = run(lint, "merge", bad)
        if proc.returncode != 2 or "bad.json: findings[0]" not in proc.stderr:
            problems.append("bad input: exit %d, stderr %r" % (proc.returncode, proc.stderr))
        proc = run(lint, "--shard", "4/3", os.path.join(corpus, "clean.cpp"), "--", "-std=c++20")
        if proc.returncode != 2 or "--shard" not in proc.stderr:
            problems.append("--shard 4/3: exit %d, stderr %r" % (proc.returncode, proc.stderr))
        proc = run(lint, "merge", "-o", os.path.join(tmp, "shard-1.json"), os.path.join(tmp, "shard-1.json"))
        if proc.returncode != 2 or "refusing to overwrite" not in proc.stderr:
            problems.append("merge over its input: exit %d, stderr %r" % (proc.returncode, proc.stderr))
    for p in problems:
        print(p)
    print("ok" if not problems else "%d problems" % len(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
