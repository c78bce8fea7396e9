"""The audit ledger: an append-only record of every decision and its cause chain."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field


class LedgerEntry(BaseModel):
    """One decision: what was decided for which model, why, and what caused it.

    `cause` links the chain: event id → decision → execution → model package → approver.
    """

    model_config = ConfigDict(frozen=True)
    model: str
    at: datetime
    action: str
    reason: str
    cause: dict[str, Any] = Field(default_factory=dict)

    @property
    def entry_id(self) -> str:
        # Deterministic: the same decision recorded twice (a retried step) is one entry.
        body = json.dumps(
            [self.model, self.action, self.reason, self.cause], sort_keys=True, default=str
        )
        return hashlib.sha256(body.encode()).hexdigest()[:16]

    @property
    def seq(self) -> str:
        return f"{self.at.isoformat()}#{self.entry_id}"


class Ledger(Protocol):
    def append(self, entry: LedgerEntry) -> bool:
        """Record `entry`; False when this exact decision was already recorded."""
        ...

    def for_model(self, model: str, limit: int = 100) -> list[LedgerEntry]:
        """The model's decisions, oldest first."""
        ...
