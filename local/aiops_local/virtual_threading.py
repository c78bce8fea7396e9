"""Drop-in `threading` primitives whose waits run on the virtual clock.

Installed into moto's Step Functions interpreter modules (see `patches.sfn_clock`): every Event,
Condition and Thread join there waits in virtual time and is visible to the clock's accounting.
Outside a running cloud (no current clock) waits return at once instead of hanging a thread.
"""

from __future__ import annotations

import contextvars
import threading
import types
from collections.abc import Callable
from typing import Any

from aiops_local.clock import TIMEOUT, VirtualClock, Waiter, current_clock


def _clock() -> VirtualClock | None:
    clock = current_clock()
    return None if clock is None or clock.closed else clock


def is_tracked_thread() -> bool:
    return isinstance(threading.current_thread(), VirtualThread)


class VirtualEvent:
    """threading.Event whose `wait(timeout)` counts the timeout in virtual seconds."""

    def __init__(self) -> None:
        self._flag = False
        self._waiters: set[Waiter] = set()

    def is_set(self) -> bool:
        return self._flag

    isSet = is_set

    def add_waiter(self, waiter: Waiter) -> None:
        self._waiters.add(waiter)

    def discard_waiter(self, waiter: Waiter) -> None:
        self._waiters.discard(waiter)

    def set(self) -> None:
        clock = current_clock()
        if clock is None:
            self._flag = True
            return
        with clock.cond:
            self._flag = True
            for waiter in list(self._waiters):
                clock.wake(waiter)
            self._waiters.clear()

    def clear(self) -> None:
        self._flag = False

    def wait(self, timeout: float | None = None) -> bool:
        clock = _clock()
        if clock is None:
            return self._flag
        with clock.cond:
            if self._flag:
                return True
            waiter = clock.new_waiter(timeout, TIMEOUT, "event")
            self._waiters.add(waiter)
            clock.block(waiter)
            self._waiters.discard(waiter)
            return self._flag


class VirtualCondition:
    """threading.Condition (over a plain Lock) whose waits are visible to the clock."""

    def __init__(self, lock: Any = None) -> None:
        self._lock = lock if lock is not None else threading.Lock()
        self._waiters: set[Waiter] = set()

    def acquire(self, *args: Any, **kwargs: Any) -> bool:
        return bool(self._lock.acquire(*args, **kwargs))

    def release(self) -> None:
        self._lock.release()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()

    def wait(self, timeout: float | None = None) -> bool:
        clock = _clock()
        if clock is None:
            return False
        # Lock order everywhere is: this condition's lock, then the clock's. The waiter is
        # registered before our lock is released, so a notify cannot slip in between.
        with clock.cond:
            waiter = clock.new_waiter(timeout, TIMEOUT, "condition")
            self._waiters.add(waiter)
            self._lock.release()
            clock.block(waiter)
            self._waiters.discard(waiter)
        self._lock.acquire()
        return waiter.deadline is None or clock.time() < waiter.deadline

    def wait_for(self, predicate: Callable[[], bool], timeout: float | None = None) -> bool:
        result = predicate()
        while not result:
            if not self.wait(timeout) and timeout is not None:
                return predicate()
            result = predicate()
        return result

    def notify(self, n: int = 1) -> None:
        clock = current_clock()
        if clock is None:
            return
        with clock.cond:
            for waiter in list(self._waiters)[:n]:
                clock.wake(waiter)
                self._waiters.discard(waiter)

    def notify_all(self) -> None:
        self.notify(len(self._waiters))

    notifyAll = notify_all


class VirtualThread(threading.Thread):
    """A thread the clock counts as live from `start()` until its target returns."""

    _vclock: VirtualClock | None = None

    def start(self) -> None:
        # The new thread works on behalf of whoever started it (see actors.py).
        self._vcontext = contextvars.copy_context()
        self._vclock = current_clock()
        self._vdone = False
        self._vjoiners: set[Waiter] = set()
        if self._vclock is not None:
            with self._vclock.cond:
                self._vclock.live += 1
        try:
            super().start()
        except BaseException:
            self._finish()
            raise

    def run(self) -> None:
        try:
            self._vcontext.run(super().run)
        finally:
            self._finish()

    def _finish(self) -> None:
        clock = self._vclock
        if clock is None:
            self._vdone = True
            return
        with clock.cond:
            if self._vdone:
                return
            self._vdone = True
            clock.live -= 1
            for waiter in list(self._vjoiners):
                clock.wake(waiter)
            clock.cond.notify_all()

    def join(self, timeout: float | None = None) -> None:
        clock = self._vclock
        if clock is None or clock.closed:
            super().join(timeout)
            return
        with clock.cond:
            if not self._vdone:
                waiter = clock.new_waiter(timeout, TIMEOUT, "join")
                self._vjoiners.add(waiter)
                clock.block(waiter)
                self._vjoiners.discard(waiter)
        if self._vdone:
            # The target has returned; the OS thread is only unwinding.
            super().join()


def threading_shim() -> types.ModuleType:
    """A stand-in for the `threading` module with virtual Event, Condition and Thread."""
    shim = types.ModuleType("aiops_local_virtual_threading")
    shim.__dict__.update({k: v for k, v in vars(threading).items() if not k.startswith("__")})
    shim.Event = VirtualEvent  # type: ignore[attr-defined]
    shim.Condition = VirtualCondition  # type: ignore[attr-defined]
    shim.Thread = VirtualThread  # type: ignore[attr-defined]
    return shim


def time_shim() -> types.ModuleType:
    """A stand-in for the `time` module whose `sleep` and `time` are virtual."""
    import time as real_time

    from aiops_local.clock import TIMER

    shim = types.ModuleType("aiops_local_virtual_time")
    shim.__dict__.update({k: v for k, v in vars(real_time).items() if not k.startswith("__")})

    def sleep(seconds: float) -> None:
        clock = _clock()
        if clock is not None:
            clock.sleep(seconds, kind=TIMER, description="sleep")

    def now() -> float:
        clock = current_clock()
        return clock.time() if clock is not None else real_time.time()

    shim.sleep = sleep  # type: ignore[attr-defined]
    shim.time = now  # type: ignore[attr-defined]
    return shim


def datetime_shim() -> types.ModuleType:
    """A stand-in for the `datetime` module whose `datetime.now()` is virtual."""
    import datetime as real_datetime

    class VirtualDatetime(real_datetime.datetime):
        @classmethod
        def now(cls, tz: real_datetime.tzinfo | None = None) -> VirtualDatetime:
            clock = current_clock()
            if clock is None:
                return super().now(tz)
            moment = clock.now()
            # Naive local time without a tz, as datetime.now() gives.
            moment = (
                moment.astimezone().replace(tzinfo=None) if tz is None else moment.astimezone(tz)
            )
            return cls.combine(moment.date(), moment.timetz())

    shim = types.ModuleType("aiops_local_virtual_datetime")
    shim.__dict__.update({k: v for k, v in vars(real_datetime).items() if not k.startswith("__")})
    shim.datetime = VirtualDatetime  # type: ignore[attr-defined]
    return shim
