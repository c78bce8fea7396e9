"""Fine-tune step: start the evaluation job on the held-out records, or read how it is going
(Bedrock sends no event when it ends)."""

from __future__ import annotations

from typing import Any

from aiops.adapters.stack import Stack
from aiops.clock import now
from aiops.events import parse_event
from aiops.finetune.model import EvaluationCheckInput, EvaluationInput
from aiops.finetune.workflow import check_evaluation, start_evaluation
from aiops.observability import lambda_entry
from aiops.settings.finetune import FineTuneSettings

STACK = Stack(FineTuneSettings())


@lambda_entry()
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    policy, flow = STACK.policy.load(), STACK.finetune_workflow
    if event.get("evaluation") is None:
        step = parse_event(EvaluationInput, event)
        progress = start_evaluation(step.request, step.dataset, step.job, policy, flow, now())
    else:
        check = parse_event(EvaluationCheckInput, event)
        progress = check_evaluation(
            check.request, check.dataset, check.job, check.evaluation, policy, flow, now()
        )
    return progress.model_dump()
