"""Which models a cost signal belongs to, and how we know.

Specific evidence, enough to act on: a spend alarm the model's budget names; an anomaly whose
monitor the budget names, or whose dimension is the model's `aiops:model` tag value (a monitor on
that cost-allocation tag); a root cause whose usage type matches one of the budget's
`usage_types`. Weaker evidence — only the service matches what the model runs on — is told,
never acted on beyond an alert: other workloads in the account use the same services.
Root causes in another region or account than the control plane's are not its models'.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from aiops.cost.model import Attribution, CostSignal, RootCause
from aiops.events.cloudwatch import AlarmStateChange
from aiops.events.cost import AnomalyDetected
from aiops.policy import BedrockModelPolicy, Policy, SageMakerModelPolicy

TAG_KEY = "aiops:model"


@dataclass(frozen=True)
class Scope:
    """Where the control plane's models run: root causes elsewhere are not theirs."""

    region: str
    account: str


def anomaly_signal(event: AnomalyDetected) -> CostSignal:
    d = event.detail
    return CostSignal(
        key=f"anomaly:{d.anomaly_id}",
        source="anomaly",
        event_id=event.id,
        started_at=d.start,
        impact_usd=d.impact.usd,
        anomaly_id=d.anomaly_id,
        monitor_name=d.monitor_name,
        monitor_arn=d.monitor_arn,
        dimension_value=d.dimension_value,
        link=d.link,
        root_causes=[
            RootCause(
                service=c.service,
                usage_type=c.usage_type,
                region=c.region,
                linked_account=c.linked_account,
                contribution_usd=c.impact.contribution if c.impact else None,
            )
            for c in d.root_causes
        ],
    )


def alarm_signal(event: AlarmStateChange) -> CostSignal:
    d = event.detail
    return CostSignal(
        # One state change of one alarm: the same change delivered twice has the same key.
        key=f"alarm:{d.alarm_name}@{d.state.timestamp}",
        source="alarm",
        event_id=event.id,
        started_at=event.time,
        alarm_name=d.alarm_name,
        alarm_state=d.state.value,
        alarm_previous=d.previous_state.value if d.previous_state else None,
        alarm_reason=d.state.reason,
    )


def _serves_on(model: SageMakerModelPolicy | BedrockModelPolicy, service: str) -> bool:
    # Cost Explorer's service names: "Amazon SageMaker"; "Amazon Bedrock", and third-party
    # models' "... (Amazon Bedrock Edition)".
    if isinstance(model, SageMakerModelPolicy):
        return "SageMaker" in service
    return "Bedrock" in service


def _in_scope(cause: RootCause, scope: Scope) -> str | None:
    """Why the root cause is not the control plane's, or None when it may be."""
    if cause.region and cause.region not in (scope.region, "global", "NoRegion"):
        return f"region {cause.region}, not the control plane's {scope.region}"
    if cause.linked_account and cause.linked_account != scope.account:
        return f"account {cause.linked_account}, not the control plane's {scope.account}"
    return None


def _tag_value(dimension: str | None) -> str | None:
    """The model a tag monitor's dimension names (`aiops:model$churn`): only the tag's own
    form — a cost category or account named like a model is not the model."""
    if not dimension or not dimension.startswith(f"{TAG_KEY}$"):
        return None
    return dimension[len(TAG_KEY) + 1 :]


def attribute(signal: CostSignal, policy: Policy, scope: Scope) -> tuple[list[Attribution], str]:
    """The models `signal` belongs to (specific evidence first), and when none, why."""
    if signal.source == "alarm":
        found = policy.model_for_spend_alarm(signal.alarm_name or "")
        if found is None:
            return [], f"alarm {signal.alarm_name} is no model's spend alarm"
        return [
            Attribution(
                model=found[0],
                strength="specific",
                how=f"its budget's spend alarm {signal.alarm_name}",
            )
        ], ""
    total = signal.impact_usd
    tagged = _tag_value(signal.dimension_value)
    if tagged in policy.models:
        return [
            Attribution(
                model=tagged,
                strength="specific",
                how=f"the anomaly's dimension is its {TAG_KEY} tag",
                impact_usd=total,
            )
        ], ""
    for name, model in policy.models.items():
        monitors = set(model.budget.monitors)
        if monitors & {signal.monitor_name, signal.monitor_arn}:
            return [
                Attribution(
                    model=name,
                    strength="specific",
                    how=f"monitor {signal.monitor_name or signal.monitor_arn} watches only it",
                    impact_usd=total,
                )
            ], ""
    ours: list[RootCause] = []
    elsewhere: list[str] = []
    for cause in signal.root_causes:
        why = _in_scope(cause, scope)
        if why is None:
            ours.append(cause)
        else:
            elsewhere.append(why)
    specific: dict[str, list[RootCause]] = {}
    by_service: dict[str, list[RootCause]] = {}
    for cause in ours:
        usage = cause.usage_type or ""
        claimed = [
            name
            for name, model in policy.models.items()
            if usage and any(fnmatch.fnmatchcase(usage, p) for p in model.budget.usage_types)
        ]
        for name, model in policy.models.items():
            # A usage type two models claim (the same instance type, the same base model) says
            # the spend is one of theirs, not whose: told, never acted on.
            if claimed == [name]:
                specific.setdefault(name, []).append(cause)
            elif name in claimed or (cause.service and _serves_on(model, cause.service)):
                by_service.setdefault(name, []).append(cause)
    if specific:
        return [
            Attribution(
                model=name,
                strength="specific",
                how="usage type "
                + ", ".join(sorted({c.usage_type or "" for c in causes}))
                + " is in its budget's usage_types",
                impact_usd=_contribution(causes, total),
            )
            for name, causes in specific.items()
        ], ""
    if by_service:
        return [
            Attribution(
                model=name,
                strength="service",
                how="only the service ("
                + ", ".join(sorted({c.service or "" for c in causes}))
                + ") matches: name its usage types, a monitor or an aiops:model tag monitor in "
                "its budget for the control plane to act",
                impact_usd=_contribution(causes, total),
            )
            for name, causes in by_service.items()
        ], ""
    if not signal.root_causes:
        return [], "the anomaly names no root cause, and no model's budget names its monitor"
    if elsewhere and not ours:
        return [], "every root cause is outside the control plane: " + "; ".join(elsewhere)
    causes = ", ".join(f"{c.service or '?'} {c.usage_type or '?'}" for c in ours)
    return [], f"no model's budget matches its root causes ({causes})"


def _contribution(causes: list[RootCause], total: float | None) -> float | None:
    known = [c.contribution_usd for c in causes if c.contribution_usd is not None]
    if len(known) != len(causes):
        return total
    return round(sum(known), 2)
