#!/usr/bin/env python3
"""Opens report.html in headless Chromium and checks that the charts really paint.

Writes a report from the committed fixtures (plus one benchmark whose name is markup), takes a
screenshot and counts the pixels of each runtime's bar colour in the PNG, and dumps the DOM Chromium
built to prove no name became an element. Exit 0 when all checks pass, 1 otherwise.
"""
import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

# Colours of the runtimes' bars in report.html (html.cpp, runtime_color).
BAR_COLOURS = {"coroscope": (0x25, 0x63, 0xEB), "asio": (0xEA, 0x58, 0x0C),
               "asyncio": (0x0D, 0x94, 0x88), "uvloop": (0x93, 0x33, 0xEA)}
MIN_PIXELS = 400  # a single 1-pixel-wide sliver would not count as a drawn chart


def read_png(path):
    """Decodes an 8-bit RGB/RGBA non-interlaced PNG (what Chromium writes) into rows of pixel tuples."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path}: not a PNG")
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in (2, 6) or interlace:
        raise ValueError(f"{path}: unsupported PNG layout {header}")
    bpp = 4 if colour == 6 else 3
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev, i = [], bytearray(stride), 0
    for _ in range(height):
        kind, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if kind == 1:
                line[x] = (line[x] + a) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + b) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(line)
        prev = line
    return width, height, bpp, rows


def count_colours(path):
    width, height, bpp, rows = read_png(path)
    counts = {name: 0 for name in BAR_COLOURS}
    wanted = {rgb: name for name, rgb in BAR_COLOURS.items()}
    for line in rows:
        for x in range(0, width * bpp, bpp):
            name = wanted.get((line[x], line[x + 1], line[x + 2]))
            if name:
                counts[name] += 1
    return counts


def chromium(args, browser, profile, *extra):
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
           "--hide-scrollbars", *extra]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=90)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--report", required=True, help="coroscope-report executable")
    parser.add_argument("--chromium", required=True, help="Chromium executable")
    parser.add_argument("--fixtures", required=True, help="directory of the committed fixture JSONs")
    parser.add_argument("--work", required=True, help="scratch directory (recreated)")
    args = parser.parse_args()

    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    # A benchmark whose name is markup: it must come out as text.
    hostile = {"context": {"runtime": "asio<img src=x>", "date": "2024-05-01"},
               "benchmarks": [{"name": "BM_<img src=x onerror=alert(1)>", "run_type": "iteration",
                               "iterations": 1, "real_time": 1, "cpu_time": 1, "time_unit": "ns"}]}
    hostile_path = os.path.join(args.work, "hostile.json")
    with open(hostile_path, "w") as f:
        json.dump(hostile, f)
    out = os.path.join(args.work, "out")
    inputs = []
    for rt in ("floor", "coroscope", "asio", "asyncio", "uvloop"):
        inputs += ["--bench", os.path.join(args.fixtures, f"report_{rt}.json")]
    cmd = [args.report, "report", "--out", out, *inputs, "--bench", hostile_path,
           "--baseline", os.path.join(args.fixtures, "compare_baseline.json"),
           "--conformance", os.path.join(args.fixtures, "conformance.json"),
           "--lint", os.path.join(args.fixtures, "lint.sarif"), "--fail-on", "none"]
    made = subprocess.run(cmd, capture_output=True, text=True)
    if made.returncode != 0:
        print(f"coroscope-report failed ({made.returncode}):\n{made.stderr}")
        return 1
    url = "file://" + os.path.abspath(os.path.join(out, "report.html"))
    shot = os.path.join(args.work, "report.png")

    failures = []
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        r = chromium(args, args.chromium, profile, f"--screenshot={shot}", "--window-size=1280,1600", url)
        if not os.path.exists(shot):
            print(f"no screenshot; chromium said:\n{r.stderr[-2000:]}")
            return 1
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        dom = chromium(args, args.chromium, profile, "--dump-dom", url).stdout

    counts = count_colours(shot)
    print("bar pixels per runtime:", counts)
    for name, n in counts.items():
        if n < MIN_PIXELS:
            failures.append(f"{name}: only {n} pixels of its bar colour painted (want >= {MIN_PIXELS})")
    svgs = dom.count("<svg")
    print(f"DOM: {len(dom)} characters, {svgs} svg elements")
    if svgs < 3:
        failures.append(f"the DOM Chromium built has {svgs} svg charts (want >= 3)")
    if "<img" in dom or "<script" in dom:
        failures.append("a name from the input became an element (<img or <script in the DOM)")
    if "BM_&lt;img src=x onerror=alert(1)&gt;" not in dom:
        failures.append("the hostile benchmark name is not shown as text")
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
