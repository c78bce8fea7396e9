"""S3 `Object Created` in the training bucket → the model's data window → maybe a retrain."""

from __future__ import annotations

from typing import Any

from aiops.adapters.stack import Stack
from aiops.clock import now
from aiops.events import parse_event
from aiops.events.s3 import S3ObjectCreated
from aiops.observability import lambda_entry, logger, metrics
from aiops.retrain.new_data import record_training_object
from aiops.settings.retrain import NewDataSettings

STACK = Stack(NewDataSettings())


@lambda_entry(correlation_id_path="id", dead_letters=STACK.dead_letters)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    created = parse_event(S3ObjectCreated, event)
    decision = record_training_object(
        created, STACK.policy.load(), STACK.new_data, now(), owner=context.aws_request_id
    )
    logger.info("new data", extra=decision.model_dump())
    metrics.add_metric(name=f"NewData_{decision.action}", unit="Count", value=1)
    return decision.model_dump()
