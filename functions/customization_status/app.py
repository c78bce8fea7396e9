"""Bedrock `Model Customization Job State Change` → resume the fine-tune run waiting on it."""

from __future__ import annotations

from typing import Any

from aiops.adapters.stack import Stack
from aiops.clock import now
from aiops.events import parse_event
from aiops.events.bedrock import CustomizationJobStateChange
from aiops.finetune.workflow import on_customization_state
from aiops.observability import lambda_entry, logger
from aiops.settings.finetune import FineTuneEventSettings

STACK = Stack(FineTuneEventSettings())


@lambda_entry(correlation_id_path="id", dead_letters=STACK.dead_letters)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    change = parse_event(CustomizationJobStateChange, event)
    decision = on_customization_state(change, STACK.policy.load(), STACK.finetune_workflow, now())
    logger.info("customization job", extra=decision.model_dump())
    return decision.model_dump()
