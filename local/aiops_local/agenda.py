"""Work the runtime itself has scheduled for a virtual moment: retries, simulated job ends."""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from aiops_local.actors import caused_by_scenario, on_behalf_of_scenario
from aiops_local.clock import VirtualClock


@dataclass(order=True)
class _Item:
    due: float
    seq: int
    description: str = field(compare=False)
    action: Callable[[], None] = field(compare=False)


class Agenda:
    def __init__(self, clock: VirtualClock) -> None:
        self._clock = clock
        self._heap: list[_Item] = []
        self._lock = threading.Lock()
        self._seq = itertools.count()

    def at(self, due: float, description: str, action: Callable[[], None]) -> None:
        # Work a scenario step scheduled (an upload `after` 2h) is still the scenario's when it
        # happens; work the control plane or a simulator scheduled is not.
        by_scenario = caused_by_scenario()

        def run() -> None:
            with on_behalf_of_scenario(by_scenario):
                action()

        with self._lock:
            heapq.heappush(self._heap, _Item(due, next(self._seq), description, run))
        self._clock.notify()

    def after(self, seconds: float, description: str, action: Callable[[], None]) -> None:
        self.at(self._clock.time() + seconds, description, action)

    def next_due(self) -> float | None:
        with self._lock:
            return self._heap[0].due if self._heap else None

    def pop_due(self) -> list[Callable[[], None]]:
        """The actions due by now, earliest first."""
        now = self._clock.time()
        due: list[Callable[[], None]] = []
        with self._lock:
            while self._heap and self._heap[0].due <= now:
                due.append(heapq.heappop(self._heap).action)
        return due

    def pending(self) -> list[str]:
        with self._lock:
            return [item.description for item in sorted(self._heap)]
