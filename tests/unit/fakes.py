"""In-memory stand-ins for the domain's ports (unit tests only; moto covers the adapters)."""

from __future__ import annotations

from datetime import datetime

from aiops.ledger import LedgerEntry
from aiops.triggers import RunRequest
from aiops.window import AddOutcome, ClosedWindow, ObjectRef, WindowLimits, close_reason


class MemoryWindows:
    def __init__(self) -> None:
        self.pending: dict[str, dict[str, ObjectRef]] = {}
        self.seen: set[tuple[str, str]] = set()
        self.opened: dict[str, datetime] = {}
        self.closed: dict[tuple[str, int], ClosedWindow] = {}
        self.started: set[tuple[str, int]] = set()

    def add(self, model: str, obj: ObjectRef, limits: WindowLimits, now: datetime) -> AddOutcome:
        if (model, obj.natural_key) in self.seen:
            return AddOutcome.DUPLICATE
        self.seen.add((model, obj.natural_key))
        self.pending.setdefault(model, {})[obj.natural_key] = obj
        self.opened.setdefault(model, now)
        objs = self.pending[model].values()
        due = close_reason(len(objs), sum(o.size for o in objs), None, limits, now)
        return AddOutcome.THRESHOLD_REACHED if due else AddOutcome.ADDED

    def close(
        self, model: str, limits: WindowLimits, now: datetime, owner: str
    ) -> ClosedWindow | None:
        objs = list(self.pending.get(model, {}).values())
        reason = close_reason(
            len(objs), sum(o.size for o in objs), self.opened.get(model), limits, now
        )
        if reason is None:
            return None
        seq = 1 + sum(1 for m, _ in self.closed if m == model)
        window = ClosedWindow(
            model=model,
            seq=seq,
            objects=objs,
            bytes=sum(o.size for o in objs),
            reason=reason,
            closed_at=now,
        )
        self.closed[(model, seq)] = window
        self.pending[model] = {}
        self.opened.pop(model, None)
        return window

    def get(self, model: str, seq: int) -> ClosedWindow | None:
        return self.closed.get((model, seq))

    def unstarted(self, model: str) -> list[ClosedWindow]:
        return [w for (m, s), w in self.closed.items() if m == model and (m, s) not in self.started]

    def mark_started(self, model: str, seq: int) -> None:
        self.started.add((model, seq))


class MemoryLedger:
    def __init__(self) -> None:
        self.entries: list[LedgerEntry] = []

    def append(self, entry: LedgerEntry) -> bool:
        if any(e.seq == entry.seq for e in self.entries):
            return False
        self.entries.append(entry)
        return True

    def for_model(self, model: str, limit: int = 100) -> list[LedgerEntry]:
        return [e for e in self.entries if e.model == model][:limit]


class RecordingRunStarter:
    def __init__(self) -> None:
        self.started: list[RunRequest] = []

    def start(self, request: RunRequest) -> str:
        # Like Step Functions: the run id is the execution name, so a second start is a no-op.
        if all(r.run_id != request.run_id for r in self.started):
            self.started.append(request)
        return f"arn:aws:states:us-east-1:123456789012:execution:aiops-dev-retrain:{request.run_id}"
