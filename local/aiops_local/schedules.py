"""Scheduled triggers (EventBridge Scheduler schedules, scheduled rules) fired on virtual time.

Ticks are coalesced: when time jumps past several ticks at once, the schedule fires once, at the
end of the jump, as a scheduler catching up would. Schedules never make time move by themselves
(otherwise "run until quiet" would never be quiet).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_UNIT_S = {"minute": 60, "hour": 3600, "day": 86400}


def rate_seconds(expression: str) -> int | None:
    match = _RATE.match(expression.strip())
    if match is None:
        return None
    return int(match.group(1)) * _UNIT_S[match.group(2).rstrip("s")]


@dataclass
class Schedule:
    name: str  # the template's logical id
    expression: str
    period_s: int
    fire: Callable[[], None]
    next_at: float


class Schedules:
    def __init__(self) -> None:
        self.items: list[Schedule] = []
        self.unsupported: list[str] = []

    def add(self, name: str, expression: str, start: float, fire: Callable[[], None]) -> None:
        period = rate_seconds(expression)
        if period is None:
            # cron() would need a calendar; none of our schedules uses one yet.
            self.unsupported.append(f"{name}: {expression}")
            return
        self.items.append(Schedule(name, expression, period, fire, start + period))

    def due(self, now: float) -> list[Schedule]:
        """Schedules with a tick at or before `now`; each moves past `now`."""
        fired: list[Schedule] = []
        for item in self.items:
            if item.next_at <= now:
                missed = int((now - item.next_at) // item.period_s) + 1
                item.next_at += missed * item.period_s
                fired.append(item)
        return fired


def scheduler_payload(target: dict[str, Any]) -> Any:
    """What EventBridge Scheduler passes a templated Lambda target: its Input, or {}."""
    raw = target.get("Input")
    if raw is None:
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        return raw
