"""Fine-tune step: the run's manifest and its training, validation and held-out files, from
exactly the good records of its windows."""

from __future__ import annotations

from typing import Any

from aiops.adapters.stack import Stack
from aiops.clock import now
from aiops.events import parse_event
from aiops.finetune.model import PrepareInput
from aiops.finetune.workflow import prepare_dataset
from aiops.observability import lambda_entry
from aiops.settings.finetune import FineTuneSettings

STACK = Stack(FineTuneSettings())


@lambda_entry()
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    step = parse_event(PrepareInput, event)
    dataset = prepare_dataset(step.request, STACK.policy.load(), STACK.finetune_workflow, now())
    return dataset.model_dump()
