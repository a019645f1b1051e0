#!/usr/bin/env python3
"""The conformance oracle: runs scenarios on CPython's asyncio (virtual clock) and prints or stores traces.

Usage:
  oracle.py PATH...            print {"file", "id", "python", "trace"} per scenario as JSON lines
  oracle.py --check PATH...    re-run every scenario; exit 1 if a stored expected trace drifted
  oracle.py --regen PATH...    re-run every scenario and write its expected trace into the file
  oracle.py --batch            read scenarios as JSON lines on stdin; write {"id", "trace"} or
                               {"id", "error"} lines (the differential fuzzer's protocol)
PATH is a scenario file or a directory searched recursively for *.json.
Exit codes: 0 ok, 1 drift (--check), 2 usage or malformed scenario (the message names file and field).
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from interpreter import ScenarioError, run_scenario  # noqa: E402

AUTHORITIES = {"documented", "tested", "observed"}
REQUIRED = ("id", "group", "title", "authority", "source", "main")


class FileError(Exception):
    pass


def pretty(value, indent=0, width=110):
    """JSON with indent 2 whose short containers stay on one line, so a step or an event reads as one line
    and a regenerated file diffs cleanly."""
    flat = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    if len(flat) + indent <= width or not isinstance(value, (list, dict)) or not value:
        return flat
    pad = " " * (indent + 2)
    if isinstance(value, list):
        items = [pad + pretty(v, indent + 2, width) for v in value]
        return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"
    items = [pad + json.dumps(k, ensure_ascii=False) + ": " + pretty(v, indent + 2, width)
             for k, v in value.items()]
    return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"


def find(paths):
    files = []
    for p in paths:
        if os.path.isdir(p):
            for root, _dirs, names in os.walk(p):
                files += [os.path.join(root, n) for n in names if n.endswith(".json")]
        elif os.path.isfile(p):
            files.append(p)
        else:
            raise FileError(f"{p}: no such file or directory")
    return sorted(files)


def validate(scenario, where, path=None):
    if not isinstance(scenario, dict):
        raise FileError(f"{where}: a scenario is a JSON object")
    for field in REQUIRED:
        if field not in scenario:
            raise FileError(f"{where}: missing field \"{field}\"")
    if scenario["authority"] not in AUTHORITIES:
        raise FileError(f"{where}: field \"authority\" must be one of {sorted(AUTHORITIES)}")
    if path is not None:
        stem = os.path.splitext(os.path.basename(path))[0]
        if scenario["id"] != stem:
            raise FileError(f"{where}: field \"id\" is {scenario['id']!r} but the file is named {stem}.json")
        group = os.path.basename(os.path.dirname(os.path.abspath(path)))
        if scenario["group"] != group:
            raise FileError(f"{where}: field \"group\" is {scenario['group']!r} but the file is in {group}/")


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            scenario = json.load(f)
    except json.JSONDecodeError as e:
        raise FileError(f"{path}:{e.lineno}:{e.colno}: invalid JSON: {e.msg}")
    validate(scenario, path, path)
    return scenario


def trace_of(scenario, where):
    try:
        return run_scenario(scenario, where)
    except ScenarioError as e:
        raise FileError(f"{where}: field {e}")


def same(scenario, expected, actual):
    """Traces agree; a scenario with "compare": "unordered" compares them as multisets of events."""
    if scenario.get("compare") == "unordered":
        key = lambda e: json.dumps(e, sort_keys=True)  # noqa: E731
        return sorted(expected or [], key=key) == sorted(actual, key=key)
    return expected == actual


def python_version():
    return sys.version.replace("\n", " ")


def show_drift(path, expected, actual):
    print(f"DRIFT {path}", file=sys.stderr)
    n = max(len(expected), len(actual))
    for i in range(n):
        e = json.dumps(expected[i]) if i < len(expected) else "-"
        a = json.dumps(actual[i]) if i < len(actual) else "-"
        mark = "  " if e == a else "!="
        print(f"  {mark} {e:<60} | {a}", file=sys.stderr)


def batch():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        scenario = json.loads(line)
        sid = scenario.get("id", "?")
        try:
            info = {}
            out = {"id": sid, "trace": run_scenario(scenario, sid, info), "ambiguous": info["ambiguous"]}
        except ScenarioError as e:
            out = {"id": sid, "error": str(e)}
        print(json.dumps(out, ensure_ascii=False), flush=True)
    return 0


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 2
    if argv[0] == "--batch":
        return batch()
    mode = None
    if argv[0] in ("--check", "--regen"):
        mode, argv = argv[0], argv[1:]
    if not argv or any(a.startswith("--") for a in argv):
        print(__doc__, file=sys.stderr)
        return 2
    drift = 0
    try:
        files = find(argv)
        for path in files:
            scenario = load(path)
            trace = trace_of(scenario, path)
            if mode is None:
                print(json.dumps({"file": path, "id": scenario["id"], "python": python_version(),
                                  "trace": trace}, ensure_ascii=False))
            elif mode == "--check":
                expected = scenario.get("expected", {}).get("trace")
                if not same(scenario, expected, trace):
                    stored = scenario.get("expected", {}).get("python", "").split(" ")[0]
                    if "VER" in scenario.get("tags", []) and stored != python_version().split(" ")[0]:
                        # A version-specific scenario may differ on another CPython than the one that
                        # recorded it; exact drift is only meaningful on the same version.
                        print(f"note: {path} differs on {python_version().split(' ')[0]} "
                              f"(recorded on {stored}; tagged VER)", file=sys.stderr)
                        continue
                    drift += 1
                    show_drift(path, expected or [], trace)
            else:
                old = scenario.get("expected", {}).get("trace")
                if same(scenario, old, trace):
                    trace = old  # keep the stored order of an unordered scenario: no churn
                scenario["expected"] = {"python": python_version(), "trace": trace}
                text = pretty(scenario) + "\n"
                with open(path, encoding="utf-8") as f:
                    unchanged = f.read() == text
                if not unchanged:
                    with open(path, "w", encoding="utf-8") as f:
                        f.write(text)
    except FileError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if mode == "--check":
        print(f"oracle: {len(files)} scenarios, {drift} drifted ({python_version()})", file=sys.stderr)
    return 1 if drift else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
