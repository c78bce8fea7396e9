"""Ground Truth labeling job completed → its answers written as the model's labeled data (the
labeled-data trigger then validates and counts them)."""

from __future__ import annotations

from typing import Any

from aiops.adapters.stack import Stack
from aiops.clock import now
from aiops.events import parse_event
from aiops.events.sagemaker import LabelingJobStateChange
from aiops.finetune.ground_truth import import_labeling_job
from aiops.observability import lambda_entry, logger
from aiops.settings.finetune import GroundTruthSettings

STACK = Stack(GroundTruthSettings())


@lambda_entry(correlation_id_path="id", dead_letters=STACK.dead_letters)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    change = parse_event(LabelingJobStateChange, event)
    decision = import_labeling_job(change, STACK.policy.load(), STACK.ground_truth, now())
    logger.info("labeling job", extra=decision.model_dump())
    return decision.model_dump()
