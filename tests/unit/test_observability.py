"""Every handler's instrumentation (`lambda_entry`): log context, correlation id, metrics,
dead letters; and no X-Ray SDK at cold start."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

from aiops.events import InvalidEvent
from aiops.observability import MetricName, count_decision, lambda_entry, logger, metrics

LAYER = Path(__file__).resolve().parents[2] / "layers" / "aiops_core" / "python"
TRACE = "Root=1-6925f0a1-3b9c2d7e4f1a5b6c7d8e9f01;Parent=53995c3f42cd8ad8;Sampled=1"
EVENT = {"id": "0d8e5b31-7a24-4c9f-b6e1-52a9d7c3f810", "detail-type": "Object Created"}


class Context:
    function_name = "aiops-dev-NewDataFunction"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:aiops-dev-NewData"
    memory_limit_in_mb = 512
    aws_request_id = "6bc28136-a7bd-4a4b-b3b5-c6b1d8a5f0e2"


class DeadLetters:
    def __init__(self) -> None:
        self.kept: list[tuple[Any, str, str]] = []

    def send(self, event: Any, reason: str, request_id: str) -> str:
        self.kept.append((event, reason, request_id))
        return "https://sqs.us-east-1.amazonaws.com/123456789012/aiops-dev-dlq"


def _lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


@pytest.fixture
def log_lines(monkeypatch):
    """What the functions' logger writes (its handler's stream was bound at import)."""
    stream = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", stream)
    return lambda: _lines(stream.getvalue())


def test_given_a_handler_when_it_logs_then_each_line_carries_the_invocation_and_its_trace(
    log_lines, monkeypatch
):
    monkeypatch.setenv("_X_AMZN_TRACE_ID", TRACE)

    @lambda_entry(correlation_id_path="id")
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        logger.info("decided", extra={"action": "added"})
        return {"action": "added"}

    assert handler(EVENT, Context()) == {"action": "added"}

    (line,) = [entry for entry in log_lines() if entry["message"] == "decided"]
    assert line["correlation_id"] == EVENT["id"]
    assert line["function_request_id"] == Context.aws_request_id
    assert line["function_name"] == Context.function_name
    assert line["xray_trace_id"] == "1-6925f0a1-3b9c2d7e4f1a5b6c7d8e9f01"
    assert "cold_start" in line
    assert line["action"] == "added"


def test_given_a_handler_that_emits_metrics_when_it_returns_then_they_are_flushed_once(capfd):
    @lambda_entry()
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        metrics.add_metric(name="NewData_added", unit="Count", value=1)
        return {}

    handler(EVENT, Context())

    documents = [line for line in _lines(capfd.readouterr().out) if "_aws" in line]
    assert len(documents) == 1
    assert documents[0]["NewData_added"] in (1.0, [1.0])


def test_given_a_handler_that_adds_no_metric_when_it_returns_then_no_document_and_no_warning(
    capfd,
):
    @lambda_entry()
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {}

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        handler(EVENT, Context())

    assert [str(w.message) for w in caught] == []
    assert [line for line in _lines(capfd.readouterr().out) if "_aws" in line] == []


def test_given_metrics_added_when_the_handler_raises_then_they_are_still_flushed_once(capfd):
    @lambda_entry()
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        metrics.add_metric(name="Attempts", unit="Count", value=1)
        raise TimeoutError("DynamoDB did not answer")

    with pytest.raises(TimeoutError):
        handler(EVENT, Context())
    handler_without_metrics = lambda_entry()(lambda event, context: {})
    handler_without_metrics(EVENT, Context())

    documents = [line for line in _lines(capfd.readouterr().out) if "_aws" in line]
    assert [d["Attempts"] for d in documents] in ([1.0], [[1.0]])


def test_given_a_decision_when_counted_then_one_document_carries_its_model_and_action(capfd):
    count_decision("churn", "gate_approved")
    count_decision("support-assistant", "deployed")

    first, second = [line for line in _lines(capfd.readouterr().out) if "_aws" in line]
    (directive,) = first["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == os.environ["POWERTOOLS_METRICS_NAMESPACE"]
    assert directive["Metrics"] == [{"Name": MetricName.DECISIONS.value, "Unit": "Count"}]
    assert sorted(directive["Dimensions"][0]) == ["action", "model", "service"]
    assert (first["model"], first["action"], first["service"]) == (
        "churn",
        "gate_approved",
        os.environ["POWERTOOLS_SERVICE_NAME"],
    )
    assert first[MetricName.DECISIONS.value] in (1.0, [1.0])
    assert (second["model"], second["action"]) == ("support-assistant", "deployed")


def test_given_an_invalid_event_when_handled_then_it_is_dead_lettered_once_and_not_retried(
    capfd, log_lines
):
    dead_letters = DeadLetters()

    @lambda_entry(correlation_id_path="id", dead_letters=dead_letters)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        raise InvalidEvent("S3 Object Created", ["detail.object.key: Field required"])

    result = handler(EVENT, Context())

    reason = "invalid S3 Object Created event: detail.object.key: Field required"
    assert result == {
        "action": "rejected",
        "reason": reason,
        "dead_letter_queue": "https://sqs.us-east-1.amazonaws.com/123456789012/aiops-dev-dlq",
    }
    assert dead_letters.kept == [(EVENT, reason, Context.aws_request_id)]
    (warning,) = [line for line in log_lines() if line["level"] == "WARNING"]
    assert (warning["message"], warning["reason"]) == ("invalid event dead-lettered", reason)
    emf = [line for line in _lines(capfd.readouterr().out) if "_aws" in line]
    assert [line["InvalidEvents"] for line in emf] in ([1.0], [[1.0]])


def test_given_a_transient_error_when_handled_then_it_is_raised_for_lambda_to_retry():
    dead_letters = DeadLetters()

    @lambda_entry(dead_letters=dead_letters)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        raise TimeoutError("DynamoDB did not answer")

    with pytest.raises(TimeoutError):
        handler(EVENT, Context())
    assert dead_letters.kept == []


def test_given_lambdas_environment_with_active_tracing_when_imported_then_no_xray_sdk_is_loaded():
    # Lambda's own tracing records the invocation; the X-Ray SDK (and the botocore it patched)
    # cost more at cold start than the rest of a handler.
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_LAMBDA_FUNCTION_NAME": "aiops-dev-NewDataFunction",
        "LAMBDA_TASK_ROOT": str(LAYER),
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "aiops",
        "POWERTOOLS_METRICS_NAMESPACE": "AIOps",
    }
    probe = (
        f"import sys; sys.path.insert(0, {str(LAYER)!r}); import aiops.observability; "
        "print(sorted(m for m in ('aws_xray_sdk', 'botocore.client', 'boto3') if m in sys.modules))"
    )

    out = subprocess.run(
        [sys.executable, "-c", probe], env=environment, capture_output=True, text=True, check=True
    )

    assert out.stdout.strip() == "[]"


def test_given_the_environment_changed_since_import_then_metrics_carry_the_functions_own(
    capfd, monkeypatch
):
    # Given a function whose environment names its namespace and service (this module was
    # imported earlier, under the test suite's)
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "AIOps/prod")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "aiops")

    @lambda_entry()
    def handler(event, context):
        metrics.add_metric(name="Things", unit="Count", value=1)
        return {}

    # When it adds a metric
    handler({}, Context())

    # Then the EMF document is in the function's namespace, with its service
    (document,) = [
        json.loads(line) for line in capfd.readouterr().out.splitlines() if "_aws" in line
    ]
    assert document["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "AIOps/prod"
    assert document["service"] == "aiops"
