"""One place for logs and metrics (Powertools): JSON logs with correlation ids, EMF metrics.

Traces are Lambda's own (`Tracing: Active`): Lambda records each invocation's segment, and botocore
sends the invocation's trace header (`_X_AMZN_TRACE_ID`) with every AWS call, so the state
machines it starts (traced too) join the same trace. No X-Ray SDK: Powertools Tracer imported it
and patched botocore at cold start, which cost more than the rest of a handler. What its
annotations said (cold start, service) is in every log line, with the trace id (`xray_trace_id`);
the AWS calls are no longer subsegments of their own.

Metrics are EMF documents on stdout, in the namespace `POWERTOOLS_METRICS_NAMESPACE` (the template
sets `AIOps/<stage>`) with Powertools' `service` dimension (`POWERTOOLS_SERVICE_NAME`). The names
the dashboard and the alarms read are `MetricName`: one vocabulary, checked against the template.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any, Protocol

from aws_lambda_powertools.logging import Logger
from aws_lambda_powertools.metrics import Metrics, MetricUnit, single_metric

from aiops.events import InvalidEvent

logger = Logger()
metrics = Metrics()

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


class MetricName(StrEnum):
    """The metrics of fixed name, the ones the template's dashboard and alarms may read (the
    handlers' own counters are named after their decisions, e.g. `NewData_added`)."""

    # One per decision recorded in the ledger; dimensions `model` and `action` (a LedgerAction).
    DECISIONS = "Decisions"
    # The control-plane watch (aiops.health), every run: counts, dimension `service` only.
    LOCKS_PAST_LEASE = "LocksPastLease"
    PENDING_APPROVALS = "PendingApprovals"
    APPROVALS_NEAR_TIMEOUT = "ApprovalsNearTimeout"
    # An event that failed validation and was dead-lettered by its handler.
    INVALID_EVENTS = "InvalidEvents"


class DeadLetterSink(Protocol):
    def send(self, event: Any, reason: str, request_id: str) -> str:
        """Keep the event with the reason; returns where it went."""
        ...


def count_decision(model: str, action: str) -> None:
    """One `Decisions` datapoint for `model` and `action`, in an EMF document of its own (one
    invocation records decisions of several models and actions; a document holds one value per
    dimension). Never raises: the decision is recorded already, and a metric that cannot be
    written must not make the step retry."""
    try:
        with single_metric(
            name=MetricName.DECISIONS.value, unit=MetricUnit.Count, value=1
        ) as metric:
            metric.add_dimension(name="model", value=model)
            metric.add_dimension(name="action", value=action)
    except Exception as error:  # noqa: BLE001 - any failure of the metric, never of the decision
        logger.warning(
            "decision metric not written",
            extra={"model": model, "action": action, "error": str(error)},
        )


def _rejecting_invalid(handler: Handler, dead_letters: DeadLetterSink) -> Handler:
    """An event that fails validation will never succeed: it goes to the dead-letter queue once,
    with the field and the reason, and the invocation ends without Lambda's retries (which are
    kept for transient errors)."""

    def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
        try:
            return handler(event, context)
        except InvalidEvent as invalid:
            reason = str(invalid)
            queue = dead_letters.send(event, reason, getattr(context, "aws_request_id", ""))
            logger.warning("invalid event dead-lettered", extra={"reason": reason})
            metrics.add_metric(name=MetricName.INVALID_EVENTS.value, unit="Count", value=1)
            return {"action": "rejected", "reason": reason, "dead_letter_queue": queue}

    return handle


def _flushing_metrics(handler: Handler) -> Handler:
    """One EMF document per invocation with the metrics it added, and none when it added none
    (Powertools' own `log_metrics` would print an empty-metrics warning instead)."""

    def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
        try:
            return handler(event, context)
        finally:
            if metrics.metric_set:
                # Flushed by an instance made now (Powertools instances share the metrics added):
                # its namespace and `service` come from the function's environment as it is, not
                # as it was when this module was first imported — the offline runtime runs many
                # functions, and tests, in one process; on Lambda both are the same.
                Metrics().flush_metrics()

    return handle


def lambda_entry(
    correlation_id_path: str | None = None,
    dead_letters: DeadLetterSink | None = None,
) -> Callable[[Handler], Handler]:
    """Every handler's instrumentation: Lambda context (cold start, request and trace ids) and
    correlation id in each log line, and the metrics the invocation added flushed at its end
    (nothing when it added nothing). Handlers of asynchronous events pass `dead_letters`: an
    invalid event is kept there once, never retried."""

    def instrument(handler: Handler) -> Handler:
        if dead_letters is not None:
            handler = _rejecting_invalid(handler, dead_letters)
        wrapped = _flushing_metrics(handler)
        # Never the event nor the response in a log line: a page carries its link's id and CSRF
        # token, and logs are readable by far more people than the approvers.
        return logger.inject_lambda_context(correlation_id_path=correlation_id_path)(wrapped)

    return instrument


__all__ = ["MetricName", "count_decision", "lambda_entry", "logger", "metrics"]
