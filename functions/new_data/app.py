"""S3 `Object Created` in the training bucket → the model's data window → maybe a retrain."""

from __future__ import annotations

from typing import Any

from aiops.adapters.stack import Stack
from aiops.clock import now
from aiops.events import S3ObjectCreated, parse_event
from aiops.observability import logger, metrics, tracer
from aiops.retrain import record_training_object
from aiops.settings import Settings

STACK = Stack(Settings())


@logger.inject_lambda_context(correlation_id_path="id")
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    created = parse_event(S3ObjectCreated, event)
    decision = record_training_object(
        created,
        STACK.policy.load(),
        STACK.windows,
        STACK.runs,
        STACK.ledger,
        now(),
        owner=context.aws_request_id,
    )
    logger.info("new data", extra=decision.model_dump())
    metrics.add_metric(name=f"NewData_{decision.action}", unit="Count", value=1)
    return decision.model_dump()
