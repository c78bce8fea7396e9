"""Metrics AWS services publish on their own, offline: AWS/Lambda per invocation, AWS/States per
execution, and the handlers' own EMF metrics that CloudWatch Logs extracts from their logs.

    AWS/Lambda   (dimension FunctionName) Invocations, Errors (Count), Duration (Milliseconds);
                 Throttles (Count) for an invocation Lambda refused
    AWS/States   (dimension StateMachineArn) ExecutionsStarted on start; ExecutionsSucceeded |
                 ExecutionsFailed | ExecutionsTimedOut | ExecutionsAborted (Count, 1) and
                 ExecutionTime (Milliseconds, virtual) at the end
    EMF          every valid EMF document a handler printed, under its own namespace and
                 dimensions (see `aiops_local.emf`), at the invocation's virtual time

All at the virtual moment they happen, written straight into the metric store (and moto's
backend): one call per invocation or execution event, no HTTP round trip. Duration is the
handler's real running time (the only time that passes inside a handler offline).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from aiops_local import emf
from aiops_local.functions import Invocation
from aiops_local.metrics import MetricStore
from aiops_local.patches.sfn_history import HistoryNote

LAMBDA = "AWS/Lambda"
STATES = "AWS/States"
_ENDS = {
    "SUCCEEDED": "ExecutionsSucceeded",
    "FAILED": "ExecutionsFailed",
    "TIMED_OUT": "ExecutionsTimedOut",
    "ABORTED": "ExecutionsAborted",
}


@dataclass(frozen=True)
class RejectedEmf:
    """An EMF document CloudWatch would extract nothing from, and why."""

    function: str
    reason: str


def state_machine_arn(execution_arn: str) -> str:
    """arn:...:execution:<machine>:<execution> → arn:...:stateMachine:<machine>"""
    head, _, rest = execution_arn.partition(":execution:")
    machine = rest.split(":", 1)[0]
    return f"{head}:stateMachine:{machine}"


class ServiceMetrics:
    def __init__(self, store: MetricStore, now: Callable[[], float]) -> None:
        self._store = store
        self._now = now
        self._started: dict[str, float] = {}
        self._lock = threading.Lock()
        self.rejected: list[RejectedEmf] = []

    # ------------------------------------------------------------------ Lambda and EMF
    def invocation(self, invocation: Invocation) -> None:
        now = self._now()
        binding, result = invocation.binding, invocation.result
        dimensions = [{"Name": "FunctionName", "Value": binding.name}]
        measured = (
            ("Invocations", 1.0, "Count"),
            ("Errors", 0.0 if result.ok else 1.0, "Count"),
            ("Duration", round(invocation.duration_ms, 3), "Milliseconds"),
        )
        self._store.put(
            LAMBDA,
            [
                {
                    "MetricName": name,
                    "Dimensions": dimensions,
                    "Value": value,
                    "Unit": unit,
                    "Timestamp": now,
                }
                for name, value, unit in measured
            ],
        )
        if '"_aws"' in result.logs:
            self._emf(binding.logical_id, invocation, now)

    def _emf(self, function: str, invocation: Invocation, now: float) -> None:
        for document in emf.documents(invocation.result.logs):
            if isinstance(document, emf.EmfError):
                self._reject(function, str(document))
                continue
            stamp = emf.metric_time(document, invocation.real_start, invocation.real_end, now)
            try:
                emf.check_age(stamp, now)
            except emf.EmfError as error:
                self._reject(function, str(error))
                continue
            for namespace, members in document.metrics:
                self._store.put(namespace, [{**m, "Timestamp": stamp} for m in members])

    def _reject(self, function: str, reason: str) -> None:
        with self._lock:
            self.rejected.append(RejectedEmf(function, reason))

    def throttle(self, function_name: str) -> None:
        self._store.put(
            LAMBDA,
            [
                {
                    "MetricName": "Throttles",
                    "Dimensions": [{"Name": "FunctionName", "Value": function_name}],
                    "Value": 1.0,
                    "Unit": "Count",
                    "Timestamp": self._now(),
                }
            ],
        )

    # ------------------------------------------------------------------ Step Functions
    def execution(self, note: HistoryNote) -> None:
        if note.state is not None:
            return
        now = self._now()
        arn = note.execution.arn
        data = []
        if note.event_type == "ExecutionStarted":
            with self._lock:
                self._started[arn] = now
            data.append({"MetricName": "ExecutionsStarted", "Value": 1.0, "Unit": "Count"})
        elif note.status in _ENDS:
            with self._lock:
                started = self._started.pop(arn, None)
            data.append({"MetricName": _ENDS[note.status], "Value": 1.0, "Unit": "Count"})
            if started is not None:
                elapsed = (now - started) * 1000.0
                data.append(
                    {"MetricName": "ExecutionTime", "Value": elapsed, "Unit": "Milliseconds"}
                )
        if not data:
            return
        dimensions = [{"Name": "StateMachineArn", "Value": state_machine_arn(arn)}]
        self._store.put(
            STATES, [{**datum, "Dimensions": dimensions, "Timestamp": now} for datum in data]
        )
