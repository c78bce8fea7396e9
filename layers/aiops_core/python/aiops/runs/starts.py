"""A closed window's one run: started (idempotent on its run id) or, under dry_run, only
recorded — the same for a retrain's data window and a fine-tune's labels window."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiops.ledger import Ledger, LedgerAction, record
from aiops.runs.ports import RunStarter
from aiops.runs.requests import RunRequest, WindowKind, run_for_window
from aiops.runs.window import ClosedWindow, WindowStore


def start_window_run(
    closed: ClosedWindow,
    kind: WindowKind,
    dry_run: bool,
    runs: RunStarter,
    windows: WindowStore,
    ledger: Ledger,
    now: datetime,
    started: LedgerAction,
    dry_run_action: LedgerAction,
    event_id: str | None = None,
) -> RunRequest:
    """Start the run of `closed` (or record that dry_run started nothing), then mark the
    window started, so the sweep never starts it again; returns the run's request."""
    request = run_for_window(closed.model, closed.seq, kind, closed.reason, event_id)
    cause: dict[str, Any] = {
        "event_id": event_id,
        "window": closed.window_id,
        "objects": len(closed.objects),
        "run_id": request.run_id,
    }
    cause.update({"records": closed.records} if closed.records else {"bytes": closed.bytes})
    if dry_run:
        record(
            ledger,
            closed.model,
            now,
            dry_run_action,
            f"{closed.reason}; dry_run: nothing started",
            cause,
        )
        windows.mark_started(closed.model, closed.seq)
        return request
    execution = runs.start(request)
    windows.mark_started(closed.model, closed.seq)
    record(ledger, closed.model, now, started, closed.reason, {**cause, "execution": execution})
    return request
