"""SageMaker pipeline execution ended → resume the retrain workflow waiting on it."""

from __future__ import annotations

from typing import Any

from aiops.adapters.stack import Stack
from aiops.clock import now
from aiops.events import parse_event
from aiops.events.sagemaker import PipelineExecutionStatusChange
from aiops.observability import lambda_entry, logger
from aiops.retrain.workflow import on_pipeline_status
from aiops.settings.retrain import RetrainSettings

STACK = Stack(RetrainSettings())


@lambda_entry(correlation_id_path="id", dead_letters=STACK.dead_letters)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    change = parse_event(PipelineExecutionStatusChange, event)
    decision = on_pipeline_status(change, STACK.policy.load(), STACK.retrain_workflow, now())
    logger.info("pipeline status", extra=decision.model_dump())
    return decision.model_dump()
