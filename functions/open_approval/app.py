"""Approval step: open one pending approval per candidate, supersede older ones, send each
approver their link; the workflow then waits on the task token (kept server-side)."""

from __future__ import annotations

from typing import Any

from aiops.adapters.stack import Stack
from aiops.approval.stage import open_approval
from aiops.clock import now
from aiops.events import parse_event
from aiops.observability import lambda_entry
from aiops.runs.steps import OpenApprovalInput
from aiops.settings.approval import OpenApprovalSettings

STACK = Stack(OpenApprovalSettings())


@lambda_entry()
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    step = parse_event(OpenApprovalInput, event)
    approval = open_approval(
        step.approval, step.task_token, STACK.policy.load(), STACK.approval, now()
    )
    return {"model": approval.model, "version": approval.version, "status": approval.status}
