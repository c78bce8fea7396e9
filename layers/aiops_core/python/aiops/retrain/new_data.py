"""Retrain trigger: new training data → the model's data window → a run when it fills.

Pure orchestration over ports (window store, run starter, ledger): no AWS here.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from aiops.events.s3 import S3ObjectCreated
from aiops.ledger import Ledger, LedgerAction
from aiops.pauses import PauseStore, active_pause, hold_if_paused
from aiops.policy import CONTROL_PLANE_PREFIXES, Policy, SageMakerModelPolicy
from aiops.runs.ports import RunStarter
from aiops.runs.starts import start_window_run as start_closed_window
from aiops.runs.window import AddOutcome, ClosedWindow, ObjectRef, WindowLimits, WindowStore


@dataclass(frozen=True)
class NewDataDependencies:
    """What the new-data trigger and the window sweep act through."""

    windows: WindowStore
    runs: RunStarter
    ledger: Ledger
    # A model's paused triggers: its windows still fill, no run starts.
    pauses: PauseStore


class NewDataDecision(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)
    action: Literal["ignored", "duplicate", "added", "held", "retrain_started", "retrain_dry_run"]
    reason: str
    key: str
    model: str | None = None
    run_id: str | None = None


# ------------------------------------------------------------------ trigger: new training data


def record_training_object(
    event: S3ObjectCreated,
    policy: Policy,
    deps: NewDataDependencies,
    now: datetime,
    owner: str,
) -> NewDataDecision:
    """Add a new training object to its model's window; a window that fills starts a run."""
    obj = event.detail.object
    key = obj.key
    if key.endswith("/"):
        return NewDataDecision(action="ignored", key=key, reason="folder marker, not data")
    if obj.size == 0:
        return NewDataDecision(action="ignored", key=key, reason="zero-byte object")
    if key.startswith(CONTROL_PLANE_PREFIXES):
        return NewDataDecision(
            action="ignored", key=key, reason="the control plane's own output, not training data"
        )
    match = policy.sagemaker_model_for_key(key)
    if match is None:
        return NewDataDecision(
            action="ignored", key=key, reason="outside every model's training-data prefix"
        )
    name, model = match
    ref = ObjectRef(
        bucket=event.detail.bucket.name,
        key=key,
        version_id=obj.version_id,
        etag=obj.etag,
        size=obj.size,
    )
    limits = WindowLimits.from_policy(model.data.window)
    added = deps.windows.add(name, ref, limits, now)
    if added is AddOutcome.DUPLICATE:
        return NewDataDecision(
            action="duplicate", key=key, model=name, reason="object version already counted"
        )
    if added is AddOutcome.ADDED:
        return NewDataDecision(action="added", key=key, model=name, reason="window not full yet")
    # Paused: the window stays open and keeps counting; the sweep closes it once resumed.
    pause = hold_if_paused(
        deps.pauses,
        deps.ledger,
        name,
        now,
        "window full: a retrain would start",
        {"event_id": event.id, "object": f"s3://{ref.bucket}/{key}", "version_id": ref.version_id},
    )
    if pause is not None:
        return NewDataDecision(action="held", key=key, model=name, reason=pause.describe())
    closed = deps.windows.close(name, limits, now, owner)
    if closed is None:
        return NewDataDecision(
            action="added",
            key=key,
            model=name,
            reason="window already closed by a concurrent delivery",
        )
    return start_window_run(closed, model, "new_data", deps, now, event_id=event.id, key=key)


def start_window_run(
    closed: ClosedWindow,
    model: SageMakerModelPolicy,
    kind: Literal["new_data", "window_age"],
    deps: NewDataDependencies,
    now: datetime,
    event_id: str | None = None,
    key: str = "",
) -> NewDataDecision:
    request = start_closed_window(
        closed,
        kind,
        model.dry_run,
        deps.runs,
        deps.windows,
        deps.ledger,
        now,
        LedgerAction.RETRAIN_REQUESTED,
        LedgerAction.RETRAIN_DRY_RUN,
        event_id,
    )
    return NewDataDecision(
        action="retrain_dry_run" if model.dry_run else "retrain_started",
        key=key,
        model=closed.model,
        reason=closed.reason,
        run_id=request.run_id,
    )


class SweepResult(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)
    started: list[NewDataDecision] = Field(default_factory=list)


def sweep_windows(
    policy: Policy,
    deps: NewDataDependencies,
    now: datetime,
    owner: str,
) -> SweepResult:
    """Close windows whose oldest object is too old, and start runs a crash left unstarted."""
    started: list[NewDataDecision] = []
    for name, model in policy.sagemaker_models().items():
        if active_pause(deps.pauses, name, now) is not None:
            continue  # what it holds starts on the first sweep after it is lifted or expires
        for closed in deps.windows.unstarted(name):
            started.append(start_window_run(closed, model, "window_age", deps, now))
        limits = WindowLimits.from_policy(model.data.window)
        aged = deps.windows.close(name, limits, now, owner)
        if aged is not None:
            started.append(start_window_run(aged, model, "window_age", deps, now))
    return SweepResult(started=started)
