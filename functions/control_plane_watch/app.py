"""Scheduled: count locks held past their lease and approvals waiting or near their timeout."""

from __future__ import annotations

from typing import Any

from aiops.adapters.stack import Stack
from aiops.clock import now
from aiops.health.watch import watch_control_plane
from aiops.observability import MetricName, lambda_entry, logger, metrics
from aiops.settings import ControlPlaneWatchSettings

STACK = Stack(ControlPlaneWatchSettings())


@lambda_entry()
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    report = watch_control_plane(STACK.policy.load(), STACK.health, now())
    for lock in report.locks_past_lease:
        logger.warning("lock held past its lease", extra=lock.model_dump(mode="json"))
    for approval in report.approvals_near_timeout:
        logger.warning("approval near its timeout", extra=approval.model_dump(mode="json"))
    stale, near = len(report.locks_past_lease), len(report.approvals_near_timeout)
    # Every run, zeros included: the alarms see the count fall back as well as rise.
    counts = {
        MetricName.LOCKS_PAST_LEASE: stale,
        MetricName.PENDING_APPROVALS: report.pending_approvals,
        MetricName.APPROVALS_NEAR_TIMEOUT: near,
    }
    for name, value in counts.items():
        metrics.add_metric(name=name.value, unit="Count", value=value)
    # Something to look at is said as the run's action (the offline story shows only such ticks).
    said = (
        {
            "action": "attention",
            "reason": f"{stale} lock(s) past lease, {near} approval(s) near timeout",
        }
        if stale or near
        else {}
    )
    return {**report.model_dump(mode="json"), **said}
