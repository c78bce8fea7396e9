"""CloudWatch metric alarms evaluated offline, as CloudWatch evaluates them.

moto stores alarms and metric data but never evaluates an alarm. This simulator does, for every
metric alarm on a metric the runtime writes (`aiops_local.metrics.FED`: the usage steps' Bedrock
and SageMaker metrics, AWS/SQS, AWS/States, AWS/Lambda) or on a custom namespace (the control
plane's EMF metrics, or anyone's PutMetricData): one metric, or an `m1 + m2 + ...` sum of metrics
of one period.

The newest `EvaluationPeriods` periods ending now, each a datapoint of the alarm's `Statistic`
(Sum, Average, Maximum, Minimum, SampleCount; only datapoints of its `Unit`, when it names one),
compared to `Threshold` by `ComparisonOperator`; `DatapointsToAlarm` breaching ones (default
all) → ALARM; all missing → as `TreatMissingData` says (missing → INSUFFICIENT_DATA, ignore →
unchanged, notBreaching → OK, breaching → ALARM); otherwise OK. A new alarm is evaluated at
once; a datapoint written late is seen at once.

CloudWatch evaluates every minute; what it says can only change at the minutes a datapoint
enters or leaves one of the alarm's periods (for per-minute samples, any minute within a window
of a change). Rather than a wake-up per minute, the simulator works out, from the data known
now, the first of those minutes at which the alarm's state would change, and evaluates then;
new data, a state set by someone else, or that evaluation plans again. An alarm whose state will
not change costs nothing, however long virtual time runs (and a metric written on a schedule
never keeps "run until quiet" busy). Its state is set with SetAlarmState only when it changes, so
the `cloudwatch_alarms` simulator emits one `CloudWatch Alarm State Change` (and runs the alarm's
actions) per change.

Alarms this does not evaluate (other AWS metrics, percentiles, other metric math, anomaly
detection) keep the states scenarios and handlers give them.
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from botocore.exceptions import ClientError

from aiops_local.metrics import MINUTE, SeriesKey, is_fed, minute_of, series_key
from aiops_local.patches.botocore_calls import ApiCall
from aiops_local.simulators.base import Simulator, SimulatorHost, register

STATISTICS = ("Sum", "Average", "Maximum", "Minimum", "SampleCount")
COMPARISONS = {
    "GreaterThanThreshold": "greater than",
    "GreaterThanOrEqualToThreshold": "greater than or equal to",
    "LessThanThreshold": "less than",
    "LessThanOrEqualToThreshold": "less than or equal to",
}
TREATMENTS = ("missing", "notBreaching", "breaching", "ignore")
ALARM, OK, INSUFFICIENT = "ALARM", "OK", "INSUFFICIENT_DATA"
# CloudWatch: Period x EvaluationPeriods at most a day for periods under an hour, else 7 days.
DAY, WEEK = 86400, 7 * 86400
# SetAlarmState's limits on StateReason and StateReasonData.
_MAX_REASON, _MAX_REASON_DATA = 1023, 4000
# How many future minutes one planning looks at before it plans again from there.
_MAX_SCAN = 4000


# ---------------------------------------------------------------------- alarm rules
@dataclass(frozen=True)
class MetricRef:
    key: SeriesKey
    stat: str
    unit: str | None = None


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
            unit = params.get("Unit")
            refs = (MetricRef(key, str(params["Statistic"]), str(unit) if unit else None),)
            period = int(params["Period"])
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
        or not all(is_fed(ref.key[0], ref.key[1]) for ref in refs)
        or comparison not in COMPARISONS
        or period < MINUTE
        or period % MINUTE
        or periods < 1
        or period * periods > (DAY if period < 3600 else WEEK)  # CloudWatch refuses more
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
    """`m1 + m2 + ...` over metrics of one period (or one metric by id)."""
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
            str(s["Unit"]) if s.get("Unit") else None,
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


def _tally(rule: AlarmRule, points: list[float | None]) -> tuple[int, int]:
    """How many of the datapoints breach (missing ones too, when treated as breaching), and
    how many are missing."""
    missing = sum(1 for p in points if p is None)
    breaching = sum(
        1 for p in points if p is not None and _breaches(p, rule.comparison, rule.threshold)
    )
    if rule.treat_missing == "breaching":
        breaching += missing
    return breaching, missing


def state_of(rule: AlarmRule, points: list[float | None], current: str) -> str:
    """CloudWatch's state for the alarm's newest datapoints (oldest first, None missing)."""
    breaching, missing = _tally(rule, points)
    if breaching >= rule.datapoints_to_alarm:
        return ALARM
    if missing == len(points) and rule.treat_missing == "missing":
        return INSUFFICIENT
    if missing == len(points) and rule.treat_missing == "ignore":
        return current
    return OK


@dataclass(frozen=True)
class Verdict:
    state: str
    reason: str
    reason_data: str


def judge(rule: AlarmRule, points: list[float | None], current: str, now: datetime) -> Verdict:
    """CloudWatch's decision on the alarm's newest datapoints, with its reason (the text and the
    JSON CloudWatch gives)."""
    state = state_of(rule, points, current)
    breaching, missing = _tally(rule, points)
    present = [p for p in points if p is not None]
    periods = rule.evaluation_periods
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


# ---------------------------------------------------------------------- the simulator
@register
class MetricAlarmSimulator(Simulator):
    name = "metric_alarms"
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
        self._by_key: dict[SeriesKey, set[str]] = {}
        # Each alarm's state as the cloudwatch_alarms simulator sees it (it follows the same
        # calls): a new alarm is INSUFFICIENT_DATA, whatever moto says.
        self._states: dict[str, str] = {}
        # The plan in force for each alarm; a wake-up of an older plan does nothing.
        self._plans: dict[str, int] = {}
        # Alarms owed an evaluation now (new, or late data), until it is made: planning again
        # before then (more data in the same moment) keeps it.
        self._due_now: set[str] = set()
        self._lock = threading.RLock()
        host.metrics.subscribe(self._on_data)

    # ------------------------------------------------------------------ following the API
    def on_call(self, call: ApiCall) -> None:
        if call.error is not None:
            return
        if call.operation == "PutMetricData":
            # Written through the API (usage steps, simulators, handlers): the store indexes it
            # and tells us (`_on_data`).
            self.host.metrics.index(str(call.params.get("Namespace")), call.params["MetricData"])
            return
        if call.operation == "DeleteAlarms":
            for name in call.params.get("AlarmNames") or []:
                self._forget(name)
                with self._lock:
                    self._states.pop(name, None)
            return
        name = str(call.params["AlarmName"])
        if call.operation == "SetAlarmState":
            with self._lock:
                self._states[name] = str(call.params["StateValue"])
                evaluated = name in self._rules
            if evaluated:
                self._plan(name, at_once=False)
            return
        rule = alarm_rule(call.params)
        self._forget(name)
        with self._lock:
            self._states.setdefault(name, INSUFFICIENT)
            if rule is None:
                return
            self._rules[name] = rule
            for key in rule.keys:
                self._by_key.setdefault(key, set()).add(name)
        # CloudWatch evaluates a new alarm at once, then as its datapoints change.
        self._plan(name, at_once=True)

    def _forget(self, name: str) -> None:
        with self._lock:
            rule = self._rules.pop(name, None)
            self._plans.pop(name, None)
            self._due_now.discard(name)
            if rule is not None:
                for key in rule.keys:
                    self._by_key.get(key, set()).discard(name)

    def _on_data(self, key: SeriesKey, moments: list[float]) -> None:
        with self._lock:
            names = sorted(self._by_key.get(key, ()))
        if not names:
            return
        now = self.host.clock.time()
        # A datapoint for a minute already over is late: CloudWatch sees it at once.
        late = any(minute_of(m) + MINUTE <= now for m in moments)
        for name in names:
            self._plan(name, at_once=late)

    def settle(self) -> None:
        """The stack was just deployed: every alarm's first evaluation, now (the runtime makes
        it quietly, as the settled state of a stack that has been running)."""
        with self._lock:
            names = sorted(self._rules)
        for name in names:
            rule = self._rules.get(name)
            if rule is not None and not self._evaluate(rule):
                self._plan(name, at_once=False)

    # ------------------------------------------------------------------ planning
    def _plan(self, name: str, at_once: bool) -> None:
        """Find the first moment (now, when `at_once`) at which the alarm's state changes, from
        the data known now, and evaluate it then."""
        with self._lock:
            rule = self._rules.get(name)
            if rule is None:
                return
            plan = self._plans.get(name, 0) + 1
            self._plans[name] = plan
            current = self._states.get(name, INSUFFICIENT)
            if at_once:
                self._due_now.add(name)
            at_once = name in self._due_now
        now = self.host.clock.time()
        if at_once:
            if state_of(rule, self._points(rule, now), current) != current:
                self._wake(name, plan, now, evaluate=True)
                return
            with self._lock:
                self._due_now.discard(name)  # evaluating now would change nothing
        moments = self._moments(rule, now)
        for moment in moments[:_MAX_SCAN]:
            if state_of(rule, self._points(rule, moment), current) != current:
                self._wake(name, plan, moment, evaluate=True)
                return
        if len(moments) > _MAX_SCAN:
            self._wake(name, plan, moments[_MAX_SCAN - 1], evaluate=False)

    def _moments(self, rule: AlarmRule, now: float) -> list[float]:
        """The moments after `now` at which a datapoint enters or leaves one of the alarm's
        periods, for the data known now."""
        since = now - rule.window - 2 * MINUTE
        moments: set[float] = set()
        for key in rule.keys:
            stamps, boundaries = self.host.metrics.influences(key, since)
            for stamp in stamps:
                first = minute_of(stamp) + MINUTE
                moments.update(first + j * rule.period for j in range(rule.evaluation_periods + 1))
            for boundary in boundaries:
                # Per-minute samples: each minute of a window after the change differs.
                moments.update(
                    boundary + MINUTE * (1 + j) for j in range(rule.window // MINUTE + 1)
                )
        return sorted(m for m in moments if m > now)

    def _wake(self, name: str, plan: int, moment: float, evaluate: bool) -> None:
        def wake() -> None:
            with self._lock:
                if self._plans.get(name) != plan:
                    return  # planned again since
                rule = self._rules.get(name)
                self._due_now.discard(name)
            if rule is None:
                return
            if not evaluate or not self._evaluate(rule):
                self._plan(name, at_once=False)

        self.host.agenda.at(moment, f"evaluate alarm {name}", wake)

    # ------------------------------------------------------------------ evaluation
    def _evaluate(self, rule: AlarmRule) -> bool:
        """Evaluate now; True when the state changed (SetAlarmState plans the next one)."""
        now = self.host.clock.now()
        points = self._points(rule, now.timestamp())
        with self._lock:
            current = self._states.get(rule.name, INSUFFICIENT)
        verdict = judge(rule, points, current, now)
        if verdict.state == current:
            return False
        try:
            self.host.client("cloudwatch").set_alarm_state(
                AlarmName=rule.name,
                StateValue=verdict.state,
                StateReason=verdict.reason,
                StateReasonData=verdict.reason_data,
            )
        except ClientError:
            # Deleted behind our back (not through DeleteAlarms): nothing left to evaluate.
            self._forget(rule.name)
        return True

    def _points(self, rule: AlarmRule, moment: float) -> list[float | None]:
        """The alarm's periods ending at `moment`, oldest first: each its statistic (of the sum
        of its metrics), or None when no metric has a datapoint in it."""
        start = moment - rule.window
        points: list[float | None] = []
        for index in range(rule.evaluation_periods):
            low = start + index * rule.period
            total: float | None = None
            for ref in rule.metrics:
                stats = self.host.metrics.stats(ref.key, low, low + rule.period, moment, ref.unit)
                value = stats.value(ref.stat)
                if value is not None:
                    # A sum of metrics: a period is missing only when every metric misses it.
                    total = (total or 0.0) + value
            points.append(total)
        return points
