"""SageMaker shadow tests (inference experiments): Creating → Running → Completed, with metrics.

moto has no inference experiments; `patches/sagemaker_inference_experiments` adds the API and
keeps each experiment `Creating`. This simulator, watching CreateInferenceExperiment and
StopInferenceExperiment, moves it on in virtual time:

  Creating ─(provision)→ Running ─(the schedule's EndTime)→ Completed
           └─(a future StartTime)→ Created ─(StartTime)→ Running
           └─(fail)→ Cancelled, with StatusReason  ("if any operation fails with an unexpected
                                                     error, it shows as cancelled": API reference)
  StopInferenceExperiment: Stopping ─(1 minute)→ DesiredState (Completed | Cancelled)

While an experiment runs, it publishes what SageMaker publishes for every variant of a real-time
endpoint ("SageMaker AI endpoint invocation metrics"), for the production variant and for the
shadow variant alike: namespace `AWS/SageMaker`, dimensions `EndpointName` + `VariantName`, metrics
`Invocations`, `Invocation4XXErrors`, `Invocation5XXErrors` (1 per failed request, 0 otherwise, so
their Average is the error rate) and `ModelLatency` (microseconds). One datapoint per metric and
variant per hour of the experiment (`StatisticValues`, timestamped at the start of the hour it
covers, published when that hour has passed; a stop or the end publishes the part-hour left).
Averages are exact: Sum = invocations * error rate (not rounded to whole requests).
The shadow variant receives the sampling percentage of production's invocations.

No EventBridge event: SageMaker documents none for inference experiments (the EventBridge
reference "Amazon SageMaker AI events" lists none); their state is read with
DescribeInferenceExperiment.

A stop that promotes the shadow variant is recorded, not applied to moto's endpoint: the
experiment's `promoted_model` (patch module) and `promotions[endpoint] = model` here.

Settings (scenario `simulators.sagemaker_shadow`, or a `configure` step):
  production: {latency_ms: 40, error_rate: 0.001, invocations_per_hour: 1000}
  shadow: {latency_ms: 42, error_rate: 0.001}   (invocations: sampling % of production's)
  provision: 5m                  (Creating → Running)
  fail: false | true | "reason"  (the experiment never starts: Cancelled, with that reason)
  next: [{shadow: {latency_ms: 90}}, ...]   (per-experiment overrides, used in order by the next
                                             experiments created; nested settings are merged)
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from aiops.units import duration_seconds
from aiops_local.patches import sagemaker_inference_experiments as experiments
from aiops_local.patches.botocore_calls import ApiCall
from aiops_local.simulators.base import Simulator, SimulatorHost, register

NAMESPACE = "AWS/SageMaker"
_SETTINGS = ("production", "shadow", "provision", "fail")
_VARIANT_SETTINGS = {
    "production": ("latency_ms", "error_rate", "invocations_per_hour"),
    "shadow": ("latency_ms", "error_rate"),
}
_HOUR = 3600.0
# How long a stopped experiment stays `Stopping` (SageMaker removes or promotes variants).
_STOP_SECONDS = 60
_DEFAULT_FAILURE = "Failed to create the shadow variant on the endpoint (simulated)"


@dataclass
class ShadowTest:
    """One experiment as the simulator runs it."""

    name: str
    endpoint: str
    production_variant: str
    shadow_variant: str
    sampling_percentage: int
    start: datetime
    end: datetime
    settings: dict[str, Any]
    running_since: datetime | None = None
    published_until: datetime | None = None
    stopped_at: datetime | None = None


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def _number(value: Any, what: str, upper: float | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"sagemaker_shadow: {what} must be a number, not {value!r}")
    if value < 0 or (upper is not None and value > upper):
        bound = f"between 0 and {upper:g}" if upper is not None else "0 or more"
        raise ValueError(f"sagemaker_shadow: {what} must be {bound}, not {value!r}")


def _check(settings: dict[str, Any]) -> None:
    unknown = set(settings) - set(_SETTINGS)
    if unknown:
        raise ValueError(
            f"sagemaker_shadow: unknown settings {sorted(unknown)}; "
            f"known: {', '.join(_SETTINGS)}, next"
        )
    for variant, known in _VARIANT_SETTINGS.items():
        values = settings.get(variant, {})
        if not isinstance(values, dict):
            raise ValueError(f"sagemaker_shadow: {variant} takes {{{', '.join(known)}}}")
        unknown = set(values) - set(known)
        if unknown:
            raise ValueError(
                f"sagemaker_shadow: unknown {variant} settings {sorted(unknown)}; "
                f"known: {', '.join(known)}"
            )
        for key, value in values.items():
            _number(value, f"{variant}.{key}", 1.0 if key == "error_rate" else None)
    if duration_seconds(settings.get("provision", 0)) < 0:
        raise ValueError("sagemaker_shadow: provision must not be negative")
    fail = settings.get("fail", False)
    if not isinstance(fail, bool | str) or fail == "":
        raise ValueError("sagemaker_shadow: fail is true, false or the failure's reason")


@register
class SageMakerShadowSimulator(Simulator):
    name = "sagemaker_shadow"
    watches: ClassVar[frozenset[tuple[str, str]]] = frozenset(
        {
            ("sagemaker", "CreateInferenceExperiment"),
            ("sagemaker", "StopInferenceExperiment"),
        }
    )

    def __init__(self, host: SimulatorHost) -> None:
        super().__init__(host)
        self.defaults: dict[str, Any] = {
            "production": {"latency_ms": 40, "error_rate": 0.001, "invocations_per_hour": 1000},
            "shadow": {"latency_ms": 42, "error_rate": 0.001},
            "provision": "5m",
            "fail": False,
        }
        self.next_tests: deque[dict[str, Any]] = deque()
        self.tests: dict[str, ShadowTest] = {}
        self.promotions: dict[str, str] = {}  # endpoint → the promoted shadow variant's model
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ settings
    def configure(self, settings: dict[str, Any]) -> None:
        settings = dict(settings)
        overrides = settings.pop("next", []) or []
        if not isinstance(overrides, list) or not all(isinstance(o, dict) for o in overrides):
            raise ValueError("sagemaker_shadow: next is a list of settings")
        for override in overrides:
            _check(override)
        _check(settings)
        self.next_tests.extend(dict(o) for o in overrides)
        self.defaults = _merge(self.defaults, settings)

    # ------------------------------------------------------------------ calls
    def on_call(self, call: ApiCall) -> None:
        # Runs on the caller's thread: no AWS calls here (they would count as the caller's),
        # only the agenda.
        if call.error is not None or call.result is None:
            return
        name = str(call.params["Name"])
        if call.operation == "StopInferenceExperiment":
            self._stop(name)
            return
        experiment = experiments.find(self.host.account, self.host.region, name)
        with self._lock:
            settings = dict(self.defaults)
            if self.next_tests:
                settings = _merge(settings, self.next_tests.popleft())
            test = ShadowTest(
                name=name,
                endpoint=experiment.endpoint_name,
                production_variant=experiment.source_variant,
                shadow_variant=experiment.shadow_variant,
                sampling_percentage=experiment.sampling_percentage,
                start=experiment.start,
                end=experiment.end,
                settings=settings,
            )
            self.tests[name] = test
        self.host.agenda.after(
            duration_seconds(settings["provision"]),
            f"shadow test {name} provisioned",
            lambda: self._provisioned(test),
        )

    # ------------------------------------------------------------------ the experiment's life
    def _set(
        self, test: ShadowTest, status: str, only_from: tuple[str, ...], reason: str | None = None
    ) -> bool:
        """Move the experiment on, unless a stop came first (the stop ends it)."""
        host = self.host
        moved = experiments.set_status(
            host.account, host.region, test.name, status, host.clock.now(), reason, only_from
        )
        return moved is not None

    def _provisioned(self, test: ShadowTest) -> None:
        fail = test.settings["fail"]
        if fail:
            reason = fail if isinstance(fail, str) else _DEFAULT_FAILURE
            self._set(test, "Cancelled", ("Creating",), reason)
        elif test.start <= self.host.clock.now():
            self._run(test)
        elif self._set(test, "Created", ("Creating",)):
            self.host.agenda.at(
                test.start.timestamp(), f"shadow test {test.name} starts", lambda: self._run(test)
            )

    def _run(self, test: ShadowTest) -> None:
        now = self.host.clock.now()
        test.running_since = test.published_until = now
        if self._set(test, "Running", ("Creating", "Created")):
            self._next_tick(test)
        else:
            test.running_since = test.published_until = None  # stopped before it ran

    def _next_tick(self, test: ShadowTest) -> None:
        due = min(self.host.clock.time() + _HOUR, test.end.timestamp())
        self.host.agenda.at(due, f"shadow test {test.name} metrics", lambda: self._tick(test))

    def _tick(self, test: ShadowTest) -> None:
        if test.stopped_at is not None:
            return  # the stop publishes the rest and ends it
        now = self.host.clock.now()
        self._publish(test, min(now, test.end))
        if now >= test.end:
            self._set(test, "Completed", ("Running",))
        else:
            self._next_tick(test)

    def _stop(self, name: str) -> None:
        with self._lock:
            test = self.tests.get(name)
            if test is None or test.stopped_at is not None:
                return
            test.stopped_at = self.host.clock.now()
        self.host.agenda.after(
            _STOP_SECONDS, f"shadow test {name} stops", lambda: self._finish_stop(test)
        )

    def _finish_stop(self, test: ShadowTest) -> None:
        assert test.stopped_at is not None
        if test.running_since is not None:
            self._publish(test, min(test.stopped_at, test.end))
        host = self.host
        stop = experiments.find(host.account, host.region, test.name).stop
        desired = stop.desired_state if stop is not None else "Cancelled"
        ended = experiments.set_status(
            host.account, host.region, test.name, desired, host.clock.now(), None, ("Stopping",)
        )
        if ended is not None and ended.promoted_model is not None:
            with self._lock:
                self.promotions[test.endpoint] = ended.promoted_model

    # ------------------------------------------------------------------ metrics
    def _publish(self, test: ShadowTest, until: datetime) -> None:
        """The invocation metrics of both variants from where the last publication ended to
        `until`, in windows of at most an hour."""
        start = test.published_until
        while start is not None and (until - start).total_seconds() >= 1:
            end = min(start + timedelta(seconds=_HOUR), until)
            self._publish_window(test, start, (end - start).total_seconds() / _HOUR)
            start = test.published_until = end

    def _publish_window(self, test: ShadowTest, at: datetime, hours: float) -> None:
        production = test.settings["production"]
        invocations = float(production["invocations_per_hour"]) * hours
        shadow_invocations = invocations * test.sampling_percentage / 100
        data = [
            *self._variant_data(
                test.endpoint, test.production_variant, at, invocations, production
            ),
            *self._variant_data(
                test.endpoint, test.shadow_variant, at, shadow_invocations, test.settings["shadow"]
            ),
        ]
        if data:
            self.host.client("cloudwatch").put_metric_data(Namespace=NAMESPACE, MetricData=data)

    @staticmethod
    def _variant_data(
        endpoint: str, variant: str, at: datetime, invocations: float, settings: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if invocations <= 0:
            return []  # no requests, no datapoints (as on SageMaker)
        rate = float(settings["error_rate"])
        latency_us = float(settings["latency_ms"]) * 1000
        dimensions = [
            {"Name": "EndpointName", "Value": endpoint},
            {"Name": "VariantName", "Value": variant},
        ]

        def datum(name: str, total: float, low: float, high: float, unit: str) -> dict[str, Any]:
            return {
                "MetricName": name,
                "Dimensions": dimensions,
                "Timestamp": at,
                "StatisticValues": {
                    "SampleCount": invocations,
                    "Sum": total,
                    "Minimum": low,
                    "Maximum": high,
                },
                "Unit": unit,
            }

        return [
            datum("Invocations", invocations, 1, 1, "None"),
            datum("Invocation4XXErrors", 0, 0, 0, "None"),
            datum(
                "Invocation5XXErrors",
                invocations * rate,
                1 if rate >= 1 else 0,
                1 if rate > 0 else 0,
                "None",
            ),
            datum("ModelLatency", invocations * latency_us, latency_us, latency_us, "Microseconds"),
        ]
