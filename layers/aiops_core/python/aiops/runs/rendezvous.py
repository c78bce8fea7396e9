"""Meeting point of a waiting workflow and the event that ends its job.

The workflow registers its task token under the job's key; the job's completion event records
the outcome under the same key. Whichever arrives second resumes the workflow, so the order of
the two never matters, and a duplicate completion event resumes nothing.
"""

from collections.abc import Callable
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field


class JobOutcome(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)
    status: Literal["Succeeded", "Failed", "Stopped"]
    detail: dict[str, Any] = Field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        return self.status == "Succeeded"


class Resumption(BaseModel):
    """A waiting task to resume with an outcome; or, when its run gave up waiting
    (`abandoned` says why), an outcome that arrived too late for anyone to resume."""

    model_config = ConfigDict(frozen=True, defer_build=True)
    task_token: str | None
    outcome: JobOutcome
    context: dict[str, Any] = Field(default_factory=dict)
    abandoned: str | None = None


class AbandonedWait(BaseModel):
    """A run that stopped waiting for its job: the job's key, what the run parked with it,
    and the job's outcome when it had already arrived."""

    model_config = ConfigDict(frozen=True, defer_build=True)
    key: str
    context: dict[str, Any] = Field(default_factory=dict)
    outcome: JobOutcome | None = None
    # The outcome was already recorded, alerted and its package rejected (a retried end).
    settled: bool = False


class RendezvousStore(Protocol):
    def register_waiter(
        self, key: str, task_token: str, context: dict[str, Any], run_id: str
    ) -> Resumption | None:
        """Park `task_token` of run `run_id`; returns the resumption when the outcome is
        already there."""
        ...

    def record_outcome(self, key: str, outcome: JobOutcome) -> tuple[bool, Resumption | None]:
        """Record the job's outcome once: (first time?, the resumption when a waiter is
        parked or abandoned). A duplicate outcome is (False, None), unless it is an abandoned
        one not settled yet: (False, that resumption), so a retried delivery settles it."""
        ...

    def mark_settled(self, key: str) -> None:
        """An outcome nobody waited for has been recorded, alerted and its package rejected."""
        ...

    def waiting_key(self, run_id: str) -> str | None:
        """The key of the job run `run_id` parked its wait on, if it did."""
        ...

    def abandon(self, run_id: str, reason: str) -> AbandonedWait | None:
        """The run stops waiting (timed out): its token is dropped, so a later outcome is
        handed back as abandoned instead of resuming. None when the run parked nothing."""
        ...


class TaskResumer(Protocol):
    def succeed(self, task_token: str, output: dict[str, Any]) -> None:
        """Resume with success; `TaskNoLongerWaiting` when the task already ended."""
        ...

    def fail(self, task_token: str, error: str, cause: str) -> None:
        """Resume with failure; `TaskNoLongerWaiting` when the task already ended."""
        ...


class TaskNoLongerWaiting(RuntimeError):
    """The task ended before it could be resumed (timed out, or resumed already)."""


def resume(resumer: TaskResumer, resumption: Resumption) -> None:
    """Resume the parked task (`TaskNoLongerWaiting` when it ended meanwhile)."""
    if resumption.task_token is None:
        raise TaskNoLongerWaiting(resumption.abandoned or "no task is waiting")
    outcome = resumption.outcome
    if outcome.succeeded:
        resumer.succeed(
            resumption.task_token,
            {**resumption.context, **outcome.detail, "status": outcome.status},
        )
    else:
        resumer.fail(
            resumption.task_token,
            error=f"Job{outcome.status}",
            cause=str(outcome.detail.get("reason", outcome.status)),
        )


Delivery = Literal["resumed", "recorded", "duplicate", "late"]


def deliver_outcome(
    key: str,
    outcome: JobOutcome,
    store: RendezvousStore,
    resumer: TaskResumer,
    settle_late: Callable[[Resumption], str],
) -> tuple[Delivery, str]:
    """A job's outcome, delivered once: resume the run waiting on it, or keep it for the run
    that parks later, or — its run gave up — `settle_late` it. A duplicate does nothing."""
    first, resumption = store.record_outcome(key, outcome)
    if not first and resumption is None:
        return "duplicate", ""
    if resumption is None:
        return "recorded", ""
    if resumption.abandoned is not None:
        return "late", settle_late(resumption)
    try:
        resume(resumer, resumption)
    except TaskNoLongerWaiting:
        # The run timed out a moment ago; its end step finds this outcome and settles it.
        return "recorded", "the run stopped waiting; its end settles this result"
    return "resumed", f"run {resumption.context.get('run_id', '?')} resumed"
