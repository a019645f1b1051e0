"""Executes one conformance scenario (see ../SCENARIOS.md) on CPython's asyncio and records its trace.

The program is data: named coroutine bodies made of steps. Every observable step appends an event
{"t": virtual ms, "task": label, "ev": text}; the C++ runner formats events with exactly the same rules, so a
trace is compared as a list of strings plus timestamps.
"""

import asyncio
import copy
import json
import threading

from virtual_loop import Deadlock, VirtualClockLoop


class ScenarioError(Exception):
    """The scenario file is malformed; `field` is a path such as main[2].body[0].op."""

    def __init__(self, field, message):
        super().__init__(f"{field}: {message}")
        self.field = field


# Exception kinds a scenario may name, and how they map to Python. The C++ side holds the same table.
EXCEPTIONS = {
    "CancelledError": asyncio.CancelledError,
    "TimeoutError": TimeoutError,
    "InvalidStateError": asyncio.InvalidStateError,
    "ValueError": ValueError,
    "KeyError": KeyError,
    "RuntimeError": RuntimeError,
    "TypeError": TypeError,
    "ZeroDivisionError": ZeroDivisionError,
    "QueueEmpty": asyncio.QueueEmpty,
    "QueueFull": asyncio.QueueFull,
    "BrokenBarrierError": asyncio.BrokenBarrierError,
    "KeyboardInterrupt": KeyboardInterrupt,
    "SystemExit": SystemExit,
}
# Kinds accepted in an `except` clause: the above plus these bases.
CATCHABLE = set(EXCEPTIONS) | {"Exception", "BaseException", "ExceptionGroup", "BaseExceptionGroup"}

PRIMITIVES = {
    "Future": None,  # created from the running loop
    "Event": asyncio.Event,
    "Lock": asyncio.Lock,
    "Semaphore": asyncio.Semaphore,
    "BoundedSemaphore": asyncio.BoundedSemaphore,
    "Condition": asyncio.Condition,
    "Barrier": asyncio.Barrier,
    "Queue": asyncio.Queue,
    "LifoQueue": asyncio.LifoQueue,
    "PriorityQueue": asyncio.PriorityQueue,
}

# Methods whose call must be awaited, per object kind.
AWAITING = {
    "Event": {"wait"},
    "Lock": {"acquire"},
    "Semaphore": {"acquire"},
    "BoundedSemaphore": {"acquire"},
    "Condition": {"acquire", "wait"},
    "Barrier": {"wait", "abort", "reset"},
    "Queue": {"put", "get", "join"},
    "LifoQueue": {"put", "get", "join"},
    "PriorityQueue": {"put", "get", "join"},
}

METHODS = {
    "task": {"done", "cancelled", "cancelling", "cancel", "uncancel", "result", "exception"},
    "future": {"done", "cancelled", "cancel", "result", "exception", "set_result", "set_exception"},
    "handle": {"cancel", "cancelled"},
    "timeout": {"expired", "when", "reschedule"},
    "Event": {"set", "clear", "is_set", "wait"},
    "Lock": {"acquire", "release", "locked"},
    "Semaphore": {"acquire", "release", "locked"},
    "BoundedSemaphore": {"acquire", "release", "locked"},
    "Condition": {"acquire", "release", "locked", "wait", "notify", "notify_all"},
    "Barrier": {"wait", "abort", "reset", "n_waiting", "broken", "parties"},
    "Queue": {"put", "get", "put_nowait", "get_nowait", "qsize", "empty", "full", "task_done", "join", "maxsize"},
}
for _q in ("LifoQueue", "PriorityQueue"):
    METHODS[_q] = METHODS["Queue"]
for _f in ("gather", "shield"):
    METHODS[_f] = METHODS["future"]

RETURN_WHEN = {
    "ALL_COMPLETED": asyncio.ALL_COMPLETED,
    "FIRST_COMPLETED": asyncio.FIRST_COMPLETED,
    "FIRST_EXCEPTION": asyncio.FIRST_EXCEPTION,
}


def dump(value):
    """Canonical compact JSON, byte-identical to nlohmann::json::dump() for the values scenarios use."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def kind_of(exc):
    if isinstance(exc, BaseExceptionGroup):
        members = sorted(kind_of(e) for e in exc.exceptions)
        return f"{type(exc).__name__}[{','.join(members)}]"
    for name, cls in EXCEPTIONS.items():
        if type(exc) is cls:
            return name
    return type(exc).__name__


def exc_text(exc):
    if isinstance(exc, BaseExceptionGroup):
        return kind_of(exc)
    msg = str(exc.args[0]) if exc.args else ""
    return f"{kind_of(exc)}({dump(msg)})"


def to_json(value):
    if isinstance(value, BaseException):
        return {"raised": kind_of(value)}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, str)):
        return value
    raise TypeError(f"value {value!r} has no JSON form")


def substitute(node, args):
    """Replaces ${name} in every string of a coroutine body; a string that is exactly ${name} takes the
    argument's own JSON value (so durations and values can be parameters)."""
    if isinstance(node, str):
        for k, v in args.items():
            token = "${" + k + "}"
            if node == token:
                return copy.deepcopy(v)
            if token in node:
                node = node.replace(token, v if isinstance(v, str) else dump(v))
        return node
    if isinstance(node, list):
        return [substitute(n, args) for n in node]
    if isinstance(node, dict):
        return {k: substitute(v, args) for k, v in node.items()}
    return node


class Ret:
    """A `return` step unwinding the body that executes it (not an exception: it must not trip a task
    group's or timeout's __aexit__)."""

    def __init__(self, value):
        self.value = value


class Env:
    def __init__(self, label):
        self.label = label
        self.handling = []  # exceptions being handled, innermost last, for a bare `raise`


def ms(seconds):
    return None if seconds is None else round(seconds * 1000)


class Interpreter:
    def __init__(self, scenario, name="<scenario>"):
        self.s = scenario
        self.name = name
        self.trace = []
        self.objects = {}  # variable -> (kind, object)
        self.values = {}  # variable -> JSON value stored by "as"
        self.excs = {}  # variable -> exception stored by an except clause's "as"
        self.loop = None
        self.recording = True
        self.fatal = None
        self.main_thread = threading.get_ident()
        coros = scenario.get("coros", {})
        if not isinstance(coros, dict):
            raise ScenarioError("coros", "must be an object of name -> list of steps")
        self.coros = coros

    # ---- trace -------------------------------------------------------------------------------------
    def event(self, label, text):
        if self.recording:
            t = ms(self.loop.time()) if self.loop is not None else 0
            self.trace.append({"t": t, "task": label, "ev": text})

    def render(self, expr, path):
        if isinstance(expr, dict) and len(expr) == 1:
            if "var" in expr:
                if expr["var"] not in self.values:
                    raise ScenarioError(path, f"no stored value named {expr['var']!r}")
                return dump(self.values[expr["var"]])
            for key, form in (("exc", exc_text), ("exc_kind", kind_of)):
                if key in expr:
                    if expr[key] not in self.excs:
                        raise ScenarioError(path, f"no caught exception named {expr[key]!r}")
                    return form(self.excs[expr[key]])
        return dump(expr)

    def evaluate(self, expr, path):
        if isinstance(expr, dict) and len(expr) == 1:
            if "var" in expr:
                if expr["var"] not in self.values:
                    raise ScenarioError(path, f"no stored value named {expr['var']!r}")
                return self.values[expr["var"]]
            if "other_thread" in expr:
                return threading.get_ident() != self.main_thread
        return expr

    # ---- objects -----------------------------------------------------------------------------------
    def obj(self, name, path, kinds=None):
        if name == "self":
            task = asyncio.current_task()
            if task is None:
                raise ScenarioError(path, "'self' used outside a task")
            return "task", task
        if name not in self.objects:
            raise ScenarioError(path, f"no object named {name!r}")
        kind, o = self.objects[name]
        if kinds is not None and kind not in kinds:
            raise ScenarioError(path, f"{name!r} is a {kind}, expected one of {sorted(kinds)}")
        return kind, o

    def bind(self, name, kind, o, path):
        if not isinstance(name, str) or not name or name == "self":
            raise ScenarioError(path, "needs a \"name\" (a non-empty string other than 'self')")
        self.objects[name] = (kind, o)

    def body_of(self, spec, path):
        name = spec.get("coro")
        if name not in self.coros:
            raise ScenarioError(path + ".coro", f"no coroutine named {name!r} in \"coros\"")
        args = spec.get("args", {})
        if not isinstance(args, dict):
            raise ScenarioError(path + ".args", "must be an object")
        return substitute(self.coros[name], args)

    def coroutine(self, spec, label, path):
        return self.run_coro(self.body_of(spec, path), label, f"coros.{spec['coro']}")

    def awaitable(self, item, label, path):
        """An item of gather/shield/wait_for/as_completed: a variable name or {"coro":..., "args":...}."""
        if isinstance(item, str):
            kind, o = self.obj(item, path)
            if kind not in ("task", "future", "gather", "shield"):
                raise ScenarioError(path, f"{item!r} is a {kind}, not awaitable")
            return item, o
        if isinstance(item, dict) and "coro" in item:
            return f"coro:{item['coro']}", self.coroutine(item, label, path)
        raise ScenarioError(path, "expected an object name or {\"coro\": name, \"args\": {...}}")

    async def run_coro(self, steps, label, path):
        try:
            r = await self.run_steps(steps, Env(label), path)
        except ScenarioError as e:
            # A malformed step inside a task nobody awaits must still fail the whole run.
            self.fatal = self.fatal or e
            raise
        return r.value if r is not None else None

    # ---- exceptions --------------------------------------------------------------------------------
    def make_exc(self, kind, msg, path):
        if kind not in EXCEPTIONS:
            raise ScenarioError(path, f"unknown exception kind {kind!r}; known: {sorted(EXCEPTIONS)}")
        cls = EXCEPTIONS[kind]
        return cls() if msg is None else cls(msg)

    @staticmethod
    def matches(exc, kind):
        if kind == "BaseException":
            return True
        if kind == "Exception":
            return isinstance(exc, Exception)
        if kind == "ExceptionGroup":
            return isinstance(exc, ExceptionGroup)
        if kind == "BaseExceptionGroup":
            return isinstance(exc, BaseExceptionGroup)
        return isinstance(exc, EXCEPTIONS[kind])

    # ---- steps -------------------------------------------------------------------------------------
    async def run_steps(self, steps, env, path):
        if not isinstance(steps, list):
            raise ScenarioError(path, "must be a list of steps")
        for i, step in enumerate(steps):
            p = f"{path}[{i}]"
            if not isinstance(step, dict) or "op" not in step:
                raise ScenarioError(p, "a step is an object with an \"op\"")
            op = step["op"]
            if op in SYNC_OPS:
                getattr(self, "op_" + op)(step, env, p)
                continue
            if op == "call" and not self.call_awaits(step, p):
                self.op_call(step, env, p)
                continue
            handler = getattr(self, "aop_" + op, None)
            if handler is None:
                raise ScenarioError(p + ".op", f"unknown op {op!r}")
            r = await handler(step, env, p)
            if r is not None:
                return r
        return None

    def run_callback(self, steps, path):
        try:
            self.run_callback_steps(steps, path)
        except ScenarioError as e:
            self.fatal = self.fatal or e
            raise

    def run_callback_steps(self, steps, path):
        env = Env("cb")
        for i, step in enumerate(steps):
            p = f"{path}[{i}]"
            op = step.get("op") if isinstance(step, dict) else None
            if op in SYNC_OPS or (op == "call" and not self.call_awaits(step, p)):
                getattr(self, "op_" + op)(step, env, p)
            else:
                raise ScenarioError(p + ".op", f"op {op!r} cannot run in a callback (it awaits)")

    # Synchronous ops (usable in tasks and callbacks).
    def op_log(self, step, env, p):
        text = "log " + str(step.get("msg", ""))
        if "value" in step:
            text += " " + self.render(step["value"], p + ".value")
        self.event(env.label, text)

    def op_raise(self, step, env, p):
        if "kind" not in step:
            if not env.handling:
                raise ScenarioError(p, "a bare raise (no \"kind\") is only allowed inside an except clause")
            raise env.handling[-1]
        raise self.make_exc(step["kind"], step.get("msg"), p + ".kind")

    def op_new(self, step, env, p):
        t = step.get("type")
        if t not in PRIMITIVES:
            raise ScenarioError(p + ".type", f"unknown type {t!r}; known: {sorted(PRIMITIVES)}")
        args = list(step.get("args", []))
        if t == "Future":
            self.bind(step.get("name"), "future", self.loop.create_future(), p + ".name")
        else:
            self.bind(step.get("name"), t, PRIMITIVES[t](*args), p + ".name")

    def op_create_task(self, step, env, p):
        name = step.get("name")
        coro = self.coroutine(step, name, p)
        if "group" in step:
            _, tg = self.obj(step["group"], p + ".group", {"task_group"})
            try:
                task = tg.create_task(coro, name=name)
            except BaseException:
                coro.close()
                raise
        else:
            task = asyncio.create_task(coro, name=name)
        self.bind(name, "task", task, p + ".name")

    def op_gather(self, step, env, p):
        name = step.get("name")
        items = step.get("items", [])
        aws = [self.awaitable(it, f"{name}.{i}", f"{p}.items[{i}]")[1] for i, it in enumerate(items)]
        g = asyncio.gather(*aws, return_exceptions=bool(step.get("return_exceptions", False)))
        self.bind(name, "gather", g, p + ".name")

    def op_shield(self, step, env, p):
        name = step.get("name")
        _, aw = self.awaitable(step.get("target"), f"{name}.inner", p + ".target")
        self.bind(name, "shield", asyncio.shield(aw), p + ".name")

    def op_call_soon(self, step, env, p):
        steps = step.get("do", [])
        h = self.loop.call_soon(self.run_callback, steps, p + ".do")
        if "name" in step:
            self.bind(step["name"], "handle", h, p + ".name")

    def op_call_later(self, step, env, p):
        steps = step.get("do", [])
        h = self.loop.call_later(step.get("ms", 0) / 1000, self.run_callback, steps, p + ".do")
        if "name" in step:
            self.bind(step["name"], "handle", h, p + ".name")

    def op_add_done_callback(self, step, env, p):
        _, o = self.obj(step.get("target"), p + ".target", {"task", "future", "gather", "shield"})
        steps = step.get("do", [])
        o.add_done_callback(lambda _f: self.run_callback(steps, p + ".do"))

    def job(self, step, p):
        posts = step.get("post", [])
        if "raise" in step:
            exc = self.make_exc(step["raise"], step.get("msg"), p + ".raise")
        value = step.get("return")

        def work():
            for i, cb in enumerate(posts):
                self.loop.call_soon_threadsafe(self.run_callback, cb, f"{p}.post[{i}]")
            if "raise" in step:
                raise exc
            return self.evaluate(value, p + ".return")

        return work

    def op_run_in_executor(self, step, env, p):
        fut = self.loop.run_in_executor(None, self.job(step, p))
        self.bind(step.get("name"), "future", fut, p + ".name")

    def call_awaits(self, step, p):
        target = step.get("target")
        if target == "self" or target not in self.objects:
            return False
        kind = self.objects[target][0]
        return step.get("method") in AWAITING.get(kind, ())

    def call_label(self, step):
        args = ",".join(dump(a) for a in step.get("args", []))
        return f"{step.get('target')}.{step.get('method')}({args})"

    def invoke(self, step, p):
        kind, o = self.obj(step.get("target"), p + ".target")
        method = step.get("method")
        if method not in METHODS.get(kind, ()):
            raise ScenarioError(p + ".method", f"a {kind} has no method {method!r}; known: "
                                f"{sorted(METHODS.get(kind, ()))}")
        args = list(step.get("args", []))
        if method == "set_exception":
            if not args:
                raise ScenarioError(p + ".args", "set_exception takes [kind] or [kind, message]")
            args = [self.make_exc(args[0], args[1] if len(args) > 1 else None, p + ".args[0]")]
        if kind == "timeout" and method == "reschedule":
            args = [None if a is None else a / 1000 for a in args]
        attr = getattr(o, method)
        result = attr(*args) if callable(attr) else attr
        if kind == "timeout" and method == "when":
            result = ms(result)
        return result

    def op_call(self, step, env, p):
        label = self.call_label(step)
        try:
            result = self.invoke(step, p)
        except BaseException as e:
            self.record_raise(label, env, e)
        self.record_value(label, env, step, result)

    def record_raise(self, label, env, exc):
        """Records "<label> raised Kind" and re-raises; called from an except clause."""
        if not isinstance(exc, ScenarioError):
            self.event(env.label, f"{label} raised {kind_of(exc)}")
        raise exc

    def record_value(self, label, env, step, result):
        result = to_json(result)
        self.event(env.label, f"{label} = {dump(result)}")
        if "as" in step:
            self.values[step["as"]] = result

    # Asynchronous ops (tasks only).
    async def aop_call(self, step, env, p):
        await self.outcome(self.call_label(step), env, step, self.invoke(step, p))

    async def aop_sleep(self, step, env, p):
        d = step.get("ms")
        if not isinstance(d, (int, float)) or isinstance(d, bool):
            raise ScenarioError(p + ".ms", "must be a number of milliseconds")
        await asyncio.sleep(d / 1000)

    async def aop_yield(self, step, env, p):
        await asyncio.sleep(0)

    async def aop_return(self, step, env, p):
        return Ret(self.evaluate(step.get("value"), p + ".value"))

    async def outcome(self, label, env, step, aw):
        try:
            result = await aw
        except BaseException as e:
            self.record_raise(label, env, e)
        self.record_value(label, env, step, result)

    async def aop_await(self, step, env, p):
        if "coro" in step:
            # Awaiting a coroutine runs it inline, in the caller's task and under the caller's label.
            aw = self.run_coro(self.body_of(step, p), env.label, f"coros.{step['coro']}")
            label = f"await coro:{step['coro']}"
        else:
            target = step.get("target")
            kind, aw = self.obj(target, p + ".target")
            if kind not in ("task", "future", "gather", "shield", "next"):
                raise ScenarioError(p + ".target", f"{target!r} is a {kind}, not awaitable")
            if kind == "next":
                del self.objects[target]  # an as_completed item can be awaited once
            label = f"await {target}"
        await self.outcome(label, env, step, aw)

    async def aop_wait(self, step, env, p):
        items = step.get("items", [])
        by_id = {}
        aws = []
        for i, it in enumerate(items):
            if not isinstance(it, str):
                raise ScenarioError(f"{p}.items[{i}]", "wait takes object names (tasks or futures)")
            _, o = self.obj(it, f"{p}.items[{i}]", {"task", "future", "gather", "shield"})
            by_id[id(o)] = it
            aws.append(o)
        rw = step.get("return_when", "ALL_COMPLETED")
        if rw not in RETURN_WHEN:
            raise ScenarioError(p + ".return_when", f"must be one of {sorted(RETURN_WHEN)}")
        timeout = step.get("timeout_ms")

        async def run():
            done, pending = await asyncio.wait(aws, timeout=None if timeout is None else timeout / 1000,
                                               return_when=RETURN_WHEN[rw])
            return [sorted(by_id[id(f)] for f in done), sorted(by_id[id(f)] for f in pending)]

        await self.outcome("wait", env, step, run())

    async def aop_wait_for(self, step, env, p):
        target = step.get("target") if "target" in step else {k: step[k] for k in ("coro", "args") if k in step}
        label, aw = self.awaitable(target, "wait_for.inner", p + ".target")
        timeout = step.get("timeout_ms")
        await self.outcome(f"wait_for {label}", env, step,
                           asyncio.wait_for(aw, None if timeout is None else timeout / 1000))

    async def aop_as_completed(self, step, env, p):
        items = step.get("items", [])
        aws = [self.awaitable(it, f"as_completed.{i}", f"{p}.items[{i}]")[1] for i, it in enumerate(items)]
        timeout = step.get("timeout_ms")
        var = step.get("as", "next")
        for nxt in asyncio.as_completed(aws, timeout=None if timeout is None else timeout / 1000):
            self.objects[var] = ("next", nxt)
            r = await self.run_steps(step.get("each", []), env, p + ".each")
            if r is not None:
                return r
        return None

    async def aop_timeout(self, step, env, p):
        if "ms" in step:
            d = step["ms"]
            cm = asyncio.timeout(None if d is None else d / 1000)
        elif "at" in step:
            cm = asyncio.timeout_at(step["at"] / 1000)
        else:
            raise ScenarioError(p, "a timeout needs \"ms\" (delay, or null for none) or \"at\" (absolute ms)")
        if "name" in step:
            self.bind(step["name"], "timeout", cm, p + ".name")
        async with cm:
            return await self.run_steps(step.get("body", []), env, p + ".body")

    async def aop_task_group(self, step, env, p):
        async with asyncio.TaskGroup() as tg:
            self.bind(step.get("name"), "task_group", tg, p + ".name")
            return await self.run_steps(step.get("body", []), env, p + ".body")

    async def aop_with(self, step, env, p):
        _, o = self.obj(step.get("target"), p + ".target", {"Lock", "Semaphore", "BoundedSemaphore", "Condition"})
        async with o:
            return await self.run_steps(step.get("body", []), env, p + ".body")

    async def aop_to_thread(self, step, env, p):
        await self.outcome("await to_thread", env, step, asyncio.to_thread(self.job(step, p)))

    async def aop_try(self, step, env, p):
        handlers = step.get("except", [])
        for i, h in enumerate(handlers):
            if h.get("kind") not in CATCHABLE:
                raise ScenarioError(f"{p}.except[{i}].kind", f"unknown kind {h.get('kind')!r}; "
                                    f"known: {sorted(CATCHABLE)}")
        result = None
        pending = None
        try:
            result = await self.run_steps(step.get("body", []), env, p + ".body")
        except (ScenarioError, Deadlock):
            raise
        except BaseException as e:
            handler = next((h for h in handlers if self.matches(e, h["kind"])), None)
            if handler is None:
                pending = e
            else:
                if "as" in handler:
                    self.excs[handler["as"]] = e
                env.handling.append(e)
                try:
                    result = await self.run_steps(handler.get("body", []), env,
                                                  f"{p}.except[{handlers.index(handler)}].body")
                except (ScenarioError, Deadlock):
                    raise
                except BaseException as e2:
                    pending = e2
                finally:
                    env.handling.pop()
        if "finally" in step:
            r = await self.run_steps(step["finally"], env, p + ".finally")
            if r is not None:
                return r  # a return in finally discards a pending exception, as in Python
        if pending is not None:
            raise pending
        return result


SYNC_OPS = {"log", "raise", "new", "create_task", "gather", "shield", "call_soon", "call_later",
            "add_done_callback", "run_in_executor"}


def run_scenario(scenario, name="<scenario>", info=None):
    """Runs the scenario on a fresh virtual-clock loop; returns the trace (list of events). If `info` is a
    dict, it receives "ambiguous": whether two timers with the same deadline fired."""
    interp = Interpreter(scenario, name)
    if not isinstance(scenario.get("main"), list):
        raise ScenarioError("main", "must be a list of steps")

    def factory():
        loop = VirtualClockLoop()
        interp.loop = loop
        loop.set_exception_handler(
            lambda _loop, ctx: interp.event("loop", "exception_handler " +
                                            (kind_of(ctx["exception"]) if "exception" in ctx else "-")))
        return loop

    outcome = None
    runner = asyncio.Runner(loop_factory=factory)
    try:
        value = runner.run(interp.run_coro(scenario["main"], "main", "main"))
        outcome = f"final main = {dump(to_json(value))}"
    except ScenarioError:
        raise
    except Deadlock:
        outcome = "final main deadlock"
    except BaseException as e:  # the scenario's own exception, KeyboardInterrupt included
        outcome = f"final main raised {kind_of(e)}"
    finally:
        try:
            runner.close()
        except Deadlock:
            # A leftover task that refuses cancellation and then waits forever.
            outcome = (outcome or "final main") + " (deadlock at shutdown)"
    if interp.fatal is not None:
        raise interp.fatal
    interp.event("-", outcome)
    for name_, (kind, o) in sorted(interp.objects.items()):
        if kind != "task":
            continue
        if not o.done():
            state = "pending"
        elif o.cancelled():
            state = "cancelled"
        elif o.exception() is not None:
            state = f"raised {kind_of(o.exception())}"
        else:
            state = f"= {dump(to_json(o.result()))}"
        interp.event("-", f"final {name_} {state}")
    interp.recording = False
    if info is not None:
        info["ambiguous"] = interp.loop.ambiguous()
    return interp.trace
