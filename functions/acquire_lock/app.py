"""Retrain step: take the model's lock, or coalesce this run's trigger into the holder's."""

from __future__ import annotations

from typing import Any

from aiops.adapters.stack import Stack
from aiops.clock import now
from aiops.events import parse_event
from aiops.observability import lambda_entry
from aiops.retrain.workflow import take_run_lock
from aiops.runs.steps import StepInput
from aiops.settings import RetrainSettings

STACK = Stack(RetrainSettings())


@lambda_entry()
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    step = parse_event(StepInput, event)
    outcome = take_run_lock(step.request, STACK.policy.load(), STACK.retrain_workflow, now())
    return outcome.model_dump()
