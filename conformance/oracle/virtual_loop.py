"""An asyncio selector event loop whose clock is virtual.

The loop's time() is a number we own. When nothing is ready, BaseEventLoop._run_once asks the selector to
wait until the next timer; our selector answers by moving the virtual clock to that deadline instead of
sleeping, so timers fire exactly at their deadline and a scenario that "sleeps" ten seconds takes none.

Executor jobs are the one thing that needs real time: while a run_in_executor future is outstanding the
selector blocks for real (on the loop's self-pipe) without advancing the clock, so a thread's work takes zero
virtual time and its completion is ordered deterministically before any later timer.
"""

import asyncio
import selectors


class Deadlock(Exception):
    """Nothing is ready, no timer is pending and no thread can wake the loop: the program can never go on."""


class _VirtualSelector:
    def __init__(self, loop, real):
        self._loop = loop
        self._real = real

    def select(self, timeout=None):
        if timeout is not None and timeout <= 0:
            return self._real.select(0)
        events = self._real.select(0)
        if events:
            return events
        if self._loop._executor_jobs > 0:
            # Time stands still while a thread works; the self-pipe wakes us when it posts its result.
            return self._real.select(None)
        if timeout is None:
            raise Deadlock("no ready callback, no timer and no executor job")
        self._loop._vtime += timeout
        return []

    def __getattr__(self, name):
        return getattr(self._real, name)


class VirtualClockLoop(asyncio.SelectorEventLoop):
    def __init__(self):
        self._vtime = 0.0
        self._executor_jobs = 0
        self.fired_deadlines = []
        real = selectors.DefaultSelector()
        super().__init__(selector=_VirtualSelector(self, real))
        # A deadline computed as now + (when - now) can miss `when` by one ulp; this absorbs it.
        self._clock_resolution = 1e-9

    def time(self):
        return self._vtime

    def call_at(self, when, callback, *args, context=None):
        # Remember the deadline of every timer that actually fires: two equal ones mean the run depended on
        # an order asyncio leaves undefined (ORD-004), which the differential fuzzer must not count.
        def fire(*a):
            self.fired_deadlines.append(when)
            return callback(*a)

        return super().call_at(when, fire, *args, context=context)

    def ambiguous(self):
        return len(self.fired_deadlines) != len(set(self.fired_deadlines))

    def run_in_executor(self, executor, func, *args):
        fut = super().run_in_executor(executor, func, *args)
        self._executor_jobs += 1

        def _job_done(_fut):
            self._executor_jobs -= 1

        fut.add_done_callback(_job_done)
        return fut

    async def shutdown_default_executor(self):
        # The joining thread wakes the loop through the self-pipe: count it as a job so time stands still.
        self._executor_jobs += 1
        try:
            await super().shutdown_default_executor()
        finally:
            self._executor_jobs -= 1
