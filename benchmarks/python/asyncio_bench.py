#!/usr/bin/env python3
"""The asyncio and uvloop rows of the coroscope benchmark catalogue.

Runs the same workloads as the C++ suites (benchmarks/README.md defines them) on CPython's asyncio event
loop or on uvloop, and writes Google Benchmark's JSON schema so coroscope-report lines the rows up.
Like Google Benchmark it grows the iteration count until a run takes --min-time seconds of CPU time (or
5x that of wall time), then repeats the run --repetitions times. CPU time is the thread CPU time of the
thread running the loop.

Exit status: 0 when every selected workload ran, 1 when one failed (it is also marked as errored in the
JSON), 2 on usage errors.
"""
import argparse
import asyncio
import datetime
import json
import os
import platform
import random
import re
import socket
import statistics
import sys
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor

GATHER_SIZES = (10, 1000, 100000)
TIMER_SIZES = (1000, 100000)
CANCEL_SIZES = (1000, 100000)
CHAIN_DEPTH = 100
PARKED_TASKS = 10000
QUEUE_CAPACITY = 64
TIMER_SPREAD_S = 0.010  # random deadlines in [0, 10 ms)
ECHO_SIZES = (64, 16 * 1024)
ECHO_CONNECTIONS = (1, 100)


class Stopwatch:
    """Accumulates thread CPU time and wall time between start() and stop()."""

    def __init__(self):
        self.cpu_ns = 0
        self.real_ns = 0

    def start(self):
        self._cpu0 = time.thread_time_ns()
        self._real0 = time.perf_counter_ns()

    def stop(self):
        self.cpu_ns += time.thread_time_ns() - self._cpu0
        self.real_ns += time.perf_counter_ns() - self._real0


async def leaf(v):
    return v + 1


async def bm_spawn(n, watch):
    v = 0
    watch.start()
    for _ in range(n):
        v = await asyncio.create_task(leaf(v))
    watch.stop()


async def bm_resume(n, watch):
    watch.start()
    for _ in range(n):
        await asyncio.sleep(0)
    watch.stop()


class Slot:
    """A one-value mailbox on futures: the value is handed over through future.set_result."""

    def __init__(self, loop):
        self.loop = loop
        self.future = loop.create_future()

    def put(self, value):
        self.future.set_result(value)

    async def get(self):
        value = await self.future
        self.future = self.loop.create_future()
        return value


async def pong(inbox, outbox):
    while True:
        v = await inbox.get()
        if v < 0:
            return
        outbox.put(v + 1)


async def bm_pingpong(n, watch):
    loop = asyncio.get_running_loop()
    a2b, b2a = Slot(loop), Slot(loop)
    other = asyncio.create_task(pong(a2b, b2a))
    await asyncio.sleep(0)
    v = 0
    watch.start()
    for _ in range(n):
        a2b.put(v)
        v = await b2a.get()
    watch.stop()
    a2b.put(-1)
    await other


async def chain(depth):
    if depth == 0:
        return 1
    return 1 + await chain(depth - 1)


async def bm_chain(n, watch):
    watch.start()
    for _ in range(n):
        await chain(CHAIN_DEPTH)
    watch.stop()


def bm_gather(size):
    async def body(n, watch):
        watch.start()
        for _ in range(n):
            await asyncio.gather(*[leaf(i) for i in range(size)])
        watch.stop()
        return {"items_per_second": None, "_items": n * size}
    return body


def delays(size):
    rng = random.Random(20240501)
    return [rng.random() * TIMER_SPREAD_S for _ in range(size)]


def bm_timers(size):
    chosen = delays(size)

    async def body(n, watch):
        watch.start()
        for _ in range(n):
            await asyncio.gather(*[asyncio.sleep(d) for d in chosen])
        watch.stop()
        return {"items_per_second": None, "_items": n * size}
    return body


def bm_cancel(size):
    async def body(n, watch):
        for _ in range(n):
            tasks = [asyncio.create_task(asyncio.sleep(3600)) for _ in range(size)]
            await asyncio.sleep(0)  # every task is now parked in its sleep
            watch.start()
            for t in tasks:
                t.cancel()
            cancelled = 0
            for t in tasks:
                try:
                    await t
                except asyncio.CancelledError:
                    cancelled += 1
            watch.stop()
            if cancelled != size:
                raise RuntimeError(f"{size - cancelled} tasks were not cancelled")
        return {"items_per_second": None, "_items": n * size}
    return body


async def bm_wait_for(n, watch):
    v = 0
    watch.start()
    for _ in range(n):
        v = await asyncio.wait_for(leaf(v), 1.0)
    watch.stop()


async def consumer(queue):
    total = 0
    while True:
        v = await queue.get()
        if v < 0:
            return total
        total += v


async def bm_queue(n, watch):
    queue = asyncio.Queue(maxsize=QUEUE_CAPACITY)
    task = asyncio.create_task(consumer(queue))
    watch.start()
    for i in range(n):
        await queue.put(i & 0xFFFF)
    await queue.put(-1)
    await task
    watch.stop()
    return {"items_per_second": None, "_items": n}


def increment(v):
    return v + 1


async def bm_executor(n, watch):
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(max_workers=1) as pool:
        v = 0
        await loop.run_in_executor(pool, increment, v)  # start the worker thread before timing
        watch.start()
        for _ in range(n):
            v = await loop.run_in_executor(pool, increment, v)
        watch.stop()


async def echo_session(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


def bm_echo(size, conns):
    async def body(n, watch):
        server = await asyncio.start_server(echo_session, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        clients = [await asyncio.open_connection("127.0.0.1", port) for _ in range(conns)]
        message = b"x" * size
        watch.start()
        for _ in range(n):
            for _, writer in clients:
                writer.write(message)
                await writer.drain()
            for reader, _ in clients:
                await reader.readexactly(size)
        watch.stop()
        for _, writer in clients:
            writer.close()
            await writer.wait_closed()
        server.close()
        await server.wait_closed()
        return {"items_per_second": None, "_items": n * conns, "_bytes": n * conns * size * 2}
    return body


async def bm_memory(n, watch):
    """Bytes per task parked on an asyncio.Event, from tracemalloc (Python-level allocations)."""
    tracemalloc.start()
    per_task = 0.0
    try:
        for _ in range(n):
            event = asyncio.Event()
            tasks = [None] * PARKED_TASKS
            before = tracemalloc.get_traced_memory()[0]
            watch.start()
            for i in range(PARKED_TASKS):
                tasks[i] = asyncio.create_task(event.wait())
            await asyncio.sleep(0)
            watch.stop()
            per_task = (tracemalloc.get_traced_memory()[0] - before) / PARKED_TASKS
            event.set()
            for t in tasks:
                await t
    finally:
        tracemalloc.stop()
    return {"bytes_per_task": per_task}


def echo_name(size, conns):
    size_text = f"{size // 1024}KiB" if size >= 1024 else f"{size}B"
    return f"BM_Echo/{size_text}x{conns}conn"


def catalogue():
    """(family, name, body) in the order of the C++ suites."""
    items = [("BM_Spawn", "BM_Spawn", bm_spawn), ("BM_Resume", "BM_Resume", bm_resume),
             ("BM_PingPong", "BM_PingPong", bm_pingpong),
             ("BM_Chain", f"BM_Chain/depth:{CHAIN_DEPTH}", bm_chain)]
    items += [("BM_Gather", f"BM_Gather/fanout:{n}", bm_gather(n)) for n in GATHER_SIZES]
    items += [("BM_Timers", f"BM_Timers/random:{n}", bm_timers(n)) for n in TIMER_SIZES]
    items += [("BM_Cancel", f"BM_Cancel/{n}", bm_cancel(n)) for n in CANCEL_SIZES]
    items += [("BM_WaitFor", "BM_WaitFor/overhead", bm_wait_for), ("BM_Queue", "BM_Queue/pipeline", bm_queue),
              ("BM_Executor", "BM_Executor/roundtrip", bm_executor)]
    items += [(f"BM_Echo", echo_name(s, c), bm_echo(s, c)) for s in ECHO_SIZES for c in ECHO_CONNECTIONS]
    items += [("BM_Memory", "BM_Memory/suspended_task", bm_memory)]
    return items


def new_loop(kind):
    if kind == "uvloop":
        import uvloop
        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def measure(kind, body, n):
    loop = new_loop(kind)
    try:
        asyncio.set_event_loop(loop)
        watch = Stopwatch()
        extra = loop.run_until_complete(body(n, watch)) or {}
        return watch, extra
    finally:
        asyncio.set_event_loop(None)
        loop.close()


def run_one(kind, body, min_time, repetitions):
    """Google Benchmark's rule: grow n until CPU time >= min_time or wall time >= 5 * min_time."""
    n = 1
    while True:
        watch, extra = measure(kind, body, n)
        seconds = watch.cpu_ns / 1e9
        if seconds >= min_time or watch.real_ns / 1e9 >= 5 * min_time or n >= 1_000_000_000:
            break
        multiplier = min_time * 1.4 / max(seconds, 1e-9)
        if seconds / min_time > 0.1:
            multiplier = min(multiplier, 10)
        n = max(n + 1, int(n * min(multiplier, 1000)))
    runs = [(watch, extra)]
    for _ in range(repetitions - 1):
        runs.append(measure(kind, body, n))
    return n, runs


def entry(name, family, n, watch, extra, reps, index):
    e = {"name": name, "family_index": family, "per_family_instance_index": 0, "run_name": name,
         "run_type": "iteration", "repetitions": reps, "repetition_index": index, "threads": 1,
         "iterations": n, "real_time": watch.real_ns / n, "cpu_time": watch.cpu_ns / n, "time_unit": "ns"}
    seconds = watch.cpu_ns / 1e9
    if "_bytes" in extra:
        e["bytes_per_second"] = extra["_bytes"] / seconds if seconds > 0 else float("inf")
    if "_items" in extra:
        e["items_per_second"] = extra["_items"] / seconds if seconds > 0 else float("inf")
    for key, value in extra.items():
        if not key.startswith("_") and value is not None:
            e[key] = value
    return e


def aggregates(name, family, entries, reps):
    out = []
    cpu = [e["cpu_time"] for e in entries]
    real = [e["real_time"] for e in entries]
    stats = [("mean", statistics.mean), ("median", statistics.median), ("stddev", statistics.stdev)]
    for agg, fn in stats:
        out.append({"name": f"{name}_{agg}", "family_index": family, "per_family_instance_index": 0,
                    "run_name": name, "run_type": "aggregate", "repetitions": reps, "threads": 1,
                    "aggregate_name": agg, "aggregate_unit": "time", "iterations": len(entries),
                    "real_time": fn(real), "cpu_time": fn(cpu), "time_unit": "ns"})
    return out


def cpu_mhz():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("cpu MHz"):
                    return int(float(line.split(":")[1]))
    except OSError:
        pass
    return 0


def context(kind, extra):
    if kind == "uvloop":
        import uvloop
        version = uvloop.__version__
    else:
        version = platform.python_version()
    ctx = {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
           "host_name": socket.gethostname(), "executable": sys.executable, "num_cpus": os.cpu_count(),
           "mhz_per_cpu": cpu_mhz(), "cpu_scaling_enabled": False, "caches": [],
           "load_avg": list(os.getloadavg()), "library_build_type": "release", "runtime": kind,
           "runtime_version": version,
           "python_version": f"{platform.python_implementation()} {platform.python_version()}",
           "timer": "thread_time_ns (CPU of the loop thread), perf_counter_ns (wall)"}
    ctx.update(extra)
    return ctx


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio", help="event loop to run on")
    parser.add_argument("--out", required=True, help="JSON file to write (Google Benchmark schema)")
    parser.add_argument("--filter", default=".", help="regular expression: run the workloads whose name it finds")
    parser.add_argument("--min-time", type=float, default=0.5, help="seconds of CPU time per run (default 0.5)")
    parser.add_argument("--repetitions", type=int, default=1, help="runs per workload (default 1)")
    parser.add_argument("--context", action="append", default=[], metavar="KEY=VALUE",
                        help="extra context entry, e.g. git_revision=abc123 (repeatable)")
    parser.add_argument("--list", action="store_true", help="print the workload names and exit")
    args = parser.parse_args()
    if args.min_time <= 0 or args.repetitions < 1:
        parser.error("--min-time must be > 0 and --repetitions >= 1")
    extra = {}
    for item in args.context:
        key, sep, value = item.partition("=")
        if not sep or not key:
            parser.error(f"--context: '{item}' is not KEY=VALUE")
        extra[key] = value
    try:
        pattern = re.compile(args.filter)
    except re.error as e:
        parser.error(f"--filter: {e}")
    if args.loop == "uvloop":
        try:
            import uvloop  # noqa: F401
        except ImportError:
            print("asyncio_bench.py: uvloop is not installed for this interpreter (Debian: python3-uvloop)",
                  file=sys.stderr)
            return 2

    selected = [(i, f, name, body) for i, (f, name, body) in enumerate(catalogue()) if pattern.search(name)]
    if args.list:
        for _, _, name, _ in selected:
            print(name)
        return 0
    families = {}
    benchmarks, failed = [], 0
    print(f"{'Benchmark':<32}{'Time':>14}{'CPU':>14}{'Iterations':>12}")
    for _, family_name, name, body in selected:
        family = families.setdefault(family_name, len(families))
        print(f"asyncio_bench.py: {args.loop} {name}", file=sys.stderr, flush=True)
        try:
            n, runs = run_one(args.loop, body, args.min_time, args.repetitions)
        except Exception as e:  # a failing workload is recorded as errored, as Google Benchmark does
            failed += 1
            benchmarks.append({"name": name, "family_index": family, "per_family_instance_index": 0,
                               "run_name": name, "run_type": "iteration", "repetitions": args.repetitions,
                               "repetition_index": 0, "threads": 1, "iterations": 0, "real_time": 0,
                               "cpu_time": 0, "time_unit": "ns", "error_occurred": True,
                               "error_message": f"{type(e).__name__}: {e}"})
            print(f"{name:<32} ERROR: {type(e).__name__}: {e}")
            continue
        entries = [entry(name, family, n, w, x, args.repetitions, i) for i, (w, x) in enumerate(runs)]
        benchmarks += entries
        if args.repetitions > 1:
            benchmarks += aggregates(name, family, entries, args.repetitions)
        for e in entries:
            print(f"{name:<32}{e['real_time']:>11.0f} ns{e['cpu_time']:>11.0f} ns{n:>12}")
    doc = {"context": context(args.loop, extra), "benchmarks": benchmarks}
    with open(args.out, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
