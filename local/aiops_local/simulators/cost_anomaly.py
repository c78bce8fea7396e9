"""AWS Cost Anomaly Detection offline: the `aws.ce` / `Anomaly Detected` event of an anomaly.

moto has no Cost Explorer anomaly API; Cost Anomaly Detection's immediate alerts reach EventBridge
as this event (the shape of `events/cost_anomaly_detected.json`, documented in "Using AWS User
Notifications with Cost Anomaly Detection"):

    detail-type  Anomaly Detected          source  aws.ce          resources  [monitorArn]
    detail       accountName, anomalyEndDate, anomalyId, anomalyScore{currentScore, maxScore},
                 anomalyStartDate, dimensionValue, impact{maxImpact, totalActualSpend,
                 totalExpectedSpend, totalImpact, totalImpactPercentage},
                 rootCauses[{linkedAccount, linkedAccountName, region, service, usageType,
                 impact{contribution}}], accountId, monitorArn, monitorName, anomalyDetailsLink

The `cost_anomaly` scenario step describes one anomaly (`AnomalyStep`) and sends its event
`repeat` times: Cost Anomaly Detection alerts again on an anomaly it keeps detecting, and
EventBridge delivers at least once, so the same `anomalyId` may arrive in several events (each
with its own envelope `id`). The anomaly id is a UUID derived from the step's content, so the
same step written twice describes the same anomaly.
"""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta
from typing import Annotated, Any

from pydantic import Field, StrictInt, model_validator

from aiops_local.simulators.step_args import (
    Account,
    After,
    Day,
    Region,
    StepArgs,
    Text,
    parse_step,
)

SOURCE = "aws.ce"
DETAIL_TYPE = "Anomaly Detected"
DEFAULT_MONITOR = "aiops-services"
ACCOUNT_NAME = "aiops-local"
CONSOLE = "https://console.aws.amazon.com/cost-management/home#/anomaly-detection"
# The largest spend a step may describe: far above any real anomaly, far below float trouble.
MAX_USD = 1e9
# How far back an anomaly may have started: Cost Anomaly Detection looks at recent spend.
MAX_AGE_DAYS = 90
# Fixed, so that the same step gives the same anomaly id in every run.
_IDS = uuid.UUID("5d3f0c2e-8a41-4b6e-9c07-2f1e6a9d4b83")

Usd = Annotated[float, Field(allow_inf_nan=False, le=MAX_USD)]


class RootCauseStep(StepArgs):
    """One root cause; what it leaves out is the anomaly's."""

    service: Text | None = None
    usage_type: Text | None = None
    region: Region | None = None
    account: Account | None = None
    contribution: Annotated[Usd, Field(ge=0)] | None = None


class AnomalyStep(StepArgs):
    """The `cost_anomaly` step's arguments."""

    service: Text
    usage_type: Text | None = None
    region: Region | None = None
    account: Account | None = None
    impact: Annotated[Usd, Field(gt=0)]
    expected: Annotated[Usd, Field(gt=0)] | None = None
    contribution: Annotated[Usd, Field(ge=0)] | None = None
    id: Text | None = None
    start: Day | None = None
    monitor: Text = DEFAULT_MONITOR
    dimension: Text | None = None
    root_causes: Annotated[list[RootCauseStep], Field(min_length=1, max_length=10)] | None = None
    repeat: Annotated[StrictInt, Field(ge=1, le=10)] = 1
    after: After | None = None

    @model_validator(mode="after")
    def _consistent(self) -> AnomalyStep:
        if self.root_causes is not None and (
            self.usage_type is not None or self.contribution is not None
        ):
            raise ValueError(
                "usage_type and contribution describe the single root cause; with root_causes, "
                "give them in each root cause"
            )
        contributions = [self.contribution] + [c.contribution for c in self.root_causes or []]
        if any(c is not None and c > self.impact for c in contributions):
            raise ValueError("a root cause's contribution cannot exceed the anomaly's impact")
        return self


def parse_cost_anomaly(arg: Any) -> AnomalyStep:
    """The step's argument checked; StepArgumentError names the field and the reason."""
    return parse_step(AnomalyStep, arg, "cost_anomaly")


def check_start(spec: AnomalyStep, today: date) -> None:
    """An anomaly has started by now, and recently."""
    if spec.start is None:
        return
    if spec.start > today:
        raise ValueError(f"cost_anomaly: start: {spec.start} is after today ({today})")
    if spec.start < today - timedelta(days=MAX_AGE_DAYS):
        raise ValueError(
            f"cost_anomaly: start: {spec.start} is more than {MAX_AGE_DAYS} days before today "
            f"({today})"
        )


def anomaly_id(spec: AnomalyStep, start: date) -> str:
    """The step's `id`, else a UUID of what the step says (not how often or when it is sent)."""
    if spec.id is not None:
        return spec.id
    content = spec.model_dump(mode="json", exclude={"repeat", "after", "id"})
    content["start"] = start.isoformat()
    return str(uuid.uuid5(_IDS, json.dumps(content, sort_keys=True)))


def monitor_arn(account: str, monitor: str) -> str:
    return f"arn:aws:ce::{account}:anomalymonitor/{_monitor_id(account, monitor)}"


def _monitor_id(account: str, monitor: str) -> str:
    return str(uuid.uuid5(_IDS, f"monitor:{account}:{monitor}"))


def anomaly_event(spec: AnomalyStep, *, account: str, region: str, today: date) -> dict[str, Any]:
    """The `Anomaly Detected` event as Cost Anomaly Detection sends it on `today` (the cloud's
    day), in the cloud's account and region; EventBridge fills in `id`, `time`, `account` and
    `region` of the envelope."""
    start = spec.start or today
    identifier = anomaly_id(spec, start)
    impact = round(spec.impact, 2)
    # A plausible usual spend: the anomaly is about four times what the service costs a day.
    expected = round(spec.expected if spec.expected is not None else max(impact / 4, 0.01), 2)
    actual = round(expected + impact, 2)
    # An anomaly's score grows with how far the spend is from what was expected.
    score = round(min(max(1 - expected / actual, 0.01), 0.99), 2)
    # The impact spread evenly over the anomaly's days: the largest daily one is a day's share.
    days = max((today - start).days + 1, 1)
    monitor = monitor_arn(account, spec.monitor)

    def cause(
        service: str,
        usage_type: str | None,
        cause_region: str | None,
        cause_account: str | None,
        contribution: float,
    ) -> dict[str, Any]:
        linked = cause_account or account
        item: dict[str, Any] = {
            "linkedAccount": linked,
            "linkedAccountName": ACCOUNT_NAME if linked == account else linked,
            "region": cause_region or region,
            "service": service,
        }
        if usage_type is not None:
            item["usageType"] = usage_type
        item["impact"] = {"contribution": round(contribution, 2)}
        return item

    if spec.root_causes is None:
        causes = [
            cause(
                spec.service,
                spec.usage_type,
                spec.region,
                spec.account,
                spec.contribution if spec.contribution is not None else impact,
            )
        ]
    else:
        share = impact / len(spec.root_causes)
        causes = [
            cause(
                c.service or spec.service,
                c.usage_type,
                c.region or spec.region,
                c.account or spec.account,
                c.contribution if c.contribution is not None else share,
            )
            for c in spec.root_causes
        ]
    day = f"{start.isoformat()}T00:00:00Z"
    detail = {
        "accountName": ACCOUNT_NAME,
        "anomalyEndDate": f"{today.isoformat()}T00:00:00Z",
        "anomalyId": identifier,
        "anomalyScore": {"currentScore": score, "maxScore": score},
        "anomalyStartDate": day,
        "dimensionValue": spec.dimension or spec.service,
        "impact": {
            "maxImpact": round(impact / days, 2),
            "totalActualSpend": actual,
            "totalExpectedSpend": expected,
            "totalImpact": impact,
            "totalImpactPercentage": round(impact / expected * 100, 2),
        },
        "rootCauses": causes,
        "accountId": account,
        "monitorArn": monitor,
        "monitorName": spec.monitor,
        "anomalyDetailsLink": (
            f"{CONSOLE}/monitors/{_monitor_id(account, spec.monitor)}/anomalies/{identifier}"
        ),
    }
    return {
        "source": SOURCE,
        "detail-type": DETAIL_TYPE,
        "resources": [monitor],
        "detail": detail,
    }
