"""Virtual time, and the bookkeeping that tells when the embedded cloud has nothing left to do.

Moto runs each Step Functions execution in threads that sleep in real time (Wait states, retry
intervals, task timeouts). The runtime replaces those sleeps with waits on this clock (see
`virtual_threading` and `patches.sfn_clock`), so:

* time moves only when the runtime advances it, and a 6-hour Wait passes instantly;
* the clock knows every interpreter thread (`live`) and which of them are blocked on it, so
  "no thread can make progress" is exact rather than guessed from sleeps.

A blocked wait is a *timer* (a Wait state, a retry interval: the machine will go on by itself at
its deadline, so running until quiet may jump there) or a *timeout* (waiting for something else
to happen, such as a task token; only an explicit `advance` reaches its deadline).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

TIMER = "timer"
TIMEOUT = "timeout"


@dataclass(eq=False)
class Waiter:
    deadline: float | None  # virtual epoch seconds; None waits for a wake-up only
    kind: str
    tracked: bool  # the waiting thread is one the clock counts as live
    woken: bool = False
    description: str = field(default="")


class ClockClosed(RuntimeError):
    pass


class VirtualClock:
    """Virtual wall clock plus the registry of interpreter threads and their blocked waits."""

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime.now(UTC).replace(microsecond=0)
        self.start = start.astimezone(UTC)
        self._now = self.start.timestamp()
        self.cond = threading.Condition()
        self.live = 0
        self._waiters: set[Waiter] = set()
        self.closed = False

    # ------------------------------------------------------------------ reading
    def time(self) -> float:
        return self._now

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._now, UTC)

    def elapsed(self) -> timedelta:
        return self.now() - self.start

    # ------------------------------------------------------------------ moving
    def advance(self, seconds: float) -> None:
        self.advance_to(self._now + seconds)

    def advance_to(self, epoch: float) -> None:
        """Move time forward to `epoch`, waking every wait whose deadline has come."""
        with self.cond:
            if epoch <= self._now:
                return
            self._now = epoch
            for waiter in list(self._waiters):
                if waiter.deadline is not None and waiter.deadline <= epoch:
                    self.wake(waiter)
            self.cond.notify_all()

    # ------------------------------------------------------------------ waiting (cond held)
    def new_waiter(self, timeout: float | None, kind: str, description: str = "") -> Waiter:
        from aiops_local.virtual_threading import is_tracked_thread

        deadline = None if timeout is None else self._now + max(timeout, 0.0)
        return Waiter(deadline, kind, is_tracked_thread(), description=description)

    def block(self, waiter: Waiter) -> None:
        """Wait (with `cond` held) until someone wakes `waiter` or its deadline passes."""
        if self.closed or (waiter.deadline is not None and waiter.deadline <= self._now):
            waiter.woken = True
            return
        self._waiters.add(waiter)
        self.cond.notify_all()
        while not waiter.woken:
            self.cond.wait()

    def wake(self, waiter: Waiter) -> None:
        """Mark `waiter` runnable (with `cond` held); it stops counting as blocked at once."""
        if not waiter.woken:
            waiter.woken = True
            self._waiters.discard(waiter)
            self.cond.notify_all()

    def sleep(
        self,
        seconds: float,
        interrupt: object | None = None,
        kind: str = TIMER,
        description: str = "",
    ) -> None:
        """Sleep `seconds` of virtual time; a `VirtualEvent` given as `interrupt` cuts it short."""
        with self.cond:
            waiter = self.new_waiter(seconds, kind, description)
            register = getattr(interrupt, "add_waiter", None)
            if register is not None:
                register(waiter)
            self.block(waiter)
            unregister = getattr(interrupt, "discard_waiter", None)
            if unregister is not None:
                unregister(waiter)

    # ------------------------------------------------------------------ quiescence
    def runnable(self) -> int:
        """Interpreter threads that are alive and not blocked on this clock."""
        with self.cond:
            return self.live - sum(1 for w in self._waiters if w.tracked)

    def next_deadline(self, kinds: tuple[str, ...] = (TIMER,)) -> float | None:
        with self.cond:
            deadlines = [
                w.deadline for w in self._waiters if w.deadline is not None and w.kind in kinds
            ]
        return min(deadlines) if deadlines else None

    def blocked(self) -> list[Waiter]:
        with self.cond:
            return list(self._waiters)

    def wait_until_idle(self, interrupted: Callable[[], bool], real_timeout: float) -> bool:
        """Block until no interpreter thread can run, or `interrupted()` says there is work.

        Returns False if that took longer than `real_timeout` real seconds (a stuck runtime).
        """
        give_up = time.monotonic() + real_timeout
        with self.cond:
            while self.runnable() > 0:
                if interrupted():
                    return True
                remaining = give_up - time.monotonic()
                if remaining <= 0:
                    return False
                # The timeout only bounds how late we notice work that did not notify us.
                self.cond.wait(min(remaining, 0.05))
        return True

    def notify(self) -> None:
        with self.cond:
            self.cond.notify_all()

    def close(self) -> None:
        """Release every blocked thread: the cloud is going away and its threads must end."""
        with self.cond:
            self.closed = True
            for waiter in list(self._waiters):
                self.wake(waiter)
            self.cond.notify_all()


def iso(moment: datetime) -> str:
    """A UTC moment as AWS events write times, to the second: `2026-11-20T03:00:00Z`."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


_current: VirtualClock | None = None


def current_clock() -> VirtualClock | None:
    return _current


def set_current_clock(clock: VirtualClock | None) -> None:
    global _current
    _current = clock
