"""Spend alarms offline: usage metrics written into moto's CloudWatch at virtual times, and the
metric alarms on them evaluated as CloudWatch evaluates them.

moto stores metric data and alarms but never evaluates an alarm. This simulator does, for the
usage metrics the scenario writes:

    AWS/Bedrock    InputTokenCount, OutputTokenCount, Invocations      dimension ModelId
    AWS/SageMaker  Invocations                          dimensions EndpointName, VariantName

Usage (`token_usage` / `endpoint_invocations` steps, `start_usage`) is spread evenly over whole
minutes: at each minute of virtual time one PutMetricData writes that minute's datapoint, stamped
with the minute's start (StatisticValues: each invocation is a sample, so Average and Maximum are
per request, as Bedrock publishes them).

Every metric alarm on those metrics (exact dimensions; one metric, or an `m1 + m2` sum of them),
whoever writes their datapoints (the usage steps, the sagemaker_shadow simulator), is evaluated as
CloudWatch does: the newest `EvaluationPeriods` periods ending now, each a datapoint of the
alarm's `Statistic` (Sum, Average, Maximum, Minimum, SampleCount), compared to `Threshold` by
`ComparisonOperator`; `DatapointsToAlarm` breaching ones (default all) → ALARM; all missing → as
`TreatMissingData` says (missing → INSUFFICIENT_DATA, ignore → unchanged, notBreaching → OK,
breaching → ALARM); otherwise OK. An alarm is evaluated when it is created and at each minute its
datapoints change: every minute while usage flows, then each minute a datapoint leaves one of its
periods, until the last has left its window (between those minutes nothing it reads changes, so
nothing it says could); a datapoint written late is seen at once. Its state is set with
SetAlarmState only when it changes, so the `cloudwatch_alarms` simulator emits one
`CloudWatch Alarm State Change` per change.

Alarms this does not evaluate (other metrics, percentiles, other metric math, anomaly detection)
keep the states scenarios and handlers give them.
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal

from botocore.exceptions import ClientError
from pydantic import AfterValidator, Field, StrictInt, StringConstraints, model_validator

from aiops_local.patches.botocore_calls import ApiCall
from aiops_local.simulators.base import Simulator, SimulatorHost, register
from aiops_local.simulators.step_args import After, Over, Period, StepArgs, parse_step

BEDROCK = "AWS/Bedrock"
SAGEMAKER = "AWS/SageMaker"
# The metrics this simulator writes and whose alarms it evaluates.
METRICS: Mapping[str, frozenset[str]] = {
    BEDROCK: frozenset({"InputTokenCount", "OutputTokenCount", "Invocations"}),
    SAGEMAKER: frozenset({"Invocations"}),
}
STATISTICS = ("Sum", "Average", "Maximum", "Minimum", "SampleCount")
COMPARISONS = {
    "GreaterThanThreshold": "greater than",
    "GreaterThanOrEqualToThreshold": "greater than or equal to",
    "LessThanThreshold": "less than",
    "LessThanOrEqualToThreshold": "less than or equal to",
}
TREATMENTS = ("missing", "notBreaching", "breaching", "ignore")
ALARM, OK, INSUFFICIENT = "ALARM", "OK", "INSUFFICIENT_DATA"
# Bounds of one step: a day of heavy traffic, not an overflow.
MAX_TOKENS = 10**12
MAX_INVOCATIONS = 10**9
MAX_THRESHOLD = 1e15
# CloudWatch: Period x EvaluationPeriods at most a day for periods under an hour, else 7 days.
_DAY, _WEEK = 86400, 7 * 86400
_MINUTE = 60
# SetAlarmState's limits on StateReason and StateReasonData.
_MAX_REASON, _MAX_REASON_DATA = 1023, 4000

SeriesKey = tuple[str, str, tuple[tuple[str, str], ...]]


def series_key(namespace: str, metric: str, dimensions: Iterable[Mapping[str, Any]]) -> SeriesKey:
    """A metric as CloudWatch identifies it: namespace, name and its exact set of dimensions."""
    pairs = sorted((str(d.get("Name")), str(d.get("Value"))) for d in dimensions)
    return namespace, metric, tuple(pairs)


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
        minutes=int(step.over // _MINUTE),
        after=step.after,
    )


def endpoint_invocations(arg: Any) -> Usage:
    step = parse_step(EndpointInvocationsStep, arg, "endpoint_invocations")
    return Usage(
        namespace=SAGEMAKER,
        dimensions=(("EndpointName", step.endpoint), ("VariantName", step.variant)),
        invocations=step.invocations,
        tokens=(),
        minutes=int(step.over // _MINUTE),
        after=step.after,
    )


AlarmName = Annotated[
    str, StringConstraints(min_length=1, max_length=255, pattern=r"^[^\x00-\x1f\x7f]+$")
]
TagKey = Annotated[str, StringConstraints(min_length=1, max_length=128)]
TagValue = Annotated[str, StringConstraints(max_length=256)]
Count = Annotated[StrictInt, Field(ge=1, le=_DAY // _MINUTE)]


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
        limit = _DAY if self.period < 3600 else _WEEK
        if self.period * self.evaluation_periods > limit:
            raise ValueError(
                f"period x evaluation_periods must be at most {limit // 3600}h "
                f"({'periods under an hour' if limit == _DAY else 'periods of an hour or more'})"
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


# ---------------------------------------------------------------------- alarm rules
@dataclass(frozen=True)
class MetricRef:
    key: SeriesKey
    stat: str


@dataclass(frozen=True)
class AlarmRule:
    """What CloudWatch evaluates of one alarm: the sum of `metrics`, per period."""

    name: str
    metrics: tuple[MetricRef, ...]
    period: int
    evaluation_periods: int
    datapoints_to_alarm: int
    threshold: float
    comparison: str
    treat_missing: str

    @property
    def window(self) -> int:
        return self.period * self.evaluation_periods

    @property
    def keys(self) -> frozenset[SeriesKey]:
        return frozenset(m.key for m in self.metrics)


_SUM = re.compile(r"\s*([a-z][A-Za-z0-9_]*)(\s*\+\s*[a-z][A-Za-z0-9_]*)*\s*")


def alarm_rule(params: Mapping[str, Any]) -> AlarmRule | None:
    """The rule of a PutMetricAlarm request, when it is one this simulator evaluates."""
    try:
        if params.get("Metrics"):
            refs, period = _math_metrics(params["Metrics"])
        elif params.get("Statistic") in STATISTICS:
            key = series_key(
                str(params["Namespace"]), str(params["MetricName"]), params.get("Dimensions") or []
            )
            refs, period = (MetricRef(key, str(params["Statistic"])),), int(params["Period"])
        else:
            return None
        periods = int(params["EvaluationPeriods"])
        datapoints = int(params.get("DatapointsToAlarm") or periods)
        threshold = float(params["Threshold"])
    except (KeyError, TypeError, ValueError):
        return None
    comparison = str(params.get("ComparisonOperator"))
    if (
        not refs
        or any(ref.key[1] not in METRICS.get(ref.key[0], ()) for ref in refs)
        or comparison not in COMPARISONS
        or period < _MINUTE
        or period % _MINUTE
        or periods < 1
        or period * periods > (_DAY if period < 3600 else _WEEK)  # CloudWatch refuses more
        or not math.isfinite(threshold)
    ):
        return None
    treat = str(params.get("TreatMissingData") or "missing")
    return AlarmRule(
        name=str(params["AlarmName"]),
        metrics=refs,
        period=period,
        evaluation_periods=periods,
        datapoints_to_alarm=min(max(datapoints, 1), periods),
        threshold=threshold,
        comparison=comparison,
        treat_missing=treat if treat in TREATMENTS else "missing",
    )


def _math_metrics(metrics: list[dict[str, Any]]) -> tuple[tuple[MetricRef, ...], int]:
    """`m1 + m2 + ...` over metrics of one period (the sample token-spend alarm's shape)."""
    stats = {m["Id"]: m["MetricStat"] for m in metrics if m.get("MetricStat")}
    returned = [m for m in metrics if m.get("ReturnData", True)]
    if len(returned) != 1:
        return (), 0
    if "MetricStat" in returned[0]:
        ids = [returned[0]["Id"]]
    else:
        expression = str(returned[0].get("Expression", ""))
        if _SUM.fullmatch(expression) is None:
            return (), 0
        ids = [part.strip() for part in expression.split("+")]
    if any(i not in stats for i in ids):
        return (), 0
    chosen = [stats[i] for i in ids]
    periods = {int(s["Period"]) for s in chosen}
    if len(periods) != 1 or any(s.get("Stat") not in STATISTICS for s in chosen):
        return (), 0
    refs = tuple(
        MetricRef(
            series_key(
                str(s["Metric"]["Namespace"]),
                str(s["Metric"]["MetricName"]),
                s["Metric"].get("Dimensions") or [],
            ),
            str(s["Stat"]),
        )
        for s in chosen
    )
    return refs, periods.pop()


def _breaches(value: float, comparison: str, threshold: float) -> bool:
    if comparison == "GreaterThanThreshold":
        return value > threshold
    if comparison == "GreaterThanOrEqualToThreshold":
        return value >= threshold
    if comparison == "LessThanThreshold":
        return value < threshold
    return value <= threshold


@dataclass(frozen=True)
class Verdict:
    state: str
    reason: str
    reason_data: str


def judge(rule: AlarmRule, points: list[float | None], current: str, now: datetime) -> Verdict:
    """CloudWatch's decision on the alarm's newest datapoints (oldest first, None missing)."""
    breaching = sum(
        1 for p in points if p is not None and _breaches(p, rule.comparison, rule.threshold)
    )
    missing = sum(1 for p in points if p is None)
    if rule.treat_missing == "breaching":
        breaching += missing
    present = [p for p in points if p is not None]
    periods = rule.evaluation_periods
    if breaching >= rule.datapoints_to_alarm:
        state = ALARM
    elif missing == len(points) and rule.treat_missing == "missing":
        state = INSUFFICIENT
    elif missing == len(points) and rule.treat_missing == "ignore":
        state = current
    else:
        state = OK
    stamps = [
        datetime.fromtimestamp(now.timestamp() - (periods - i) * rule.period, UTC)
        for i in range(periods)
    ]
    shown = ", ".join(
        f"{p!r} ({s.strftime('%d/%m/%y %H:%M:%S')})"
        for p, s in zip(points, stamps, strict=True)
        if p is not None
    )
    transition = f"{current} -> {state}"
    minimum = rule.datapoints_to_alarm
    noun = "datapoint" if minimum == 1 else "datapoints"
    operator = COMPARISONS[rule.comparison]
    if state == INSUFFICIENT:
        were = "datapoint was" if missing == 1 else "datapoints were"
        reason = f"Insufficient Data: {missing} {were} unknown."
    elif not present:
        treated = "Breaching" if rule.treat_missing == "breaching" else "NonBreaching"
        reason = (
            f"Threshold Crossed: no datapoints were received for {periods} "
            f"{'period' if periods == 1 else 'periods'} and {missing} missing "
            f"{'datapoint was' if missing == 1 else 'datapoints were'} treated as [{treated}]."
        )
    else:
        counted = breaching if state == ALARM else len(present)
        verb = "was" if state == ALARM else "was not"
        reason = (
            f"Threshold Crossed: {counted} out of the last {periods} datapoints [{shown}] {verb} "
            f"{operator} the threshold ({rule.threshold!r}) (minimum {minimum} {noun} for "
            f"{transition} transition)."
        )
    if len(reason) > _MAX_REASON:
        reason = reason[: _MAX_REASON - 1] + "…"
    data: dict[str, Any] = {
        "version": "1.0",
        "queryDate": now.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
        "startDate": stamps[0].strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
        "period": rule.period,
        "recentDatapoints": present,
        "threshold": rule.threshold,
    }
    if len(rule.metrics) == 1:
        data["statistic"] = rule.metrics[0].stat
    while len(json.dumps(data)) > _MAX_REASON_DATA and data["recentDatapoints"]:
        data["recentDatapoints"] = data["recentDatapoints"][
            len(data["recentDatapoints"]) // 2 + 1 :
        ]
    return Verdict(state, reason, json.dumps(data))


def _epoch(timestamp: Any, now: float) -> float:
    """A PutMetricData Timestamp as epoch seconds (a naive one is UTC); none is now."""
    if isinstance(timestamp, datetime):
        moment = timestamp if timestamp.tzinfo else timestamp.replace(tzinfo=UTC)
        return moment.timestamp()
    if isinstance(timestamp, int | float) and not isinstance(timestamp, bool):
        return float(timestamp)
    if isinstance(timestamp, str):
        try:
            return _epoch(datetime.fromisoformat(timestamp.replace("Z", "+00:00")), now)
        except ValueError:
            return now
    return now


# ---------------------------------------------------------------------- the simulator
@register
class SpendAlarmSimulator(Simulator):
    name = "spend_alarms"
    watches: ClassVar[frozenset[tuple[str, str]]] = frozenset(
        {
            ("cloudwatch", "PutMetricAlarm"),
            ("cloudwatch", "SetAlarmState"),
            ("cloudwatch", "DeleteAlarms"),
            ("cloudwatch", "PutMetricData"),
        }
    )

    def __init__(self, host: SimulatorHost) -> None:
        super().__init__(host)
        self._rules: dict[str, AlarmRule] = {}
        # Each alarm's state as the cloudwatch_alarms simulator sees it (it follows the same
        # calls): a new alarm is INSUFFICIENT_DATA, whatever moto says.
        self._states: dict[str, str] = {}
        self._series: dict[SeriesKey, list[float]] = {}
        self._ticks: dict[float, set[str]] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ following the API
    def on_call(self, call: ApiCall) -> None:
        if call.error is not None:
            return
        if call.operation == "PutMetricData":
            self._metric_data(call.params)
            return
        if call.operation == "DeleteAlarms":
            with self._lock:
                for name in call.params.get("AlarmNames") or []:
                    self._rules.pop(name, None)
                    self._states.pop(name, None)
            return
        name = str(call.params["AlarmName"])
        if call.operation == "SetAlarmState":
            with self._lock:
                self._states[name] = str(call.params["StateValue"])
            return
        rule = alarm_rule(call.params)
        with self._lock:
            self._states.setdefault(name, INSUFFICIENT)
            if rule is None:
                self._rules.pop(name, None)
                return
            self._rules[name] = rule
            stamps = {key: list(self._series.get(key, ())) for key in rule.keys}
        # CloudWatch evaluates a new alarm at once, then as its datapoints change.
        self._schedule(self.host.clock.time(), name)
        for times in stamps.values():
            self._schedule_changes(rule, times)

    # ------------------------------------------------------------------ usage
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
        start = first if first is not None else now - now % _MINUTE
        stamp = start + minute * _MINUTE
        data = usage.datapoints(minute)
        if data:
            moment = datetime.fromtimestamp(stamp, UTC)
            self.host.client("cloudwatch").put_metric_data(
                Namespace=usage.namespace,
                MetricData=[{**d, "Timestamp": moment} for d in data],
            )
        if minute + 1 < usage.minutes:
            self.host.agenda.at(
                stamp + _MINUTE,
                f"usage {usage.label}: minute {minute + 2}/{usage.minutes}",
                lambda: self._minute(usage, minute + 1, start),
            )

    def _metric_data(self, params: Mapping[str, Any]) -> None:
        """Datapoints written on the metrics this evaluates, by anyone (the usage steps, the
        sagemaker_shadow simulator's hourly Invocations): their alarms' evaluations."""
        namespace = params.get("Namespace")
        names = METRICS.get(str(namespace), frozenset())
        now = self.host.clock.time()
        for datum in params.get("MetricData") or []:
            if datum.get("MetricName") not in names:
                continue
            key = series_key(str(namespace), datum["MetricName"], datum.get("Dimensions") or [])
            stamp = _epoch(datum.get("Timestamp"), now)
            stamp -= stamp % _MINUTE  # the minute the datapoint counts in
            with self._lock:
                self._series.setdefault(key, []).append(stamp)
                rules = [r for r in self._rules.values() if key in r.keys]
            for rule in rules:
                if stamp + _MINUTE <= now:
                    self._schedule(now, rule.name)  # late data: CloudWatch sees it next minute
                self._schedule_changes(rule, [stamp])

    # ------------------------------------------------------------------ evaluation
    def _schedule_changes(self, rule: AlarmRule, stamps: Iterable[float]) -> None:
        """The minutes at which a datapoint enters or leaves one of the alarm's periods."""
        now = self.host.clock.time()
        due = {
            stamp + _MINUTE + j * rule.period
            for stamp in stamps
            for j in range(rule.evaluation_periods + 1)
        }
        for at in sorted(t for t in due if t > now):
            self._schedule(at, rule.name)

    def _schedule(self, at: float, name: str) -> None:
        with self._lock:
            names = self._ticks.get(at)
            if names is not None:
                names.add(name)
                return
            self._ticks[at] = {name}
        self.host.agenda.at(at, "evaluate spend alarms", lambda: self._tick(at))

    def _tick(self, at: float) -> None:
        with self._lock:
            names = self._ticks.pop(at, set())
            rules = [self._rules[n] for n in sorted(names) if n in self._rules]
        for rule in rules:
            self._evaluate(rule)

    def _evaluate(self, rule: AlarmRule) -> None:
        now = self.host.clock.now()
        points = self._points(rule, now)
        with self._lock:
            current = self._states.get(rule.name, INSUFFICIENT)
        verdict = judge(rule, points, current, now)
        if verdict.state == current:
            return
        try:
            self.host.client("cloudwatch").set_alarm_state(
                AlarmName=rule.name,
                StateValue=verdict.state,
                StateReason=verdict.reason,
                StateReasonData=verdict.reason_data,
            )
        except ClientError:
            # Deleted behind our back (not through DeleteAlarms): nothing left to evaluate.
            with self._lock:
                self._rules.pop(rule.name, None)

    def _points(self, rule: AlarmRule, now: datetime) -> list[float | None]:
        """The alarm's periods ending now, oldest first: each its statistic (of the sum of its
        metrics), or None when no metric has a datapoint in it. GetMetricData's periods start at
        StartTime and match dimensions exactly, as an alarm's do."""
        start = now.timestamp() - rule.window
        response = self.host.client("cloudwatch").get_metric_data(
            MetricDataQueries=[
                {
                    "Id": f"m{index}",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": ref.key[0],
                            "MetricName": ref.key[1],
                            "Dimensions": [{"Name": k, "Value": v} for k, v in ref.key[2]],
                        },
                        "Period": rule.period,
                        "Stat": ref.stat,
                    },
                    "ReturnData": True,
                }
                for index, ref in enumerate(rule.metrics)
            ],
            StartTime=datetime.fromtimestamp(start, UTC),
            EndTime=now,
            ScanBy="TimestampAscending",
        )
        points: list[float | None] = [None] * rule.evaluation_periods
        for result in response.get("MetricDataResults", []):
            for moment, value in zip(result["Timestamps"], result["Values"], strict=True):
                index = int((moment.timestamp() - start) // rule.period)
                if 0 <= index < len(points):
                    # A sum of metrics: a period is missing only when every metric misses it.
                    points[index] = (points[index] or 0.0) + float(value)
        return points
