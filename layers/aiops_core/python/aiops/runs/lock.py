"""A model's run lock: one run at a time; triggers that arrive meanwhile are coalesced.

A trigger refused by the lock is kept on it (never dropped) and, when the holder releases the
lock, handed over to exactly one follow-up run, which inherits the lock.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from aiops.runs.requests import RunRequest, RunTrigger


class LockOutcome(BaseModel):
    model_config = ConfigDict(frozen=True)
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
