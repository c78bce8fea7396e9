"""A model's paused triggers: new data, drift and labels stop starting runs for it.

A pause is the cost capability's to set and lift (a budget action, `aiops resume`), and the
triggers' to obey: while it holds, their events still count (windows fill, drift is recorded),
only the run is held. A pause has an owner (what set it), a reason, and an optional expiry
after which it no longer holds, whoever forgets to lift it.
"""

from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from aiops.ledger import Ledger, LedgerAction, record


class Pause(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)
    model: str = Field(min_length=1)
    # What set it: "cost:anomaly:<id>", "cost:alarm:<name>", or an operator.
    owner: str = Field(min_length=1)
    reason: str
    since: datetime
    until: datetime | None = None
    cause: dict[str, Any] = Field(default_factory=dict)

    def holds(self, now: datetime) -> bool:
        return self.until is None or now < self.until

    def describe(self) -> str:
        until = f" until {self.until.isoformat()}" if self.until else " until resumed"
        return (
            f"triggers paused by {self.owner} since {self.since.isoformat()}{until}: {self.reason}"
        )


class PauseStore(Protocol):
    def get(self, model: str) -> Pause | None:
        """The model's pause, expired or not."""
        ...

    def pause(self, pause: Pause) -> bool:
        """Set `pause` unless the model has one that still holds at `pause.since`: True when
        this call set it (an expired pause is replaced)."""
        ...

    def lift(self, model: str) -> Pause | None:
        """Remove the model's pause: the one removed, or None when there was none."""
        ...


def active_pause(pauses: PauseStore, model: str, now: datetime) -> Pause | None:
    """The pause that holds the model's triggers at `now`, if any."""
    pause = pauses.get(model)
    return pause if pause is not None and pause.holds(now) else None


def hold_if_paused(
    pauses: PauseStore,
    ledger: Ledger,
    model: str,
    now: datetime,
    would: str,
    cause: dict[str, Any],
) -> Pause | None:
    """The pause holding the run that `would` start, recorded as held (the data still
    counts; resuming starts it); None when the model is not paused."""
    pause = active_pause(pauses, model, now)
    if pause is not None:
        record(
            ledger,
            model,
            now,
            LedgerAction.RUN_HELD,
            f"{would}; held: {pause.describe()}",
            {**cause, "paused_by": pause.owner},
        )
    return pause
