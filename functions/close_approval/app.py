"""Approval step: apply how the approval ended (decided, timed out, failed) to the registry,
the ledger and the alerts."""

from __future__ import annotations

from typing import Any

from aiops.adapters.stack import Stack
from aiops.approval.stage import close_approval
from aiops.clock import now
from aiops.events import parse_event
from aiops.observability import lambda_entry
from aiops.runs.steps import ApprovalEnd
from aiops.settings.approval import ApprovalSettings

STACK = Stack(ApprovalSettings())


@lambda_entry()
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    end = parse_event(ApprovalEnd, event)
    approval = close_approval(end, STACK.approval, now())
    status = approval.status.value if approval else "failed"
    return {"model": end.model, "version": end.version, "status": status}
