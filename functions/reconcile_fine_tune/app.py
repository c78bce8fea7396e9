"""Fine-tune step: the wait for the job's event timed out; read the job itself (go on, fail,
or stop it)."""

from __future__ import annotations

from typing import Any

from aiops.adapters.stack import Stack
from aiops.clock import now
from aiops.events import parse_event
from aiops.finetune.model import ReconcileInput
from aiops.finetune.workflow import reconcile_job
from aiops.observability import lambda_entry
from aiops.settings.finetune import FineTuneSettings

STACK = Stack(FineTuneSettings())


@lambda_entry()
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    step = parse_event(ReconcileInput, event)
    reconciled = reconcile_job(step.request, STACK.policy.load(), STACK.finetune_workflow, now())
    return reconciled.model_dump()
