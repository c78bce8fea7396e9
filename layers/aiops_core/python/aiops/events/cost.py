"""Cost Anomaly Detection's `Anomaly Detected` event."""

from typing import Annotated, Literal

from pydantic import Field

from aiops.events import (
    MAX_ARN,
    MAX_ITEMS,
    MAX_NAME,
    Arn,
    AwsShape,
    Envelope,
    EventTime,
    Name,
    Text,
)

# Cost Anomaly Detection's dollars: finite, never negative (it reports spend above expected).
MAX_USD = 1e12
Usd = Annotated[float, Field(ge=0, le=MAX_USD, allow_inf_nan=False)]


class AnomalyImpact(AwsShape):
    max_impact: Usd = Field(alias="maxImpact")
    total_impact: Usd | None = Field(default=None, alias="totalImpact")
    total_actual_spend: Usd | None = Field(default=None, alias="totalActualSpend")
    total_expected_spend: Usd | None = Field(default=None, alias="totalExpectedSpend")
    total_impact_percentage: Usd | None = Field(default=None, alias="totalImpactPercentage")

    @property
    def usd(self) -> float:
        """The anomaly's cost above expected: its total impact, else its largest daily one."""
        return self.total_impact if self.total_impact is not None else self.max_impact


class RootCauseImpact(AwsShape):
    contribution: Usd | None = None


class AnomalyRootCause(AwsShape):
    service: Name | None = None
    region: Name | None = None
    usage_type: Name | None = Field(default=None, alias="usageType")
    linked_account: Name | None = Field(default=None, alias="linkedAccount")
    impact: RootCauseImpact | None = None


class AnomalyDetail(AwsShape):
    anomaly_id: str = Field(alias="anomalyId", min_length=1, max_length=MAX_NAME)
    start: EventTime = Field(alias="anomalyStartDate")
    end: EventTime | None = Field(default=None, alias="anomalyEndDate")
    dimension_value: Name | None = Field(default=None, alias="dimensionValue")
    impact: AnomalyImpact
    root_causes: list[AnomalyRootCause] = Field(
        default_factory=list, alias="rootCauses", max_length=MAX_ITEMS
    )
    monitor_arn: Arn | None = Field(default=None, alias="monitorArn")
    monitor_name: Text | None = Field(default=None, alias="monitorName")
    link: Annotated[str, Field(max_length=MAX_ARN)] | None = Field(
        default=None, alias="anomalyDetailsLink"
    )


class AnomalyDetected(Envelope):
    """Cost Anomaly Detection's immediate alert (`aws.ce`); best effort, a few times a day."""

    source: Literal["aws.ce"]
    detail_type: Literal["Anomaly Detected"] = Field(alias="detail-type")
    detail: AnomalyDetail
