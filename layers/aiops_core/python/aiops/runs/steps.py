"""Inputs of the retrain workflow's Lambda steps, as the state machine passes them."""

import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from aiops.registry import Candidate
from aiops.runs.requests import RunRequest


class StepInput(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)
    request: RunRequest


class StartTrainingInput(StepInput):
    task_token: str = Field(min_length=1)


class ReadCandidateInput(StepInput):
    pipeline_execution_arn: str = Field(min_length=1)


class GateInput(StepInput):
    candidate: Candidate


class CaughtError(BaseModel):
    """What a Catch puts at its ResultPath; `Cause` may be absent (e.g. SendTaskFailure
    without one), which is why the state passes the whole object rather than its fields."""

    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)
    Error: str | None = None
    Cause: str | None = None


class EndRunInput(StepInput):
    outcome: Literal["succeeded", "failed"]
    failure: CaughtError | None = None

    @property
    def error(self) -> str | None:
        return self.failure.Error if self.failure else None

    @property
    def cause(self) -> str | None:
        return self.failure.Cause if self.failure else None

    @property
    def job_ended(self) -> bool:
        """The run failed because its job failed or was stopped: nothing left to stop."""
        # JobTimedOut: a fine-tune's reconciling read found its job still running and stopped it.
        return self.error in ("JobFailed", "JobStopped", "JobTimedOut")

    @property
    def timed_out(self) -> bool:
        """The run's wait for its job reached the lease's end (`States.Timeout`)."""
        return self.error == "States.Timeout"


def failure_summary(error: str | None, cause: str | None) -> str | None:
    """A Catch's error and cause as one readable line (a Lambda error's cause is its JSON
    error report: keep the message, drop the stack trace)."""
    if not error:
        return None
    message = cause or ""
    try:
        report = json.loads(message)
    except ValueError:
        report = None
    if isinstance(report, dict) and report.get("errorMessage"):
        message = str(report["errorMessage"])
    return f"{error}: {message}" if message else error


class ApprovalRequest(BaseModel):
    """What the gate hands to the approval workflow when the policy asks for a human: the
    approval's execution input (`execution_name` is idempotent per candidate)."""

    model_config = ConfigDict(frozen=True, ser_json_inf_nan="strings", defer_build=True)
    request: RunRequest
    candidate: Candidate
    champion: Candidate | None = None
    gate_reason: str
    # Step Functions task timeouts: at least a second, and the approval must end inside the
    # workflow's one-year maximum.
    timeout_seconds: int = Field(ge=1, le=360 * 24 * 3600)
    execution_name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,80}$")


class OpenApprovalInput(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)
    approval: ApprovalRequest
    task_token: str = Field(min_length=1)


class ApprovalEnd(BaseModel):
    """The approval workflow's last step: how its wait ended (the approval item says the rest)."""

    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)
    model: str
    version: int
    package_arn: str
    ended: Literal["decided", "timed_out", "failed"]
    failure: CaughtError | None = None
