"""A model's data window: the training objects gathered since its last run.

Each S3 object counts once, whatever the number of deliveries; the window closes exactly once when
it reaches the policy's object count or byte size, or when its oldest object reaches the maximum
age. A closed window is an immutable snapshot: the exact keys and versions a run trains on.
"""

import hashlib
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from aiops.policy import WindowPolicy
from aiops.units import format_duration


class ObjectRef(BaseModel):
    """One S3 object version, as a run's manifest names it."""

    model_config = ConfigDict(frozen=True, defer_build=True)
    bucket: str
    key: str
    version_id: str | None = None
    etag: str | None = None
    size: int = Field(ge=0)
    # Labeled data: the object's records valid for the base model (what a fine-tune counts).
    records: int | None = Field(default=None, ge=0)

    @property
    def natural_key(self) -> str:
        """Stable id of this object version: key + version id, or key + etag when unversioned."""
        version = self.version_id or f"etag:{self.etag}"
        digest = hashlib.sha256(f"{self.bucket}/{self.key}#{version}".encode()).hexdigest()
        return digest[:32]


class WindowLimits(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)
    objects: int = Field(ge=1)
    bytes: int = Field(ge=1)
    max_age: timedelta
    # Labeled data windows also close on their good records.
    records: int | None = Field(default=None, ge=1)

    @classmethod
    def from_policy(cls, policy: WindowPolicy) -> "WindowLimits":
        return cls(objects=policy.objects, bytes=policy.bytes, max_age=policy.max_age)


class AddOutcome(StrEnum):
    DUPLICATE = "duplicate"
    ADDED = "added"
    THRESHOLD_REACHED = "threshold_reached"


class ClosedWindow(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)
    model: str
    seq: int = Field(ge=1)
    objects: list[ObjectRef]
    bytes: int
    reason: str
    closed_at: datetime
    run_started: bool = False

    @property
    def window_id(self) -> str:
        return f"w{self.seq:06d}"

    @property
    def records(self) -> int:
        """Good labeled records in the window (0 for training data)."""
        return sum(o.records or 0 for o in self.objects)


def close_reason(
    objects: int,
    size: int,
    opened_at: datetime | None,
    limits: WindowLimits,
    now: datetime,
    records: int = 0,
) -> str | None:
    """Why a window with these contents is due to close, or None while it is not."""
    if limits.records is not None and records >= limits.records:
        return f"window reached {records} good records (threshold {limits.records})"
    if objects >= limits.objects:
        return f"window reached {objects} objects (limit {limits.objects})"
    if size >= limits.bytes:
        return f"window reached {size} bytes (limit {limits.bytes})"
    if objects > 0 and opened_at is not None and now - opened_at >= limits.max_age:
        age = timedelta(seconds=int((now - opened_at).total_seconds()))
        limit = format_duration(limits.max_age)
        return f"oldest object is {format_duration(age)} old (max age {limit})"
    return None


class WindowStore(Protocol):
    def add(
        self, model: str, obj: ObjectRef, limits: WindowLimits, now: datetime
    ) -> AddOutcome: ...

    def close(
        self,
        model: str,
        limits: WindowLimits,
        now: datetime,
        owner: str,
        force_reason: str | None = None,
    ) -> ClosedWindow | None:
        """Close the open window if it is due (with `force_reason`: if it holds any object);
        exactly one concurrent caller gets it."""
        ...

    def counted(self, model: str, obj: ObjectRef) -> bool:
        """Whether this object version was already added to one of the model's windows."""
        ...

    def get(self, model: str, seq: int) -> ClosedWindow | None: ...

    def latest(self, model: str) -> ClosedWindow | None:
        """The most recently closed window."""
        ...

    def unstarted(self, model: str) -> list[ClosedWindow]:
        """Closed windows whose run has not been started yet (e.g. a crash after closing)."""
        ...

    def mark_started(self, model: str, seq: int) -> None: ...

    def record_failure(self, model: str, seq: int) -> int:
        """One more run that failed on window `seq`: how many have now."""
        ...

    def carry(self, model: str, seqs: list[int]) -> None:
        """Keep a failed run's windows for the model's next run."""
        ...

    def carried(self, model: str) -> list[int]:
        """The windows waiting for the model's next run."""
        ...

    def claim_carried(self, model: str, run_id: str) -> list[int]:
        """Take the carried windows for `run_id`; a retry of the same run gets the same ones."""
        ...

    def claimed(self, model: str, run_id: str) -> list[int]:
        """The carried windows `run_id` took, if any."""
        ...
