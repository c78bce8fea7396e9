"""One place for logs, traces and metrics (Powertools): JSON logs with correlation ids."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics()

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def lambda_entry(
    correlation_id_path: str | None = None, emits_metrics: bool = False
) -> Callable[[Handler], Handler]:
    """Every handler's instrumentation: Lambda context and correlation id in each log line, an
    X-Ray segment, and (for handlers that emit metrics) one EMF flush per invocation."""

    def instrument(handler: Handler) -> Handler:
        wrapped = metrics.log_metrics(handler) if emits_metrics else handler
        wrapped = tracer.capture_lambda_handler(wrapped)
        return logger.inject_lambda_context(correlation_id_path=correlation_id_path)(wrapped)

    return instrument


__all__ = ["lambda_entry", "logger", "metrics", "tracer"]
