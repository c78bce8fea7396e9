"""Fine-tune step (.waitForTaskToken): start the Bedrock customization job, park the token."""

from __future__ import annotations

from typing import Any

from aiops.adapters.stack import Stack
from aiops.clock import now
from aiops.events import parse_event
from aiops.finetune.model import StartFineTuneInput
from aiops.finetune.workflow import start_fine_tune
from aiops.observability import lambda_entry
from aiops.settings.finetune import FineTuneSettings

STACK = Stack(FineTuneSettings())


@lambda_entry()
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    step = parse_event(StartFineTuneInput, event)
    started = start_fine_tune(
        step.request,
        step.task_token,
        step.dataset,
        STACK.policy.load(),
        STACK.finetune_workflow,
        now(),
    )
    return started.model_dump()
