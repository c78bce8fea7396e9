"""Retrain step (.waitForTaskToken): write the data manifest, start the pipeline, park the token."""

from __future__ import annotations

from typing import Any

from aiops.adapters.stack import Stack
from aiops.clock import now
from aiops.events import parse_event
from aiops.observability import lambda_entry
from aiops.retrain.workflow import start_training
from aiops.runs.steps import StartTrainingInput
from aiops.settings.retrain import RetrainSettings

STACK = Stack(RetrainSettings())


@lambda_entry()
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    step = parse_event(StartTrainingInput, event)
    started = start_training(
        step.request, step.task_token, STACK.policy.load(), STACK.retrain_workflow, now()
    )
    return started.model_dump()
