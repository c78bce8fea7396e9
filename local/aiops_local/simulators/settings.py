"""A simulator's scenario settings: its defaults, the overrides of its next runs (`next`), and the
checks its settings share — each error a ValueError naming the simulator and the setting.

A scenario sets a simulator with `simulators.<name>: {...}` or a `configure` step; `next: [...]`
holds per-run overrides, used in order by the next runs (jobs, deployments, ...).
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from aiops.units import duration_seconds

Check = Callable[[dict[str, Any]], None]


class RunSettings:
    """The defaults of a simulator's runs and the overrides queued for its next ones."""

    def __init__(self, simulator: str, defaults: dict[str, Any], check: Check) -> None:
        self.simulator = simulator
        self.defaults = dict(defaults)
        self.next_runs: deque[dict[str, Any]] = deque()
        self._check = check
        # Runs start on callers' threads; configure steps on the scenario's.
        self._lock = threading.Lock()

    def configure(self, settings: Any) -> None:
        """Checked settings become the defaults; their `next` list is queued for the next runs.
        Nothing changes when any of them is wrong."""
        if not isinstance(settings, dict):
            raise ValueError(f"{self.simulator}: settings are a mapping")
        settings = dict(settings)
        overrides = settings.pop("next", None) or []
        if not isinstance(overrides, list) or not all(isinstance(o, dict) for o in overrides):
            raise ValueError(f"{self.simulator}: next is a list of settings")
        for override in overrides:
            self._check(override)
        self._check(settings)
        with self._lock:
            self.next_runs.extend(dict(o) for o in overrides)
            self.defaults.update(settings)

    def for_next_run(self, planned: dict[str, Any] | None = None) -> dict[str, Any]:
        """The settings of a run starting now: the defaults with `planned` (the run's own), else
        with the next queued override (which it uses up)."""
        with self._lock:
            settings = dict(self.defaults)
            if planned is not None:
                settings.update(planned)
            elif self.next_runs:
                settings.update(self.next_runs.popleft())
            return settings


# ---------------------------------------------------------------------- shared checks
def check_known(
    simulator: str, settings: Mapping[str, Any], known: tuple[str, ...], takes_next: bool = True
) -> None:
    unknown = set(settings) - set(known)
    if unknown:
        names = ", ".join(known) + (", next" if takes_next else "")
        raise ValueError(f"{simulator}: unknown settings {sorted(unknown)}; known: {names}")


def check_choice(
    simulator: str, settings: Mapping[str, Any], key: str, choices: tuple[str, ...]
) -> None:
    if key in settings and settings[key] not in choices:
        raise ValueError(
            f"{simulator}: {key} must be one of {', '.join(choices)}, not {settings[key]!r}"
        )


def check_durations(
    simulator: str, settings: Mapping[str, Any], keys: tuple[str, ...], at_most_days: int
) -> None:
    """Each of `keys` present is a duration ("5m", "2h", "1d") from 0s to `at_most_days`."""
    for key in keys:
        if key in settings:
            try:
                seconds = duration_seconds(settings[key])
            except (TypeError, ValueError) as error:
                raise ValueError(f"{simulator}: {key}: {error}") from None
            if not 0 <= seconds <= at_most_days * 86400:
                raise ValueError(f"{simulator}: {key} must be between 0s and {at_most_days}d")


def check_text(simulator: str, settings: Mapping[str, Any], key: str, max_chars: int) -> None:
    if key in settings:
        text = settings[key]
        if not isinstance(text, str) or not text.strip() or len(text) > max_chars:
            raise ValueError(f"{simulator}: {key} is a text of 1 to {max_chars} characters")


def number_within(value: Any, low: float, high: float) -> bool:
    """A finite number (not a boolean) from `low` to `high`."""
    return (
        not isinstance(value, bool)
        and isinstance(value, int | float)
        and math.isfinite(value)
        and low <= value <= high
    )


def check_number(
    simulator: str, settings: Mapping[str, Any], key: str, low: float, high: float
) -> None:
    if key in settings and not number_within(settings[key], low, high):
        raise ValueError(
            f"{simulator}: {key} is a number from {low:g} to {high:g}, not {settings[key]!r}"
        )
