"""Retrain step: record the run's end, release the lock, start the coalesced follow-up run."""

from __future__ import annotations

from typing import Any

from aiops.adapters.stack import Stack
from aiops.clock import now
from aiops.events import parse_event
from aiops.observability import lambda_entry
from aiops.retrain.workflow import end_run
from aiops.runs.steps import EndRunInput, failure_summary
from aiops.settings.retrain import RetrainSettings

STACK = Stack(RetrainSettings())


@lambda_entry()
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    step = parse_event(EndRunInput, event)
    error = failure_summary(step.error, step.cause)
    ended = end_run(
        step.request,
        step.outcome,
        error,
        STACK.policy.load(),
        STACK.retrain_workflow,
        now(),
        timed_out=step.timed_out,
        job_ended=step.job_ended,
    )
    return ended.model_dump()
