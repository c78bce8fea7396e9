"""CloudWatch metric data offline: what every metric source writes and what alarms read.

moto stores metric data but reads it back by scanning every datapoint of the account on each
query, and it evaluates no alarm. The runtime keeps its own index of the same data, per metric
(namespace, name and exact dimensions, as CloudWatch identifies a metric), which the
`metric_alarms` simulator evaluates alarms on.

Two kinds of series:

* **datapoints** (`put`, `index`): what PutMetricData writes — the usage steps and simulators
  through the API (`index` follows those calls), the runtime's own sources directly (`put`:
  handlers' EMF documents, AWS/Lambda and AWS/States metrics), with no HTTP round trip per
  datapoint: indexed at once, written into moto's backend when someone reads metrics through the
  API (`materialize`), so an invocation pays for no moto bookkeeping;
* **per-minute samples** (`minute_series`): what a service publishes once a minute while a
  resource is active, such as an SQS queue's depth. Held as changes (a depth held since some
  minute, the messages sent in a minute) and activity spans, not one datapoint per idle minute:
  a dead letter that waits a week is two changes, not 10,080 datapoints. Their minutes reach
  moto's backend when someone reads metrics through the API (`materialize`), the last 15 days of
  them (CloudWatch keeps one-minute data that long).

Listeners (`subscribe`) hear of every new datapoint or change, with the moments it affects.
"""

from __future__ import annotations

import bisect
import math
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

MINUTE = 60
# CloudWatch keeps one-minute datapoints for 15 days.
ONE_MINUTE_RETENTION_S = 15 * 86400

SeriesKey = tuple[str, str, tuple[tuple[str, str], ...]]
Listener = Callable[[SeriesKey, list[float]], None]

# The metrics the runtime (or a scenario through a simulator) writes, per AWS namespace: alarms on
# these are evaluated. Custom namespaces (anything not `AWS/`) are the control plane's own: every
# alarm on them is evaluated, whoever writes them.
FED: Mapping[str, frozenset[str]] = {
    "AWS/Bedrock": frozenset({"InputTokenCount", "OutputTokenCount", "Invocations"}),
    "AWS/SageMaker": frozenset({"Invocations"}),
    "AWS/SQS": frozenset({"ApproximateNumberOfMessagesVisible", "NumberOfMessagesSent"}),
    "AWS/States": frozenset(
        {
            "ExecutionsStarted",
            "ExecutionsSucceeded",
            "ExecutionsFailed",
            "ExecutionsTimedOut",
            "ExecutionsAborted",
            "ExecutionTime",
        }
    ),
    "AWS/Lambda": frozenset({"Invocations", "Errors", "Duration", "Throttles"}),
}


def is_fed(namespace: str, metric: str) -> bool:
    """Whether the runtime writes this metric, so that alarms on it are evaluated."""
    if not namespace.startswith("AWS/"):
        return True
    return metric in FED.get(namespace, frozenset())


def series_key(namespace: str, metric: str, dimensions: Iterable[Mapping[str, Any]]) -> SeriesKey:
    """A metric as CloudWatch identifies it: namespace, name and its exact set of dimensions."""
    pairs = sorted((str(d.get("Name")), str(d.get("Value"))) for d in dimensions)
    return namespace, metric, tuple(pairs)


def epoch(timestamp: Any, now: float) -> float:
    """A PutMetricData Timestamp as epoch seconds (a naive one is UTC); none is now."""
    if isinstance(timestamp, datetime):
        moment = timestamp if timestamp.tzinfo else timestamp.replace(tzinfo=UTC)
        return moment.timestamp()
    if isinstance(timestamp, int | float) and not isinstance(timestamp, bool):
        return float(timestamp)
    if isinstance(timestamp, str):
        try:
            return epoch(datetime.fromisoformat(timestamp.replace("Z", "+00:00")), now)
        except ValueError:
            return now
    return now


def minute_of(moment: float) -> float:
    return moment - moment % MINUTE


def _naive_utc(moment: float) -> datetime:
    # moto keeps metric timestamps as naive UTC datetimes (as its request parser gives them).
    return datetime.fromtimestamp(moment, UTC).replace(tzinfo=None)


# ---------------------------------------------------------------------- statistics
@dataclass
class Stats:
    """What CloudWatch computes a period's statistics from: samples, their sum, min and max."""

    count: float = 0.0
    total: float = 0.0
    low: float = math.inf
    high: float = -math.inf

    def add(self, count: float, total: float, low: float, high: float) -> None:
        self.count += count
        self.total += total
        self.low = min(self.low, low)
        self.high = max(self.high, high)

    @property
    def empty(self) -> bool:
        return self.count <= 0 and self.low == math.inf

    def value(self, stat: str) -> float | None:
        if self.empty:
            return None
        if stat == "Sum":
            return self.total
        if stat == "SampleCount":
            return self.count
        if stat == "Minimum":
            return self.low
        if stat == "Maximum":
            return self.high
        if stat == "Average":
            return self.total / self.count if self.count else None
        return None


@dataclass(frozen=True)
class Sample:
    stamp: float
    count: float
    total: float
    low: float
    high: float
    unit: str | None


def samples_of(datum: Mapping[str, Any], stamp: float) -> Sample | None:
    """One PutMetricData member as one sample set (Value, Values/Counts or StatisticValues)."""
    unit = datum.get("Unit")
    if datum.get("StatisticValues"):
        values = datum["StatisticValues"]
        return Sample(
            stamp,
            float(values["SampleCount"]),
            float(values["Sum"]),
            float(values["Minimum"]),
            float(values["Maximum"]),
            unit,
        )
    if datum.get("Values"):
        numbers = [float(v) for v in datum["Values"]]
        counts = [float(c) for c in datum.get("Counts") or [1.0] * len(numbers)]
        weighted = [(v, c) for v, c in zip(numbers, counts, strict=False) if c > 0]
        if not weighted:
            return None
        return Sample(
            stamp,
            sum(c for _, c in weighted),
            sum(v * c for v, c in weighted),
            min(v for v, _ in weighted),
            max(v for v, _ in weighted),
            unit,
        )
    value = float(datum.get("Value", 0.0))
    return Sample(stamp, 1.0, value, value, value, unit)


class PointSeries:
    """Datapoints of one metric, by time."""

    def __init__(self) -> None:
        self.stamps: list[float] = []
        self.samples: list[Sample] = []

    def add(self, sample: Sample) -> None:
        index = bisect.bisect_right(self.stamps, sample.stamp)
        self.stamps.insert(index, sample.stamp)
        self.samples.insert(index, sample)

    def stats(self, start: float, end: float, unit: str | None, into: Stats) -> None:
        low = bisect.bisect_left(self.stamps, start)
        high = bisect.bisect_left(self.stamps, end)
        for sample in self.samples[low:high]:
            if unit is None or sample.unit == unit:
                into.add(sample.count, sample.total, sample.low, sample.high)

    def influences(self, since: float) -> list[float]:
        return self.stamps[bisect.bisect_left(self.stamps, since) :]


class MinuteSeries:
    """A metric a service samples once a minute while its resource is active.

    `gauge`: the value held since its last change (a queue's depth, as it stands at the end of
    each minute); `counter`: what was counted in each minute (messages sent), 0 in active minutes
    with nothing counted. A minute's sample exists once the minute is over.
    """

    def __init__(self, kind: str, unit: str | None) -> None:
        if kind not in ("gauge", "counter"):
            raise ValueError(f"kind must be gauge or counter, not {kind!r}")
        self.kind = kind
        self.unit = unit
        self._change_minutes: list[float] = []
        self._change_values: list[float] = []
        self._counts: dict[float, float] = {}
        # Active spans [start, end) in minutes; end None: open (until a change closes it).
        self._spans: list[list[float | None]] = []
        self.written_until: float | None = None  # first minute not yet in moto's backend

    # ------------------------------------------------------------------ writing
    def set(self, at: float, value: float) -> float:
        """A gauge's new value from `at` on (the last change in a minute is its sample)."""
        minute = minute_of(at)
        if self._change_minutes and self._change_minutes[-1] == minute:
            self._change_values[-1] = value
        elif not self._change_values or self._change_values[-1] != value:
            self._change_minutes.append(minute)
            self._change_values.append(value)
        return minute

    def count(self, at: float, amount: float) -> float:
        minute = minute_of(at)
        self._counts[minute] = self._counts.get(minute, 0.0) + amount
        return minute

    def activate(self, at: float, until: float | None) -> None:
        """Active from `at`'s minute until `until` (exclusive; None: until told otherwise)."""
        minute = minute_of(at)
        end = None if until is None else max(minute_of(until), minute + MINUTE)
        if self._spans:
            last = self._spans[-1]
            if last[1] is None or last[1] > minute:  # still active: the span goes on
                if end is None or last[1] is None:
                    last[1] = end
                else:
                    last[1] = max(last[1], end)
                return
        self._spans.append([minute, end])

    # ------------------------------------------------------------------ reading
    def value(self, minute: float) -> float:
        if self.kind == "counter":
            return self._counts.get(minute, 0.0)
        index = bisect.bisect_right(self._change_minutes, minute) - 1
        return self._change_values[index] if index >= 0 else 0.0

    def minutes(self, start: float, end: float, now: float) -> Iterable[float]:
        """Active minutes m with start <= m < end whose minute is over by `now`."""
        first = math.ceil(start / MINUTE) * MINUTE
        last = min(end, minute_of(now))  # the minutes before the current one are over
        for span_start, span_end in self._spans:
            assert span_start is not None
            low = max(first, span_start)
            high = last if span_end is None else min(last, span_end)
            minute = low
            while minute < high:
                yield minute
                minute += MINUTE

    def stats(self, start: float, end: float, now: float, unit: str | None, into: Stats) -> None:
        if unit is not None and unit != self.unit:
            return
        for minute in self.minutes(start, end, now):
            value = self.value(minute)
            into.add(1.0, value, value, value)

    def boundaries(self, since: float) -> list[float]:
        """Minutes from which the samples differ from the minute before (changes, counted
        minutes and the minute after them, activity starting or ending)."""
        points = set(self._change_minutes)
        for minute in self._counts:
            points |= {minute, minute + MINUTE}
        for span_start, span_end in self._spans:
            assert span_start is not None
            points.add(span_start)
            if span_end is not None:
                points.add(span_end)
        return sorted(p for p in points if p >= since)


# ---------------------------------------------------------------------- the store
class MetricStore:
    def __init__(self, account: str, region: str, now: Callable[[], float]) -> None:
        self.account = account
        self.region = region
        self._now = now
        self._points: dict[SeriesKey, PointSeries] = {}
        self._minutes: dict[SeriesKey, MinuteSeries] = {}
        self._listeners: list[Listener] = []
        # Datapoints `put` by the runtime's own sources, not yet in moto's backend.
        self._unwritten: list[tuple[str, float, Sequence[Mapping[str, Any]]]] = []
        self._lock = threading.RLock()

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _notify(self, key: SeriesKey, moments: list[float]) -> None:
        for listener in list(self._listeners):
            listener(key, moments)

    @staticmethod
    def _backend(account: str, region: str) -> Any:
        from moto.cloudwatch.models import cloudwatch_backends

        return cloudwatch_backends[account][region]

    # ------------------------------------------------------------------ writing
    def put(self, namespace: str, data: Sequence[Mapping[str, Any]]) -> None:
        """PutMetricData by the runtime itself: indexed now, in moto's backend by the next read.
        The data must be valid PutMetricData members (finite values, a Timestamp or none)."""
        now = self._now()
        with self._lock:
            self._unwritten.append((namespace, now, data))
        self.index(namespace, data)

    def index(self, namespace: str, data: Sequence[Mapping[str, Any]]) -> None:
        """Datapoints already written (PutMetricData through the API): index them."""
        now = self._now()
        touched: dict[SeriesKey, list[float]] = {}
        with self._lock:
            for datum in data:
                key = series_key(namespace, str(datum["MetricName"]), datum.get("Dimensions") or [])
                sample = samples_of(datum, epoch(datum.get("Timestamp"), now))
                if sample is None:
                    continue
                self._points.setdefault(key, PointSeries()).add(sample)
                touched.setdefault(key, []).append(sample.stamp)
        for key, stamps in touched.items():
            self._notify(key, stamps)

    def minute_series(
        self,
        namespace: str,
        metric: str,
        dimensions: Iterable[Mapping[str, Any]],
        kind: str,
        unit: str | None,
    ) -> tuple[SeriesKey, MinuteSeries]:
        key = series_key(namespace, metric, dimensions)
        with self._lock:
            series = self._minutes.get(key)
            if series is None:
                series = self._minutes[key] = MinuteSeries(kind, unit)
        return key, series

    def changed(self, key: SeriesKey, minute: float) -> None:
        """A minute series changed from `minute` on (its writer calls this after writing)."""
        self._notify(key, [minute])

    # ------------------------------------------------------------------ reading
    def stats(
        self, key: SeriesKey, start: float, end: float, now: float, unit: str | None = None
    ) -> Stats:
        """The samples of metric `key` with start <= time < end, as of `now`."""
        result = Stats()
        with self._lock:
            points = self._points.get(key)
            if points is not None:
                points.stats(start, end, unit, result)
            minutes = self._minutes.get(key)
            if minutes is not None:
                minutes.stats(start, end, now, unit, result)
        return result

    def influences(self, key: SeriesKey, since: float) -> tuple[list[float], list[float]]:
        """Moments from `since` on that alarms on `key` must look at: datapoint times, and
        minutes from which per-minute samples differ."""
        with self._lock:
            points = self._points.get(key)
            minutes = self._minutes.get(key)
            return (
                points.influences(since) if points is not None else [],
                minutes.boundaries(since) if minutes is not None else [],
            )

    def materialize(self) -> None:
        """Write into moto's backend what the runtime's sources `put` since the last read, and
        the per-minute samples that are over (as CloudWatch would have published them), so that
        GetMetricData, GetMetricStatistics and ListMetrics see them."""
        now = self._now()
        with self._lock:
            pending = list(self._minutes.items())
            unwritten, self._unwritten = self._unwritten, []
        backend = self._backend(self.account, self.region)
        for namespace, written_at, data in unwritten:
            members = [
                {**datum, "Timestamp": _naive_utc(epoch(datum.get("Timestamp"), written_at))}
                for datum in data
            ]
            backend.put_metric_data(namespace, members)
        for (namespace, metric, dimensions), series in pending:
            with self._lock:
                floor = minute_of(now) - ONE_MINUTE_RETENTION_S
                start = max(series.written_until or -math.inf, floor)
                end = minute_of(now)
                members = [
                    {
                        "MetricName": metric,
                        "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions],
                        "Timestamp": _naive_utc(minute),
                        "Value": series.value(minute),
                        **({"Unit": series.unit} if series.unit else {}),
                    }
                    for minute in series.minutes(start, end, now)
                ]
                series.written_until = end
            if members:
                backend.put_metric_data(namespace, members)
