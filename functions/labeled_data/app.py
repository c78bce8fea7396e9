"""S3 `Object Created` in the labeled bucket → validated, bad records quarantined and reported,
good records counted → maybe a fine-tune run."""

from __future__ import annotations

from typing import Any

from aiops.adapters.stack import Stack
from aiops.clock import now
from aiops.events import parse_event
from aiops.events.s3 import S3ObjectCreated
from aiops.finetune.labels import record_labeled_object
from aiops.observability import lambda_entry, logger, metrics
from aiops.settings.finetune import LabelsSettings

STACK = Stack(LabelsSettings())


@lambda_entry(correlation_id_path="id", dead_letters=STACK.dead_letters)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    created = parse_event(S3ObjectCreated, event)
    decision = record_labeled_object(
        created, STACK.policy.load(), STACK.labels, now(), owner=context.aws_request_id
    )
    logger.info("labeled data", extra=decision.model_dump())
    metrics.add_metric(name=f"Labels_{decision.action}", unit="Count", value=1)
    metrics.add_metric(name="LabeledRecordsRejected", unit="Count", value=decision.bad)
    return decision.model_dump()
