"""A model's run lock: one run at a time; triggers that arrive meanwhile are coalesced.

A trigger refused by the lock is kept on it (never dropped) and, when the holder releases the
lock, handed over to exactly one follow-up run, which inherits the lock.
"""

from datetime import datetime, timedelta
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from aiops.ledger import Ledger, LedgerAction, record
from aiops.policy import (
    FINETUNE_STEPS_MARGIN,
    RUN_STEPS_MARGIN,
    BedrockModelPolicy,
    Policy,
    SageMakerModelPolicy,
)
from aiops.runs.requests import RunRequest, RunTrigger


class LockOutcome(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)
    acquired: bool
    holder: str | None
    coalesced: bool = False


class LockStore(Protocol):
    def acquire(
        self, model: str, run_id: str, trigger: RunTrigger, now: datetime, ttl: timedelta
    ) -> LockOutcome:
        """Take the lock for `run_id` (re-entrant), or coalesce `trigger` into the holder's
        pending triggers: recorded once, however often it is retried."""
        ...

    def release(self, model: str, run_id: str, now: datetime, ttl: timedelta) -> RunRequest | None:
        """Release the lock held by `run_id`. With pending triggers, the lock passes to their
        follow-up run, returned to be started; retrying the release returns the same one."""
        ...


# ------------------------------------------------------------------ the workflows' lock step


def job_wait_budget(model: SageMakerModelPolicy | BedrockModelPolicy) -> timedelta:
    """How long a run may wait for its training job: the lease less the steps' margin (and, for
    a fine-tune, less its own steps, its evaluation's timeout and one poll), so two runs never
    hold the lock at once (the policy keeps it at least an hour)."""
    budget = model.run_timeout - RUN_STEPS_MARGIN
    if isinstance(model, BedrockModelPolicy):
        evaluation = model.fine_tune.evaluation
        budget -= FINETUNE_STEPS_MARGIN + evaluation.timeout + evaluation.poll
    return budget


class RunLock(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)
    acquired: bool
    holder: str | None
    # The longest the run may wait for its job (whole seconds, for the state's timeout).
    wait_seconds: int


def take_lock(
    request: RunRequest, policy: Policy, locks: LockStore, ledger: Ledger, now: datetime
) -> RunLock:
    """A run's first step (retrain and fine-tune): take the model's lock, or coalesce the run's
    trigger into the holder's follow-up."""
    model = policy.model(request.model)
    outcome = locks.acquire(request.model, request.run_id, request.trigger, now, model.run_timeout)
    if outcome.acquired:
        record(
            ledger,
            request.model,
            now,
            LedgerAction.RUN_STARTED,
            request.trigger.reason,
            {
                "run_id": request.run_id,
                "trigger": request.trigger.trigger_id,
                "event_id": request.trigger.event_id,
            },
        )
    else:
        record(
            ledger,
            request.model,
            now,
            LedgerAction.TRIGGER_COALESCED,
            f"run {outcome.holder} holds the lock; one follow-up run will include this trigger",
            {
                "run_id": request.run_id,
                "holder": outcome.holder,
                "trigger": request.trigger.trigger_id,
            },
        )
    return RunLock(
        acquired=outcome.acquired,
        holder=outcome.holder,
        wait_seconds=max(1, int(job_wait_budget(model).total_seconds())),
    )
