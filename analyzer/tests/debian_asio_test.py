#!/usr/bin/env python3
"""Lints code shipped by Debian's libasio-dev (no download): debian/asio_coroutines.cpp instantiates Asio's
coroutine machinery, with Asio reached through a temporary include dir of symlinks so that its headers count
as the project's code (findings in system headers are never reported). The expected findings are the
`// expect:` lines (each checked by hand: asio::read and write_some on a blocking socket end in
socket_ops::poll_read/poll_write's ::poll with an infinite timeout). Skipped (exit 77) without libasio-dev.

usage: debian_asio_test.py <coroscope-lint>
"""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def main(lint):
    if not os.path.isfile("/usr/include/asio.hpp"):
        print("libasio-dev is not installed: skipped")
        return 77
    with tempfile.TemporaryDirectory() as inc:
        os.symlink("/usr/include/asio", os.path.join(inc, "asio"))
        os.symlink("/usr/include/asio.hpp", os.path.join(inc, "asio.hpp"))
        extra = ["--extra-arg=-I" + inc, "--extra-arg=-DASIO_HAS_CO_AWAIT", "--extra-arg=-DASIO_HAS_STD_COROUTINE"]
        return subprocess.run([sys.executable, os.path.join(HERE, "check_corpus.py"), lint,
                               os.path.join(HERE, "debian", "asio_coroutines.cpp"), "--", *extra]).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
