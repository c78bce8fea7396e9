"""Spend alarms offline: usage metrics written into moto's CloudWatch at virtual times, and the
steps that create metric alarms on them.

    AWS/Bedrock    InputTokenCount, OutputTokenCount, Invocations      dimension ModelId
    AWS/SageMaker  Invocations                          dimensions EndpointName, VariantName

Usage (`token_usage` / `endpoint_invocations` steps, `start_usage`) is spread evenly over whole
minutes: at each minute of virtual time one PutMetricData writes that minute's datapoint, stamped
with the minute's start (StatisticValues: each invocation is a sample, so Average and Maximum are
per request, as Bedrock publishes them). `spend_alarm` creates a metric alarm on them with
PutMetricAlarm.

Every metric alarm on those metrics (exact dimensions; one metric, or an `m1 + m2` sum of them),
whoever writes their datapoints (the usage steps, the sagemaker_shadow simulator), is evaluated
by the `metric_alarms` simulator, as CloudWatch does (see there).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StrictInt, StringConstraints, model_validator

from aiops_local.metrics import MINUTE, minute_of
from aiops_local.simulators.base import Simulator, register
from aiops_local.simulators.metric_alarms import DAY, WEEK
from aiops_local.simulators.step_args import After, Over, Period, StepArgs, parse_step

BEDROCK = "AWS/Bedrock"
SAGEMAKER = "AWS/SageMaker"
# Bounds of one step: a day of heavy traffic, not an overflow.
MAX_TOKENS = 10**12
MAX_INVOCATIONS = 10**9
MAX_THRESHOLD = 1e15


# ---------------------------------------------------------------------- step arguments
_MODEL_ID = re.compile(
    r"arn:aws[a-z-]*:bedrock:[a-z0-9-]*:[0-9]{0,12}:[a-z-]+/\S+"
    r"|[a-z0-9-]+(\.[A-Za-z0-9_-]+)+(:[A-Za-z0-9_.:-]*)?",
    re.ASCII,
)
_SAGEMAKER_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", re.ASCII)


def _model_id(value: str) -> str:
    if len(value) > 1024 or _MODEL_ID.fullmatch(value) is None:
        raise ValueError(
            "must be a Bedrock model id (amazon.nova-lite-v1:0) or the ARN applications invoke "
            f"(a custom model deployment, a provisioned model), not {value[:60]!r}"
        )
    return value


def _sagemaker_name(value: str) -> str:
    if _SAGEMAKER_NAME.fullmatch(value) is None:
        raise ValueError(
            "must be 1 to 63 letters, digits and hyphens, starting and ending with a letter or "
            f"digit, not {value[:60]!r}"
        )
    return value


ModelId = Annotated[str, AfterValidator(_model_id)]
SageMakerName = Annotated[str, AfterValidator(_sagemaker_name)]
Tokens = Annotated[StrictInt, Field(ge=0, le=MAX_TOKENS)]


class TokenUsageStep(StepArgs):
    """`token_usage`: Bedrock usage of one model id, spread over `over`."""

    model_id: ModelId
    input_tokens: Tokens = 0
    output_tokens: Tokens = 0
    invocations: Annotated[StrictInt, Field(ge=0, le=MAX_INVOCATIONS)] = 0
    over: Over = 300.0
    after: After | None = None

    @model_validator(mode="after")
    def _some(self) -> TokenUsageStep:
        if not (self.input_tokens or self.output_tokens or self.invocations):
            raise ValueError("no usage: give input_tokens, output_tokens or invocations above 0")
        return self


class EndpointInvocationsStep(StepArgs):
    """`endpoint_invocations`: requests to a SageMaker endpoint's variant, spread over `over`."""

    endpoint: SageMakerName
    variant: SageMakerName = "AllTraffic"
    invocations: Annotated[StrictInt, Field(ge=1, le=MAX_INVOCATIONS)]
    over: Over = 300.0
    after: After | None = None


@dataclass(frozen=True)
class Usage:
    """What to write: the totals of one metric set, over `minutes` whole minutes."""

    namespace: str
    dimensions: tuple[tuple[str, str], ...]
    invocations: int
    tokens: tuple[tuple[str, int], ...]  # token metric → total
    minutes: int
    after: float | None

    @property
    def label(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.dimensions)

    def datapoints(self, minute: int) -> list[dict[str, Any]]:
        """Minute `minute`'s MetricData (no Timestamp): StatisticValues per metric."""
        first, count = _share(self.invocations, self.minutes, minute)
        data: list[dict[str, Any]] = []
        if count:
            data.append(_statistic("Invocations", count, count, 1, 1))
        for metric, total in self.tokens:
            if not total:
                continue
            if self.invocations:
                # Each request gets total // invocations tokens, the first total % invocations
                # one more: a minute sums its own requests.
                each, extra = divmod(total, self.invocations)
                if not count:
                    continue
                bigger = max(0, min(first + count, extra) - first)
                value = count * each + bigger
                low = each + 1 if bigger == count else each
                high = each + 1 if bigger else each
                data.append(_statistic(metric, value, count, low, high))
            else:
                _, value = _share(total, self.minutes, minute)
                if value:
                    data.append(_statistic(metric, value, 1, value, value))
        dimensions = [{"Name": k, "Value": v} for k, v in self.dimensions]
        return [{**d, "Dimensions": dimensions, "Unit": "Count"} for d in data]


def _share(total: int, parts: int, index: int) -> tuple[int, int]:
    """Part `index` of `total` split evenly into `parts` (the first ones one more): its first
    unit's position and its size."""
    each, extra = divmod(total, parts)
    first = index * each + min(index, extra)
    return first, each + (1 if index < extra else 0)


def _statistic(metric: str, total: int, count: int, low: int, high: int) -> dict[str, Any]:
    return {
        "MetricName": metric,
        "StatisticValues": {
            "SampleCount": float(count),
            "Sum": float(total),
            "Minimum": float(low),
            "Maximum": float(high),
        },
    }


def token_usage(arg: Any) -> Usage:
    step = parse_step(TokenUsageStep, arg, "token_usage")
    return Usage(
        namespace=BEDROCK,
        dimensions=(("ModelId", step.model_id),),
        invocations=step.invocations,
        tokens=(("InputTokenCount", step.input_tokens), ("OutputTokenCount", step.output_tokens)),
        minutes=int(step.over // MINUTE),
        after=step.after,
    )


def endpoint_invocations(arg: Any) -> Usage:
    step = parse_step(EndpointInvocationsStep, arg, "endpoint_invocations")
    return Usage(
        namespace=SAGEMAKER,
        dimensions=(("EndpointName", step.endpoint), ("VariantName", step.variant)),
        invocations=step.invocations,
        tokens=(),
        minutes=int(step.over // MINUTE),
        after=step.after,
    )


AlarmName = Annotated[
    str, StringConstraints(min_length=1, max_length=255, pattern=r"^[^\x00-\x1f\x7f]+$")
]
TagKey = Annotated[str, StringConstraints(min_length=1, max_length=128)]
TagValue = Annotated[str, StringConstraints(max_length=256)]
Count = Annotated[StrictInt, Field(ge=1, le=DAY // MINUTE)]


class SpendAlarmStep(StepArgs):
    """`spend_alarm`: a metric alarm on a usage metric, created with PutMetricAlarm."""

    name: AlarmName
    metric: Literal["InputTokenCount", "OutputTokenCount", "Invocations"]
    model_id: ModelId | None = None
    endpoint: SageMakerName | None = None
    variant: SageMakerName | None = None
    threshold: Annotated[float, Field(allow_inf_nan=False, ge=0, le=MAX_THRESHOLD)]
    period: Period = 300.0
    evaluation_periods: Count = 1
    datapoints_to_alarm: Count | None = None
    statistic: Literal["Sum", "Average", "Maximum", "Minimum", "SampleCount"] = "Sum"
    comparison: Literal[
        "GreaterThanThreshold",
        "GreaterThanOrEqualToThreshold",
        "LessThanThreshold",
        "LessThanOrEqualToThreshold",
    ] = "GreaterThanThreshold"
    # Bedrock and SageMaker publish nothing while idle: no data is no spend.
    treat_missing_data: Literal["missing", "notBreaching", "breaching", "ignore"] = "notBreaching"
    description: Annotated[str, StringConstraints(max_length=1024)] | None = None
    tags: Annotated[dict[TagKey, TagValue], Field(max_length=50)] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> SpendAlarmStep:
        if (self.model_id is None) == (self.endpoint is None):
            raise ValueError("name the metric's owner: model_id (Bedrock) or endpoint (SageMaker)")
        if self.variant is not None and self.endpoint is None:
            raise ValueError("variant goes with endpoint")
        if self.endpoint is not None and self.metric != "Invocations":
            raise ValueError(f"metric: an endpoint has Invocations, not {self.metric}")
        limit = DAY if self.period < 3600 else WEEK
        if self.period * self.evaluation_periods > limit:
            raise ValueError(
                f"period x evaluation_periods must be at most {limit // 3600}h "
                f"({'periods under an hour' if limit == DAY else 'periods of an hour or more'})"
            )
        if (self.datapoints_to_alarm or 0) > self.evaluation_periods:
            raise ValueError("datapoints_to_alarm cannot exceed evaluation_periods")
        return self

    def put_metric_alarm_args(self) -> dict[str, Any]:
        if self.model_id is not None:
            namespace, dimensions = BEDROCK, [{"Name": "ModelId", "Value": self.model_id}]
        else:
            namespace = SAGEMAKER
            dimensions = [
                {"Name": "EndpointName", "Value": str(self.endpoint)},
                {"Name": "VariantName", "Value": self.variant or "AllTraffic"},
            ]
        args: dict[str, Any] = {
            "AlarmName": self.name,
            "Namespace": namespace,
            "MetricName": self.metric,
            "Dimensions": dimensions,
            "Statistic": self.statistic,
            "Period": int(self.period),
            "EvaluationPeriods": self.evaluation_periods,
            "Threshold": float(self.threshold),
            "ComparisonOperator": self.comparison,
            "TreatMissingData": self.treat_missing_data,
        }
        if self.datapoints_to_alarm is not None:
            args["DatapointsToAlarm"] = self.datapoints_to_alarm
        if self.description:
            args["AlarmDescription"] = self.description
        if self.tags:
            args["Tags"] = [{"Key": k, "Value": v} for k, v in self.tags.items()]
        return args


def spend_alarm(arg: Any) -> SpendAlarmStep:
    return parse_step(SpendAlarmStep, arg, "spend_alarm")


# ---------------------------------------------------------------------- the simulator
@register
class SpendAlarmSimulator(Simulator):
    """Usage written minute by minute; the `metric_alarms` simulator evaluates the alarms."""

    name = "spend_alarms"

    def start_usage(self, usage: Usage) -> None:
        """Write `usage` minute by minute from now (or `usage.after` from now)."""
        delay = usage.after or 0.0
        self.host.agenda.after(
            delay,
            f"usage {usage.label}: minute 1/{usage.minutes}",
            lambda: self._minute(usage, 0, None),
        )

    def _minute(self, usage: Usage, minute: int, first: float | None) -> None:
        now = self.host.clock.time()
        # Datapoints are per minute, stamped with the minute's start.
        start = first if first is not None else minute_of(now)
        stamp = start + minute * MINUTE
        data = usage.datapoints(minute)
        if data:
            moment = datetime.fromtimestamp(stamp, UTC)
            self.host.client("cloudwatch").put_metric_data(
                Namespace=usage.namespace,
                MetricData=[{**d, "Timestamp": moment} for d in data],
            )
        if minute + 1 < usage.minutes:
            self.host.agenda.at(
                stamp + MINUTE,
                f"usage {usage.label}: minute {minute + 2}/{usage.minutes}",
                lambda: self._minute(usage, minute + 1, start),
            )
