#!/usr/bin/env python3
"""Command-line behaviour of coroscope-lint: formats, exit codes, configs, baselines, compile databases.

usage: cli_test.py <coroscope-lint> <case>
"""
import json
import os
import pty
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
CXXFLAGS = ["--", "-std=c++20", "-I" + CORPUS]
LINT = None


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def run(*args, cwd=None):
    return subprocess.run([LINT, *args], capture_output=True, text=True, cwd=cwd)


def corpus(name):
    return os.path.join(CORPUS, name)


def expectations(paths):
    want = set()
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, start=1):
                m = re.search(r"expect:\s*([a-z-]+)", line)
                if m:
                    want.add((os.path.realpath(path), number, m.group(1)))
    return want


def case_json_shape():
    p = run("--format=json", corpus("transitive.cpp"), *CXXFLAGS, cwd=CORPUS)
    check(p.returncode == 1, "exit %d, want 1" % p.returncode)
    doc = json.loads(p.stdout)
    check(doc["version"] == 1, "version")
    check(set(doc["summary"]) >= {"files", "findings", "by_rule", "failed_files", "suppressed", "baselined"},
          "summary keys: %s" % sorted(doc["summary"]))
    check(doc["summary"]["findings"] == len(doc["findings"]) > 0, "summary count")
    for f in doc["findings"]:
        check(set(f) == {"rule", "file", "line", "column", "message", "function", "callee", "category", "source_line",
                          "notes"},
              "finding keys: %s" % sorted(f))
        check(f["file"] == "transitive.cpp", "relative path: %s" % f["file"])
        check(isinstance(f["line"], int) and isinstance(f["column"], int), "line/column are numbers")
        for n in f["notes"]:
            check({"file", "line", "column", "message"} <= set(n), "note keys: %s" % sorted(n))
    outer = [f for f in doc["findings"] if f["callee"] == "util::outer"]
    check(len(outer) == 1, "util::outer finding")
    check(outer[0]["function"] == "worker" and outer[0]["category"] == "sleep", "function/category")
    check([n["line"] for n in outer[0]["notes"]] == [14, 13, 12], "chain notes: %s" % outer[0]["notes"])


def case_sarif_shape():
    p = run("--format=sarif", corpus("sleep_poll.cpp"), corpus("discarded.cpp"), *CXXFLAGS, cwd=HERE)
    check(p.returncode == 1, "exit %d" % p.returncode)
    doc = json.loads(p.stdout)
    check(doc["version"] == "2.1.0" and "sarif-2.1.0" in doc["$schema"], "version/schema")
    run0 = doc["runs"][0]
    rules = run0["tool"]["driver"]["rules"]
    ids = [r["id"] for r in rules]
    check(ids == ["blocking-call", "transitive-blocking-call", "lock-held-across-await", "discarded-task",
                  "dangling-task-reference", "blocking-lock"], "rule ids: %s" % ids)
    for r in rules:
        check(r["shortDescription"]["text"] and r["fullDescription"]["text"] and r["help"]["text"],
              "rule %s descriptions" % r["id"])
    check(run0["results"], "results")
    fingerprints = set()
    for res in run0["results"]:
        check(ids[res["ruleIndex"]] == res["ruleId"], "ruleIndex")
        loc = res["locations"][0]["physicalLocation"]
        uri = loc["artifactLocation"]["uri"]
        check(uri.startswith("corpus/") and not uri.startswith("/") and "://" not in uri, "relative uri: " + uri)
        check(loc["region"]["startLine"] >= 1 and loc["region"]["startColumn"] >= 1, "region")
        fp = res["partialFingerprints"]["coroscopeLint/v1"]
        check(fp not in fingerprints, "fingerprints are unique")
        fingerprints.add(fp)
    fixes = [r for r in run0["results"] if "fixes" in r]
    check(fixes, "sleep fix-its appear as SARIF fixes")
    change = fixes[0]["fixes"][0]["artifactChanges"][0]["replacements"][0]
    check(change["insertedContent"]["text"] == "co_await coroscope::sleep(10ms)", "fix text: %s" % change)


def case_text_format():
    p = run(corpus("sleep_poll.cpp"), *CXXFLAGS, cwd=CORPUS)
    check(p.returncode == 1, "exit %d" % p.returncode)
    lines = p.stdout.splitlines()
    check(lines[0] == "sleep_poll.cpp:16:3: warning: 'std::this_thread::sleep_for' blocks the thread inside "
          "coroutine 'sleeps' (sleep); use 'co_await coroscope::sleep(10ms)' instead [blocking-call]", lines[0])
    check(lines[1] == "  std::this_thread::sleep_for(10ms);  // expect: blocking-call", lines[1])
    check(lines[2] == "  ^", "caret: %r" % lines[2])
    check(lines[3] == "sleep_poll.cpp:16:3: note: fix-it: replace with 'co_await coroscope::sleep(10ms)'", lines[3])
    check(lines[-1] == "10 findings", lines[-1])
    check(all(re.match(r"^\S+:\d+:\d+: warning: .* \[[a-z-]+\]$", l) for l in lines if ": warning: " in l),
          "warning lines")


def case_parse_failure():
    p = run("--format=json", corpus("broken.cpp"), corpus("sleep_poll.cpp"), *CXXFLAGS)
    check(p.returncode == 2, "exit %d, want 2" % p.returncode)
    doc = json.loads(p.stdout)
    check(len(doc["findings"]) == 10, "the good file is still reported: %d" % len(doc["findings"]))
    check(any(f.endswith("broken.cpp") for f in doc["summary"]["failed_files"]), "failed_files")
    check("broken.cpp" in p.stderr and "could not be parsed" in p.stderr, p.stderr)
    check("error:" in p.stderr, "compiler error shown")


def write_config(text):
    d = tempfile.mkdtemp()
    with open(os.path.join(d, ".coroscope-lint.yaml"), "w") as f:
        f.write(text)
    shutil.copy(corpus("clean.cpp"), d)
    return d


def expect_config_error(text, pattern):
    d = write_config(text)
    try:
        p = run(os.path.join(d, "clean.cpp"), *CXXFLAGS)
        check(p.returncode == 2, "exit %d, want 2; stderr: %s" % (p.returncode, p.stderr))
        check(re.search(pattern, p.stderr), "stderr %r does not match %r" % (p.stderr, pattern))
    finally:
        shutil.rmtree(d)


def case_config_errors():
    expect_config_error("rules:\n  blocking-call: true\nbogus: 1\n",
                        r"\.coroscope-lint\.yaml:3:1: error: unknown key 'bogus'")
    expect_config_error("rules:\n  no-such-rule: true\n", r"\.coroscope-lint\.yaml:2:3: error: unknown rule 'no-such-rule'")
    expect_config_error("categories:\n  sleep: maybe\n", r":2:10: error: categories\.sleep must be true or false")
    expect_config_error("blocking-functions:\n  - name: f\n    colour: red\n",
                        r":3:5: error: unknown key 'colour' in a blocking-functions entry")
    expect_config_error("rules: [unclosed\n", r"\.coroscope-lint\.yaml:\d+:\d+: error: ")
    p = run("--config=/nonexistent/.coroscope-lint.yaml", corpus("clean.cpp"), *CXXFLAGS)
    check(p.returncode == 2 and "/nonexistent/.coroscope-lint.yaml" in p.stderr, p.stderr)


def case_compile_database_parallel():
    d = tempfile.mkdtemp()
    try:
        files = [corpus("multi/%s.cpp" % n) for n in "abc"]
        db = [{"directory": os.path.join(CORPUS, "multi"), "file": f,
               "arguments": ["g++", "-std=c++20", "-Werror", "-Wall", "-I" + CORPUS, "-c", f, "-o", f + ".o"]}
              for f in files]
        with open(os.path.join(d, "compile_commands.json"), "w") as out:
            json.dump(db, out)
        p = run("-p", d, "-j", "2", "--format=json", "--extra-arg=-DCOROSCOPE_EXTRA")  # every file of the database
        check(p.returncode == 1, "exit %d: %s" % (p.returncode, p.stderr))
        doc = json.loads(p.stdout)
        got = [(os.path.realpath(f["file"]), f["line"], f["rule"]) for f in doc["findings"]]
        check(len(got) == len(set(got)), "each finding once: %s" % got)
        want = expectations(files + [corpus("multi/shared.hpp")])
        check(set(got) == want, "got %s, want %s" % (sorted(got), sorted(want)))
        check(doc["summary"]["files"] == 3, "three translation units")
        check("[1/3]" not in p.stderr, "no progress when stderr is not a terminal")
    finally:
        shutil.rmtree(d)


def case_progress_on_terminal():
    pid, fd = pty.fork()
    if pid == 0:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.execv(LINT, [LINT, "-j", "1", corpus("sleep_poll.cpp"), corpus("clean.cpp"), *CXXFLAGS])
    out = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    _, status = os.waitpid(pid, 0)
    text = out.decode(errors="replace")
    check(os.waitstatus_to_exitcode(status) == 1, "exit status")
    check("[1/2] " in text and "[2/2] " in text, "progress on a terminal: %r" % text)


def case_baseline():
    d = tempfile.mkdtemp()
    try:
        src = os.path.join(d, "old.cpp")
        shutil.copy(corpus("sleep_poll.cpp"), src)
        base = os.path.join(d, "baseline.json")
        p = run("--write-baseline", base, src, *CXXFLAGS, cwd=d)
        check(p.returncode == 0, "writing a baseline exits 0: %d %s" % (p.returncode, p.stderr))
        doc = json.load(open(base))
        check(doc["version"] == 1 and all(set(e) == {"rule", "file", "function", "callee", "count"}
                                          for e in doc["findings"]), "baseline shape")
        check(all(e["file"] == "old.cpp" for e in doc["findings"]), "baseline paths are relative")
        p = run("--baseline", base, "--format=json", src, *CXXFLAGS, cwd=d)
        check(p.returncode == 0, "baselined findings do not fail: %s" % p.stdout)
        check(json.loads(p.stdout)["summary"]["baselined"] == 10, "baselined count")
        text = open(src).read()
        with open(src, "w") as f:  # shift every line: old findings stay baselined
            f.write("// moved\n\n\n" + text)
        p = run("--baseline", base, src, *CXXFLAGS, cwd=d)
        check(p.returncode == 0, "line shifts do not resurrect findings: %s" % p.stdout)
        with open(src, "w") as f:  # one more sleep in a function that had one: new
            f.write(text.replace("  pause();  // expect: blocking-call", "  pause();\n  sleep(2);"))
        p = run("--baseline", base, "--format=json", src, *CXXFLAGS, cwd=d)
        doc = json.loads(p.stdout)
        check(p.returncode == 1 and len(doc["findings"]) == 1, "only the new finding: %s" % doc["findings"])
        check(doc["findings"][0]["callee"] == "sleep", "the new sleep")
        p = run("--baseline", os.path.join(d, "missing.json"), src, *CXXFLAGS, cwd=d)
        check(p.returncode == 2, "a missing baseline is an input error")
    finally:
        shutil.rmtree(d)


def case_help_documents_every_flag():
    p = run("--help")
    check(p.returncode == 0, "exit %d" % p.returncode)
    for flag in ["-p", "-j", "--format", "--config", "--baseline", "--write-baseline", "--enable", "--disable",
                 "--resource-dir", "--root", "-o", "--list-rules", "--extra-arg", "--extra-arg-before",
                 "--version", "--shard"]:
        check(re.search(r"(^|\s)%s[\s=<]" % re.escape(flag), p.stdout, re.M), "--help lacks %s" % flag)
    check("Exit status" in p.stdout, "exit codes documented")
    p = run("merge", "--help")
    check(p.returncode == 0, "merge --help: exit %d" % p.returncode)
    for flag in ["--format", "-o", "--output", "--help"]:
        check(re.search(r"(^|\s)%s[\s=,]" % re.escape(flag), p.stdout, re.M), "merge --help lacks %s" % flag)


def case_usage_errors():
    for args in (["--no-such-flag", corpus("clean.cpp")], ["--format=xml", corpus("clean.cpp")],
                 [corpus("missing.cpp")], [], ["--enable=no-such-rule", corpus("clean.cpp")],
                 ["--resource-dir=/nonexistent", corpus("clean.cpp")]):
        p = run(*args, *CXXFLAGS) if args else run()
        check(p.returncode == 2, "%s: exit %d, want 2" % (args, p.returncode))
        check(p.stderr.strip(), "%s: an error message" % args)


def case_exit_codes_and_rule_switches():
    p = run(corpus("clean.cpp"), *CXXFLAGS)
    check(p.returncode == 0 and p.stdout == "", "clean file: %d %r" % (p.returncode, p.stdout))
    p = run("--disable=blocking-call", corpus("sleep_poll.cpp"), *CXXFLAGS)
    check(p.returncode == 0, "--disable: %d" % p.returncode)
    p = run("--format=json", "--enable=blocking-lock", corpus("locks.cpp"), *CXXFLAGS)
    rules = {f["rule"] for f in json.loads(p.stdout)["findings"]}
    check("blocking-lock" in rules, "--enable=blocking-lock: %s" % rules)
    p = run("--list-rules")
    check(p.returncode == 0 and "blocking-lock (off by default)" in p.stdout and "lock (off by default)" in p.stdout,
          p.stdout)


def case_output_file_and_root():
    d = tempfile.mkdtemp()
    try:
        out = os.path.join(d, "report.sarif")
        p = run("--format=sarif", "-o", out, "--root", CORPUS, corpus("sleep_poll.cpp"), *CXXFLAGS, cwd=d)
        check(p.returncode == 1 and p.stdout == "", "report goes to the file")
        uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                for r in json.load(open(out))["runs"][0]["results"]}
        check(uris == {"sleep_poll.cpp"}, "uris relative to --root: %s" % uris)
    finally:
        shutil.rmtree(d)


def main():
    global LINT
    LINT = os.path.abspath(sys.argv[1])
    case = globals().get("case_" + sys.argv[2])
    if case is None:
        print("unknown case " + sys.argv[2])
        return 2
    try:
        case()
    except Failure as e:
        print("FAIL: " + str(e))
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
