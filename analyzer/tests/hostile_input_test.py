#!/usr/bin/env python3
"""coroscope-lint on hostile inputs and outputs: every case is exit 2 with a message naming the file and the
field or the limit, never a crash, a wrap-around or a silently lost report. Uses cli_test.py's helpers.

usage: hostile_input_test.py <coroscope-lint> <case>
"""
import os
import re
import shutil
import sys
import tempfile

import cli_test
from cli_test import CXXFLAGS, check, corpus, expect_config_error, run


def expect_error(p, pattern):
    check(p.returncode == 2, "exit %d, want 2; stderr: %s" % (p.returncode, p.stderr))
    check(re.search(pattern, p.stderr), "stderr %r does not match %r" % (p.stderr, pattern))


def in_temp_dir(body):
    d = tempfile.mkdtemp()
    try:
        body(d)
    finally:
        shutil.rmtree(d)


def case_config_or_baseline_that_is_a_directory():
    def body(d):
        expect_error(run("--config", d, corpus("clean.cpp"), *CXXFLAGS), re.escape(d) + r": error: is a directory")
        expect_error(run("--baseline", d, corpus("sleep_poll.cpp"), *CXXFLAGS), re.escape(d) + r": is a directory")
    in_temp_dir(body)


def case_baseline_numbers_and_types():
    def body(d):
        base = os.path.join(d, "baseline.json")
        entry = '{"rule":"blocking-call","file":"sleep_poll.cpp","function":"tick","callee":"sleep","count":%s}'
        # -1 used to wrap around to 4294967295 and hide every finding of its key.
        for count in ["-1", "0", "1.5", "1e300", '"2"']:
            with open(base, "w") as f:
                f.write('{"version":1,"findings":[%s]}' % (entry % count))
            expect_error(run("--baseline", base, corpus("sleep_poll.cpp"), *CXXFLAGS),
                         re.escape(base) + r": findings\[0\]\.count: expected a whole number from 1 to 1000000, got ")
        with open(base, "w") as f:
            f.write('{"version":1,"findings":[{"rule":5,"file":"f","function":"g","callee":"h"}]}')
        expect_error(run("--baseline", base, corpus("sleep_poll.cpp"), *CXXFLAGS),
                     re.escape(base) + r": findings\[0\]\.rule: expected a string, got an integer")
        with open(base, "w") as f:  # found by the lint_baseline fuzzer's sibling: used to escape uncaught
            f.write('{"version":1,"findings":[%s]}' % (entry % "1e400"))
        expect_error(run("--baseline", base, corpus("sleep_poll.cpp"), *CXXFLAGS),
                     re.escape(base) + r": number overflow parsing '1e400'")
        with open(base, "w") as f:
            f.write('{"version":1,"findings":' + "[" * 100000 + "]" * 100000 + "}")
        expect_error(run("--baseline", base, corpus("sleep_poll.cpp"), *CXXFLAGS),
                     re.escape(base) + r": nested deeper than the limit of 8 levels")
    in_temp_dir(body)


def case_replacement_placeholder_beyond_the_limit():
    expect_config_error('blocking-functions:\n  - name: sleep\n    replacement: "co_await nap({99999999999999999999})"\n',
                        r":3:18: error: replacement placeholder \{999999999999\.\.\.\} is beyond the limit of \{63\}")


def case_outputs_to_a_full_disk():
    with open("/dev/full", "w") as full:
        p = cli_test.subprocess.run([cli_test.LINT, corpus("sleep_poll.cpp"), *CXXFLAGS], stdout=full,
                                    stderr=cli_test.subprocess.PIPE, text=True)
    expect_error(p, r"standard output: cannot write: No space left on device")
    expect_error(run("-o", "/dev/full", corpus("sleep_poll.cpp"), *CXXFLAGS), r"/dev/full: cannot write")
    expect_error(run("--write-baseline", "/dev/full", corpus("sleep_poll.cpp"), *CXXFLAGS), r"/dev/full: cannot write")


def case_outputs_never_replace_an_input():
    def body(d):
        src = os.path.join(d, "old.cpp")
        shutil.copy(corpus("sleep_poll.cpp"), src)
        before = open(src).read()
        expect_error(run("-o", src, src, *CXXFLAGS), re.escape(src) + r": refusing to overwrite the input")
        expect_error(run("--write-baseline", src, src, *CXXFLAGS), r"refusing to overwrite the input")
        check(open(src).read() == before, "the source file is untouched")
        cfg = os.path.join(d, "lint.yaml")
        with open(cfg, "w") as f:
            f.write("rules: {blocking-lock: true}\n")
        expect_error(run("--config", cfg, "-o", cfg, src, *CXXFLAGS), r"refusing to overwrite the input")
        check(open(cfg).read() == "rules: {blocking-lock: true}\n", "the config is untouched")
    in_temp_dir(body)


def main():
    cli_test.LINT = os.path.abspath(sys.argv[1])
    case = globals().get("case_" + sys.argv[2])
    if case is None:
        print("unknown case " + sys.argv[2])
        return 2
    try:
        case()
    except cli_test.Failure as e:
        print("FAIL: " + str(e))
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
