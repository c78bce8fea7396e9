"""A run's first step (retrain and fine-tune): take the model's lock, or coalesce the run's
trigger into the holder's follow-up run."""

from __future__ import annotations

from typing import Any

from aiops.adapters.stack import Stack
from aiops.clock import now
from aiops.events import parse_event
from aiops.observability import lambda_entry
from aiops.runs.lock import take_lock
from aiops.runs.steps import StepInput
from aiops.settings import RunLockSettings

STACK = Stack(RunLockSettings())


@lambda_entry()
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    step = parse_event(StepInput, event)
    outcome = take_lock(step.request, STACK.policy.load(), STACK.locks, STACK.ledger, now())
    return outcome.model_dump()
