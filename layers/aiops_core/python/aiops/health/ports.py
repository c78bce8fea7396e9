"""What the control-plane watch reads (ports; adapters implement them over the control table).

Its own view of locks and approvals: the capabilities that take locks and open approvals keep
theirs, and this one depends on none of them.
"""

from collections.abc import Sequence
from enum import StrEnum
from typing import Protocol

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class LockKind(StrEnum):
    # A model's run (retrain or fine-tune): one at a time per model.
    RUN = "run"
    # An endpoint's deployment: one at a time per SageMaker endpoint.
    DEPLOY = "deploy"
    # A Bedrock model's serving change: one at a time per model.
    SERVING = "serving"


class LockTarget(BaseModel):
    """A lock the watch looks at: its kind, what it locks (a model or an endpoint), and the
    model it is for."""

    model_config = ConfigDict(frozen=True, defer_build=True)
    kind: LockKind
    name: str = Field(min_length=1)
    model: str = Field(min_length=1)


class HeldLock(BaseModel):
    """A lock with a holder, whatever its lease says."""

    model_config = ConfigDict(frozen=True, defer_build=True)
    target: LockTarget
    holder: str
    expires_at: AwareDatetime
    # When the holder took it (run locks say; a deployment's lock does not).
    acquired_at: AwareDatetime | None = None


class OpenApproval(BaseModel):
    """An approval still waiting for a decision (possibly past its expiry)."""

    model_config = ConfigDict(frozen=True, defer_build=True)
    model: str
    version: int = Field(ge=1)
    created_at: AwareDatetime
    expires_at: AwareDatetime


class HeldLocks(Protocol):
    def held(self, targets: Sequence[LockTarget]) -> list[HeldLock]:
        """The locks of `targets` that have a holder, in any order (a free lock, or one never
        taken, is absent)."""
        ...


class OpenApprovals(Protocol):
    def pending(self, models: Sequence[str]) -> list[OpenApproval]:
        """The approvals of `models` still pending, whether or not past their expiry."""
        ...
