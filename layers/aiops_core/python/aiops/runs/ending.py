"""How every run ends (retrain and fine-tune alike): recorded, alerted when it failed (its data
carried into the model's next run: nothing is lost), the lock released, and the triggers that
arrived meanwhile started as exactly one follow-up run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from aiops.ledger import Ledger, LedgerAction, record
from aiops.runs.lock import LockStore
from aiops.runs.ports import Alerts, RunStarter
from aiops.runs.requests import RunRequest
from aiops.runs.window import WindowStore


@dataclass(frozen=True)
class RunEnding:
    """What a run's end acts through."""

    windows: WindowStore
    locks: LockStore
    runs: RunStarter
    alerts: Alerts
    ledger: Ledger
    # For people: "retrain" / "fine-tune", and what its windows hold ("data", "labeled data").
    workflow: str
    data: str


def close_run(
    request: RunRequest,
    outcome: Literal["succeeded", "failed"],
    error: str | None,
    cause: dict[str, Any],
    ending: RunEnding,
    lease: timedelta,
    now: datetime,
) -> str | None:
    """Record the run's end, release its lock; the follow-up run's id when one started."""
    reason = "run completed" if outcome == "succeeded" else f"run failed: {error or 'unknown'}"
    if outcome == "failed":
        # Nothing is lost: the failed run's windows (own and carried-in) go to the next run.
        carry = sorted(
            set(request.trigger.windows)
            | set(ending.windows.claimed(request.model, request.run_id))
        )
        ending.windows.carry(request.model, carry)
        cause["carried_windows"] = carry
    record(
        ending.ledger,
        request.model,
        now,
        LedgerAction.RUN_SUCCEEDED if outcome == "succeeded" else LedgerAction.RUN_FAILED,
        reason,
        cause,
    )
    if outcome == "failed":
        ending.alerts.publish(
            f"[aiops] {request.model}: {ending.workflow} run failed",
            f"Run {request.run_id} failed: {error or 'unknown error'}. The lock is released; "
            f"its {ending.data} ({len(cause['carried_windows'])} window(s)) is carried into "
            "the model's next run.",
        )
    follow_up = ending.locks.release(request.model, request.run_id, now, lease)
    if follow_up is None:
        return None
    execution = ending.runs.start(follow_up)
    record(
        ending.ledger,
        request.model,
        now,
        LedgerAction.FOLLOW_UP_STARTED,
        follow_up.trigger.reason,
        {"run_id": follow_up.run_id, "after": request.run_id, "execution": execution},
    )
    return follow_up.run_id
