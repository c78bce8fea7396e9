"""SageMaker Model Package State Change → resolve the package's pending approval (a decision in
Studio), or record and alert a package decided outside any approval of ours."""

from __future__ import annotations

from typing import Any

from aiops.adapters.stack import Stack
from aiops.approval.studio import on_package_state_change
from aiops.clock import now
from aiops.events import parse_event
from aiops.events.sagemaker import ModelPackageStateChange
from aiops.observability import lambda_entry, logger, metrics
from aiops.settings.approval import StudioDecisionSettings

STACK = Stack(StudioDecisionSettings())


@lambda_entry(correlation_id_path="id", dead_letters=STACK.dead_letters)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    change = parse_event(ModelPackageStateChange, event)
    detail = change.detail
    outcome = on_package_state_change(
        change.id,
        detail.package_group,
        detail.version,
        detail.package_arn,
        STACK.policy.load(),
        STACK.approval,
        now(),
    )
    logger.info("package state change", extra={"outcome": outcome, "version": detail.version})
    metrics.add_metric(name=f"PackageStateChange_{outcome}", unit="Count", value=1)
    return {"action": outcome}
