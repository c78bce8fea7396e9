"""The queue of events on their way to EventBridge rules.

Anything may put on it from any thread (handlers calling PutEvents, S3 notifications, simulators);
only the runtime's loop takes from it, so routing and delivery happen in one place, in order.
"""

from __future__ import annotations

import collections
import threading
import uuid
from dataclasses import dataclass
from typing import Any

from aiops_local.actors import caused_by_scenario
from aiops_local.clock import VirtualClock, iso


@dataclass(frozen=True)
class BusEvent:
    event: dict[str, Any]
    bus: str = "default"
    by_scenario: bool = False  # put by a scenario step or `aiops local send`, not the control plane


class EventQueue:
    def __init__(self, clock: VirtualClock, account: str, region: str) -> None:
        self._clock = clock
        self._account = account
        self._region = region
        self._items: collections.deque[BusEvent] = collections.deque()
        self._lock = threading.Lock()

    def put(self, event: dict[str, Any], bus: str = "default") -> str:
        """Queue a complete EventBridge event (envelope fields filled in if missing)."""
        full = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "",
            "source": "",
            "account": self._account,
            "time": iso(self._clock.now()),
            "region": self._region,
            "resources": [],
            "detail": {},
        }
        full.update(event)
        with self._lock:
            self._items.append(BusEvent(full, bus, caused_by_scenario()))
        self._clock.notify()
        return str(full["id"])

    def emit(
        self,
        source: str,
        detail_type: str,
        detail: dict[str, Any],
        resources: list[str] | None = None,
    ) -> str:
        """Queue an event as the AWS service `source` would send it."""
        return self.put(
            {
                "source": source,
                "detail-type": detail_type,
                "detail": detail,
                "resources": resources or [],
            }
        )

    def take(self) -> BusEvent | None:
        with self._lock:
            return self._items.popleft() if self._items else None

    def __bool__(self) -> bool:
        with self._lock:
            return bool(self._items)
