"""Fine-tune step: register the evaluated custom model as the model's candidate package."""

from __future__ import annotations

from typing import Any

from aiops.adapters.stack import Stack
from aiops.clock import now
from aiops.events import parse_event
from aiops.finetune.model import RegisterInput
from aiops.finetune.workflow import register_candidate
from aiops.observability import lambda_entry
from aiops.settings.finetune import FineTuneSettings

STACK = Stack(FineTuneSettings())


@lambda_entry()
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    step = parse_event(RegisterInput, event)
    candidate = register_candidate(
        step.request,
        step.dataset,
        step.job,
        step.evaluation,
        STACK.policy.load(),
        STACK.finetune_workflow,
        now(),
    )
    return candidate.as_payload()
