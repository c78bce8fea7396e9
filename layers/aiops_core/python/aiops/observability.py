"""One place for logs and metrics (Powertools): JSON logs with correlation ids, EMF metrics.

Traces are Lambda's own (`Tracing: Active`): Lambda records each invocation's segment, and botocore
sends the invocation's trace header (`_X_AMZN_TRACE_ID`) with every AWS call, so the state
machines it starts (traced too) join the same trace. No X-Ray SDK: Powertools Tracer imported it
and patched botocore at cold start, which cost more than the rest of a handler. What its
annotations said (cold start, service) is in every log line, with the trace id (`xray_trace_id`);
the AWS calls are no longer subsegments of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from aws_lambda_powertools.logging import Logger
from aws_lambda_powertools.metrics import Metrics

from aiops.events import InvalidEvent

logger = Logger()
metrics = Metrics()

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


class DeadLetterSink(Protocol):
    def send(self, event: Any, reason: str, request_id: str) -> str:
        """Keep the event with the reason; returns where it went."""
        ...


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
            metrics.add_metric(name="InvalidEvents", unit="Count", value=1)
            return {"action": "rejected", "reason": reason, "dead_letter_queue": queue}

    return handle


def lambda_entry(
    correlation_id_path: str | None = None,
    emits_metrics: bool = False,
    dead_letters: DeadLetterSink | None = None,
) -> Callable[[Handler], Handler]:
    """Every handler's instrumentation: Lambda context (cold start, request and trace ids) and
    correlation id in each log line, and (for handlers that emit metrics) one EMF flush per
    invocation. Handlers of asynchronous events pass `dead_letters`: an invalid event is kept
    there once, never retried."""

    def instrument(handler: Handler) -> Handler:
        if dead_letters is not None:
            handler = _rejecting_invalid(handler, dead_letters)
        wrapped = metrics.log_metrics(handler) if emits_metrics else handler
        # Never the event nor the response in a log line: a page carries its link's id and CSRF
        # token, and logs are readable by far more people than the approvers.
        return logger.inject_lambda_context(correlation_id_path=correlation_id_path)(wrapped)

    return instrument


__all__ = ["lambda_entry", "logger", "metrics"]
