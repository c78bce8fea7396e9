"""The new-data handler on moto, configured as template.yaml configures it."""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
from typing import Any

import boto3
import pytest

from aiops.settings import Settings
from tests.support.events import load_event
from tests.support.handlers import lambda_context, load_handler
from tests.support.template import ROOT, template

STATE_MACHINE = "aiops-dev-retrain"
ACCOUNT = "123456789012"


@pytest.fixture
def stack(tables: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The stack's resources in moto and the functions' environment pointing at them."""
    ssm = boto3.client("ssm", region_name="us-east-1")
    ssm.put_parameter(
        Name="/aiops/dev/policy",
        Type="String",
        Value=(ROOT / "policies" / "default.yaml").read_text(),
    )
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    iam = boto3.client("iam", region_name="us-east-1")
    role = iam.create_role(RoleName="sfn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    machine = sfn.create_state_machine(
        name=STATE_MACHINE,
        roleArn=role,
        definition=(ROOT / "statemachines" / "retrain.asl.json").read_text(),
    )["stateMachineArn"]
    env = {
        "CONTROL_TABLE": tables["ControlTable"],
        "LEDGER_TABLE": tables["LedgerTable"],
        "IDEMPOTENCY_TABLE": tables["IdempotencyTable"],
        "ALERTS_TOPIC_ARN": f"arn:aws:sns:us-east-1:{ACCOUNT}:aiops-dev-alerts",
        "ARTIFACTS_BUCKET": f"aiops-dev-artifacts-{ACCOUNT}-us-east-1",
        "RETRAIN_STATE_MACHINE_ARN": machine,
        "POLICY_PARAMETER": "/aiops/dev/policy",
        "DEAD_LETTER_QUEUE_URL": boto3.client("sqs", region_name="us-east-1").create_queue(
            QueueName="new-data-dlq"
        )["QueueUrl"],
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return {"sfn": sfn, "machine": machine, "tables": tables}


def context(n: int) -> Any:
    return lambda_context("new-data", n, memory_mb=512, remaining_ms=30_000)


def upload(n: int) -> dict[str, Any]:
    return load_event(
        "s3_object_created_training",
        id=f"evt-{n}",
        **{
            "detail.object.key": f"raw/churn/2026/11/20/part-{n:04d}.csv",
            "detail.object.version-id": f"v{n}",
        },
    )


def executions(stack: dict[str, Any]) -> list[dict[str, Any]]:
    return stack["sfn"].list_executions(stateMachineArn=stack["machine"])["executions"]


def test_the_same_s3_event_applied_three_times_adds_one_object(stack):
    handler = load_handler("new_data").handler

    results = [handler(upload(1), context(i)) for i in range(3)]

    assert [r["action"] for r in results] == ["added", "duplicate", "duplicate"]


def test_a_full_window_starts_one_retrain_execution_named_after_the_window(stack):
    handler = load_handler("new_data").handler

    results = [handler(upload(n), context(n)) for n in range(1, 6)]
    handler(upload(5), context(99))  # a late duplicate of the filling object

    assert results[-1]["action"] == "retrain_started"
    started = executions(stack)
    assert [e["name"] for e in started] == ["churn-w000001"]
    described = stack["sfn"].describe_execution(executionArn=started[0]["executionArn"])
    request = json.loads(described["input"])
    assert request["trigger"]["windows"] == [1]
    assert request["model"] == "churn"


def test_a_malformed_event_is_kept_in_the_dead_letter_queue_naming_the_field(stack, monkeypatch):
    # Given the function's dead-letter queue, as the template wires it
    sqs = boto3.client("sqs", region_name="us-east-1")
    queue = sqs.create_queue(QueueName="new-data-dlq")["QueueUrl"]
    monkeypatch.setenv("DEAD_LETTER_QUEUE_URL", queue)
    assert "DEAD_LETTER_QUEUE_URL" in str(
        template()["Resources"]["NewDataFunction"]["Properties"]["Environment"]
    )
    handler = load_handler("new_data").handler

    # When an event without its object key arrives
    result = handler(load_event("malformed/s3_object_created_missing_key"), context(1))

    # Then the invocation ends (no retry) and the event is in the queue with the reason
    assert result["action"] == "rejected"
    assert "detail.object.key: Field required" in result["reason"]
    (message,) = sqs.receive_message(QueueUrl=queue, MessageAttributeNames=["All"])["Messages"]
    assert json.loads(message["Body"])["detail-type"] == "Object Created"
    assert "detail.object.key" in message["MessageAttributes"]["ErrorMessage"]["StringValue"]


def test_each_function_gets_from_the_template_the_variables_its_settings_require():
    globals_ = set(template()["Globals"]["Function"]["Environment"]["Variables"])
    known = {name.upper() for name in Settings.model_fields} | {"STAGE"}
    for logical_id, resource in template()["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        code = ROOT / resource["Properties"]["CodeUri"] / "app.py"
        source = code.read_text()
        model_name = re.search(r"STACK = Stack\((\w+)\(\)\)", source)
        assert model_name, f"{logical_id}: the handler validates a settings model at cold start"
        # The settings module the handler imports its model from (aiops.settings.<capability>).
        module = next(
            m.group(1)
            for m in re.finditer(r"^from (aiops\.settings[\w.]*) import (.+)$", source, re.M)
            if model_name.group(1) in re.split(r"[\s,]+", m.group(2))
        )
        model = getattr(importlib.import_module(module), model_name.group(1))
        own = set(resource["Properties"].get("Environment", {}).get("Variables", {}))
        required = {n.upper() for n, f in model.model_fields.items() if f.is_required()}

        assert required <= globals_ | own, f"{logical_id} misses {required - globals_ - own}"
        # The libraries' own variables (Powertools, pydantic) are read by them, not by settings.
        libraries = ("POWERTOOLS_", "PYDANTIC_")
        unknown = {v for v in own | globals_ if not v.startswith(libraries)} - known
        assert unknown == set(), f"{logical_id}: variables no setting reads: {unknown}"
    assert os.environ.get("AWS_ACCESS_KEY_ID") == "testing"


@pytest.mark.parametrize("given", [True, False], ids=["template-globals", "unset"])
def test_the_functions_environment_skips_pydantics_plugin_scan_at_cold_start(given):
    # Given the variable as the template's Globals set it for every function (or unset)
    value = template()["Globals"]["Function"]["Environment"]["Variables"].get(
        "PYDANTIC_DISABLE_PLUGINS"
    )
    environment = {"PATH": os.environ.get("PATH", "")}
    if given:
        environment["PYDANTIC_DISABLE_PLUGINS"] = str(value)
    probe = (
        "from pydantic import BaseModel\n"
        "class Settings(BaseModel):\n"
        "    stage: str\n"
        "Settings(stage='dev')\n"
        "from pydantic.plugin import _loader\n"
        "print(_loader._plugins is None)"
    )

    # When a model is built in a fresh interpreter
    out = subprocess.run(
        [sys.executable, "-c", probe], env=environment, capture_output=True, text=True, check=True
    )

    # Then the installed packages' entry points were never scanned (we use no plugins)
    assert out.stdout.strip() == str(given)


def test_a_function_without_its_dead_letter_queue_fails_at_cold_start(stack, monkeypatch):
    # Given the new-data function deployed without DEAD_LETTER_QUEUE_URL
    monkeypatch.delenv("DEAD_LETTER_QUEUE_URL")

    # Then importing it fails, naming the variable (not at its first invalid event)
    with pytest.raises(RuntimeError, match="DEAD_LETTER_QUEUE_URL is not set"):
        load_handler("new_data")


@pytest.mark.parametrize(
    ("event", "shown"),
    [
        (load_event("s3_object_created_training"), "'Object Created'"),
        ({**load_event("aiops_drift_check_completed"), "detail-type": {"a": 1}}, "{'a': 1}"),
        ({**load_event("aiops_drift_check_completed"), "detail-type": "x" * 100_000}, "'xxx"),
        ({"id": "evt-1"}, "None"),
        (["not", "an", "object"], "not a JSON object"),
    ],
    ids=["another-source", "not-text", "huge", "no-detail-type", "not-an-object"],
)
def test_the_drift_function_dead_letters_an_event_it_does_not_consume_naming_detail_type(
    stack, event, shown
):
    # Given the drift function with its dead-letter queue (the fixture's environment)
    sqs = boto3.client("sqs", region_name="us-east-1")
    queue = os.environ["DEAD_LETTER_QUEUE_URL"]
    handler = load_handler("drift").handler

    # When an event no drift source sends arrives
    result = handler(event, context(1))

    # Then it is rejected naming detail-type (never a crash Lambda would retry), and kept
    assert result["action"] == "rejected"
    assert "detail-type: must be one of 'SageMaker Processing Job State Change'" in result["reason"]
    assert f"(is {shown}" in result["reason"]
    assert len(result["reason"]) < 1000
    (message,) = sqs.receive_message(QueueUrl=queue, MessageAttributeNames=["All"])["Messages"]
    assert json.loads(message["Body"]) == event
