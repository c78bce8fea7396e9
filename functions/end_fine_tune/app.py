"""Fine-tune step: record the run's end, release the lock, start the coalesced follow-up run."""

from __future__ import annotations

from typing import Any

from aiops.adapters.stack import Stack
from aiops.clock import now
from aiops.events import parse_event
from aiops.finetune.workflow import end_fine_tune
from aiops.observability import lambda_entry
from aiops.runs.steps import EndRunInput, failure_summary
from aiops.settings.finetune import FineTuneSettings

STACK = Stack(FineTuneSettings())


@lambda_entry()
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    step = parse_event(EndRunInput, event)
    ended = end_fine_tune(
        step.request,
        step.outcome,
        failure_summary(step.error, step.cause),
        STACK.policy.load(),
        STACK.finetune_workflow,
        now(),
        job_ended=step.job_ended,
    )
    return ended.model_dump()
