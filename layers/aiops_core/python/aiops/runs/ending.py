"""How every run ends (retrain and fine-tune alike): recorded, alerted when it failed (its data
carried into the model's next run: nothing is lost), the lock released, and the triggers that
arrived meanwhile started as exactly one follow-up run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from aiops.ledger import Ledger, LedgerAction, record
from aiops.pauses import PauseStore, active_pause, hold_if_paused
from aiops.runs.lock import LockStore
from aiops.runs.ports import Alerts, RunStarter
from aiops.runs.requests import RunRequest
from aiops.runs.window import WindowStore

# A window whose runs failed this many times is no longer carried into the next run.
MAX_RUN_FAILURES = 3


@dataclass(frozen=True)
class RunEnding:
    """What a run's end acts through."""

    windows: WindowStore
    locks: LockStore
    runs: RunStarter
    alerts: Alerts
    ledger: Ledger
    # A paused model's follow-up run is held: its data is carried into the next run instead.
    pauses: PauseStore
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
    dropped: list[int] = []
    if outcome == "failed":
        # Nothing is lost: the failed run's windows (own and carried-in) go to the next run —
        # unless they failed MAX_RUN_FAILURES runs: data that fails every run would otherwise
        # start (and pay for) a doomed job each time. Those are set aside for a person.
        windows = sorted(
            set(request.trigger.windows)
            | set(ending.windows.claimed(request.model, request.run_id))
        )
        # A run that fails while its model is paused was most likely stopped by the pause's
        # own remediation (stop_jobs): not the data's fault, so it does not count toward
        # setting the data aside.
        paused = active_pause(ending.pauses, request.model, now)
        if paused is not None:
            cause["failure_not_counted"] = f"the model is paused ({paused.owner})"
            dropped = []
        else:
            failures = {seq: ending.windows.record_failure(request.model, seq) for seq in windows}
            dropped = [seq for seq in windows if failures[seq] >= MAX_RUN_FAILURES]
        carry = [seq for seq in windows if seq not in dropped]
        ending.windows.carry(request.model, carry)
        cause["carried_windows"] = carry
        if dropped:
            cause["set_aside_windows"] = dropped
    record(
        ending.ledger,
        request.model,
        now,
        LedgerAction.RUN_SUCCEEDED if outcome == "succeeded" else LedgerAction.RUN_FAILED,
        reason,
        cause,
    )
    if outcome == "failed":
        aside = (
            f" Window(s) {', '.join(f'w{s:06d}' for s in dropped)} failed {MAX_RUN_FAILURES} "
            "runs and are set aside: they start no more runs until a person looks (their "
            "objects are in the runs' manifests)."
            if dropped
            else ""
        )
        ending.alerts.publish(
            f"[aiops] {request.model}: {ending.workflow} run failed",
            f"Run {request.run_id} failed: {error or 'unknown error'}. The lock is released; "
            f"its {ending.data} ({len(cause['carried_windows'])} window(s)) is carried into "
            f"the model's next run.{aside}",
        )
    follow_up = ending.locks.release(request.model, request.run_id, now, lease)
    if follow_up is None:
        return None
    held = hold_if_paused(
        ending.pauses,
        ending.ledger,
        request.model,
        now,
        f"a follow-up {ending.workflow} run would start ({follow_up.trigger.reason})",
        {"run_id": follow_up.run_id, "after": request.run_id, "carried": follow_up.trigger.windows},
    )
    if held is not None:
        # The lock was handed to the follow-up: give it back (a lock held for a run that never
        # starts would queue every later run behind it), and carry its windows, closed and
        # taken, into the model's next run — after the pause, the first trigger's.
        while follow_up is not None:
            ending.windows.carry(request.model, list(follow_up.trigger.windows))
            follow_up = ending.locks.release(request.model, follow_up.run_id, now, lease)
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
