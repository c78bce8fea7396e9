"""Meeting point of a waiting workflow and the event that ends its job.

The workflow registers its task token under the job's key; the job's completion event records
the outcome under the same key. Whichever arrives second resumes the workflow, so the order of
the two never matters, and a duplicate completion event resumes nothing.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field


class JobOutcome(BaseModel):
    model_config = ConfigDict(frozen=True)
    status: Literal["Succeeded", "Failed", "Stopped"]
    detail: dict[str, Any] = Field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        return self.status == "Succeeded"


class Resumption(BaseModel):
    """A waiting task to resume with an outcome."""

    model_config = ConfigDict(frozen=True)
    task_token: str
    outcome: JobOutcome
    context: dict[str, Any] = Field(default_factory=dict)


class RendezvousStore(Protocol):
    def register_waiter(
        self, key: str, task_token: str, context: dict[str, Any]
    ) -> Resumption | None:
        """Park `task_token`; returns the resumption when the outcome is already there."""
        ...

    def record_outcome(self, key: str, outcome: JobOutcome) -> tuple[bool, Resumption | None]:
        """Record the job's outcome once: (first time?, the resumption when a waiter is
        parked). A duplicate outcome is (False, None)."""
        ...


class TaskResumer(Protocol):
    def succeed(self, task_token: str, output: dict[str, Any]) -> None: ...

    def fail(self, task_token: str, error: str, cause: str) -> None: ...


def resume(resumer: TaskResumer, resumption: Resumption) -> None:
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
