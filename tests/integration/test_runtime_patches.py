"""Every patch of moto (and botocore) internals the offline runtime makes, pinned.

Each test checks that the patch point still exists and still does what the patch assumes. On a
moto upgrade that moves one, the matching test fails here, naming it, instead of the runtime
silently misbehaving.
"""

from __future__ import annotations

import importlib
import inspect
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import moto
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from aiops_local import LocalCloud
from aiops_local.patches import sfn_clock
from aiops_local.patches.base import Patcher, PatchError

MOTO_PARSER = Path(moto.__file__).parent / "stepfunctions" / "parser"


def source(obj: object) -> str:
    return inspect.getsource(obj)  # type: ignore[arg-type]


def parameters(function: Callable[..., Any]) -> list[str]:
    return list(inspect.signature(function).parameters)


@contextmanager
def installed(patch: ModuleType) -> Iterator[None]:
    """One of the runtime's patches, installed for the block and restored after it."""
    patcher = Patcher()
    patch.install(patcher)
    try:
        yield
    finally:
        patcher.restore()


def test_moto_is_the_pinned_version() -> None:
    # Every test below was written against this version; read them again before moving it.
    assert moto.__version__ == "5.2.5"


def test_patcher_refuses_missing_attributes_and_restores() -> None:
    class Owner:
        value = 1

    patcher = Patcher()
    with pytest.raises(PatchError):
        patcher.replace(Owner, "missing", 2)
    patcher.replace(Owner, "value", 2)
    assert Owner.value == 2
    patcher.restore()
    assert Owner.value == 1


# ---------------------------------------------------------------------- lambda_invoke
def test_lambda_invocations_all_go_through_invoke_lambda() -> None:
    from moto.awslambda.models import LambdaFunction

    assert parameters(LambdaFunction._invoke_lambda) == ["self", "event"]
    assert "self._invoke_lambda(event=body)" in source(LambdaFunction.invoke)
    assert "errored" in source(LambdaFunction.invoke)


def test_lambda_invoke_runs_the_handler_in_process(toy_project: Path) -> None:
    with LocalCloud(toy_project) as cloud:
        response = cloud.client("lambda").invoke(
            FunctionName="aiops-dev-TaskFunction", Payload=json.dumps({"x": 1})
        )
        payload = json.loads(response["Payload"].read())
    assert payload["greeting"] == "from-task"  # the function's own Environment
    assert payload["stage"] == "dev"  # Globals resolved
    assert payload["function"] == "aiops-dev-TaskFunction"
    assert payload["memory"] == 128
    assert payload["remaining_ms"] > 0
    assert payload["arn"].endswith(":function:aiops-dev-TaskFunction")


# ---------------------------------------------------------------------- sfn_clock
def _parser_modules_using(pattern: str) -> set[str]:
    found = set()
    for path in MOTO_PARSER.rglob("*.py"):
        if "test_state" in path.parts:
            continue  # TestState API: not used by the runtime
        if re.search(pattern, path.read_text(encoding="utf-8")):
            relative = path.relative_to(MOTO_PARSER.parents[2]).with_suffix("")
            found.add(".".join(relative.parts))
    return found


def test_every_interpreter_module_that_blocks_is_patched() -> None:
    blocking = _parser_modules_using(
        r"threading\.(Event|Thread|Condition)\(|from threading import[^\n]*(Event|Thread)"
    )
    patched = set(sfn_clock.THREADING_MODULES) | {m for m, _, _ in sfn_clock.NAMED_IMPORTS}
    assert blocking - patched == set(), "new blocking primitives in moto's interpreter"


def test_every_interpreter_sleep_is_patched_or_known() -> None:
    sleeping = _parser_modules_using(r"time\.sleep\(")
    known_real = {
        # .sync integrations poll (the project uses task tokens instead).
        "moto.stepfunctions.parser.asl.component.state.exec.state_task.service."
        "state_task_service_callback",
        # Activities (GetActivityTask long poll): not used.
        "moto.stepfunctions.parser.provider",
    }
    assert sleeping - set(sfn_clock.TIME_MODULES) - known_real == set()


def test_patched_modules_hold_the_names_we_replace() -> None:
    for name in sfn_clock.THREADING_MODULES:
        assert importlib.import_module(name).threading is threading, name
    for name, attribute, _ in sfn_clock.NAMED_IMPORTS:
        assert getattr(importlib.import_module(name), attribute) is getattr(threading, attribute)
    for name in sfn_clock.TIME_MODULES:
        assert importlib.import_module(name).time is time
    retrier = importlib.import_module(sfn_clock.TIME_MODULES[0])
    assert "time.sleep(interval_seconds)" in source(retrier)
    import datetime

    for name in sfn_clock.DATETIME_MODULES:
        assert importlib.import_module(name).datetime is datetime, name


def test_wait_states_wait_through_wait_interval() -> None:
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import (
        WaitFunction,
    )
    from moto.stepfunctions.parser.asl.eval.environment import Environment
    from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager

    assert parameters(WaitFunction._wait_interval) == [
        "self",
        "env",
        "wait_seconds",
    ]
    assert "self._wait_interval(env=env, wait_seconds=w_sec)" in source(WaitFunction._eval_body)
    assert "program_state_event" in source(Environment.__init__)
    assert "_get_current_timestamp()" in source(EventManager.add_event)


def test_task_timeouts_wait_on_an_event_and_callbacks_on_the_endpoint() -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.execute_state import (
        ExecutionState,
    )
    from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackEndpoint

    assert "terminated_event.wait(timeout_seconds)" in source(ExecutionState._evaluate_with_timeout)
    assert "self._notify_event = Event()" in source(CallbackEndpoint.__init__)


# ---------------------------------------------------------------------- sfn_history
def test_execution_history_passes_through_add_event() -> None:
    from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    assert parameters(EventManager.add_event)[:4] == [
        "self",
        "context",
        "event_type",
        "event_details",
    ]
    assert "self._get_evaluation_environment()" in source(ExecutionWorker._execution_logic)
    assert "state_machine_details" in source(ExecutionWorker._get_evaluation_environment)
    assert "Thread(target=self._execution_logic" in source(ExecutionWorker.start)


# ---------------------------------------------------------------------- events_bus
def test_put_events_is_one_backend_method() -> None:
    from moto.events.models import EventsBackend

    assert parameters(EventsBackend.put_events) == ["self", "events"]


def test_put_events_lands_on_the_runtime_bus(toy_project: Path) -> None:
    with LocalCloud(toy_project) as cloud:
        entries = cloud.client("events").put_events(
            Entries=[
                {"Source": "toy.other", "DetailType": "Something", "Detail": json.dumps({"a": 1})},
                {"Source": "toy.other", "DetailType": "Broken", "Detail": "not json"},
            ]
        )["Entries"]
        queued = cloud.events.take()
    assert "EventId" in entries[0]
    assert entries[1]["ErrorCode"] == "MalformedDetail"
    assert queued is not None
    assert queued.event["id"] == entries[0]["EventId"]
    assert queued.event["detail"] == {"a": 1}
    assert queued.event["time"].endswith("Z")


def test_rules_keep_their_pattern_targets_and_state() -> None:
    from moto.events.models import EventPattern, events_backends

    with mock_aws():
        events = boto3.client("events", region_name="us-east-1")
        events.put_rule(Name="r", EventPattern=json.dumps({"source": ["a"]}))
        events.put_targets(Rule="r", Targets=[{"Id": "t", "Arn": "arn:aws:sqs:us-east-1:1:q"}])
        rule = events_backends["123456789012"]["us-east-1"].event_buses["default"].rules["r"]
        assert isinstance(rule.event_pattern, EventPattern)
        assert rule.event_pattern.matches_event({"source": "a"})
        assert not rule.event_pattern.matches_event({"source": "b"})
        assert rule.targets[0]["Arn"] == "arn:aws:sqs:us-east-1:1:q"
        assert rule.state == "ENABLED" and rule.scheduled_expression is None
    assert EventPattern.load('{"detail": {"size": [{"numeric": [">", 0]}]}}').matches_event(
        {"detail": {"size": 3}}
    )


def test_patterns_match_fields_inside_arrays_of_objects_as_eventbridge_does() -> None:
    from moto.events.models import EventPattern

    from aiops_local.patches import events_pattern

    # Given a pattern on a field of an array's objects (a CloudWatch alarm's metrics)
    pattern = EventPattern.load(
        json.dumps({"detail": {"metrics": {"metric": {"namespace": ["ns/drift"]}}, "x": [1]}})
    )
    event: Any = {
        "detail": {
            "x": 1,
            "metrics": [
                {"metric": {"namespace": "AWS/Other"}},
                {"metric": {"namespace": "ns/drift"}},
            ],
        }
    }
    other: Any = {"detail": {"x": 1, "metrics": [{"metric": {"namespace": "AWS/Other"}}]}}
    # moto alone stops at the list (the reason for the patch: if this starts matching, drop it)
    assert not pattern.matches_event(event)
    with installed(events_pattern):
        # Then any member matching is a match, and none matching is not
        assert pattern.matches_event(event)
        assert not pattern.matches_event(other)
    assert not pattern.matches_event(event)


def test_send_task_failure_drops_the_cause_in_moto_and_keeps_it_patched() -> None:
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend
    from moto.stepfunctions.responses import StepFunctionResponse

    from aiops_local.patches import sfn_task_failure

    # The parser backend takes a cause; moto's response layer does not pass it (why we patch).
    assert "cause" in parameters(StepFunctionsParserBackend.send_task_failure)
    assert '"cause"' not in source(StepFunctionResponse.send_task_failure)
    with installed(sfn_task_failure):
        assert '"cause"' in source(StepFunctionResponse.send_task_failure)


# ---------------------------------------------------------------------- sfn_start_execution
def _start_child_from_a_task() -> tuple[str, list[str]]:
    """A parent state machine whose Task starts a child with `states:startExecution`."""
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    role = "arn:aws:iam::123456789012:role/r"
    child = sfn.create_state_machine(
        name="child",
        roleArn=role,
        definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
    )["stateMachineArn"]
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::states:startExecution",
        "Parameters": {"StateMachineArn": child, "Name.$": "$.name", "Input.$": "$"},
        "ResultPath": None,
        "End": True,
    }
    parent = sfn.create_state_machine(
        name="parent",
        roleArn=role,
        definition=json.dumps({"StartAt": "Start", "States": {"Start": task}}),
    )["stateMachineArn"]
    execution = sfn.start_execution(
        stateMachineArn=parent, name="p", input=json.dumps({"name": "c1"})
    )["executionArn"]
    for _ in range(100):
        status = sfn.describe_execution(executionArn=execution)["status"]
        if status != "RUNNING":
            break
        time.sleep(0.05)
    children = [e["name"] for e in sfn.list_executions(stateMachineArn=child)["executions"]]
    return status, children


def test_start_execution_task_fails_in_moto_and_starts_the_child_patched() -> None:
    from aiops_local.patches import sfn_start_execution

    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        # moto alone passes AWS's PascalCase names to boto3 (the reason for the patch)
        assert _start_child_from_a_task() == ("FAILED", [])
    with (
        installed(sfn_start_execution),
        mock_aws(config={"stepfunctions": {"execute_state_machine": True}}),
    ):
        assert _start_child_from_a_task() == ("SUCCEEDED", ["c1"])


# ---------------------------------------------------------------------- s3_eventbridge
def test_s3_sends_eventbridge_notifications_through_one_function() -> None:
    from moto.s3 import notifications

    assert parameters(notifications._send_event_bridge_message) == [
        "account_id",
        "bucket",
        "event_name",
        "key",
    ]
    assert "_send_event_bridge_message(account_id, bucket, event_name, key)" in source(
        notifications.send_event
    )


# ---------------------------------------------------------------------- botocore_calls
def test_every_client_call_goes_through_make_api_call() -> None:
    from botocore.client import BaseClient

    assert parameters(BaseClient._make_api_call) == [
        "self",
        "operation_name",
        "api_params",
    ]


# ---------------------------------------------------------------------- sagemaker_pipelines
def test_pipeline_executions_are_plain_objects_in_the_backend() -> None:
    from moto.sagemaker.models import sagemaker_backends

    with mock_aws():
        sagemaker = boto3.client("sagemaker", region_name="us-east-1")
        sagemaker.create_pipeline(
            PipelineName="p", PipelineDefinition="{}", RoleArn="arn:aws:iam::123456789012:role/r"
        )
        arn = sagemaker.start_pipeline_execution(PipelineName="p")["PipelineExecutionArn"]
        execution = (
            sagemaker_backends["123456789012"]["us-east-1"].pipelines["p"].pipeline_executions[arn]
        )
        execution.pipeline_execution_status = "Executing"
        described = sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)
    assert described["PipelineExecutionStatus"] == "Executing"
    assert hasattr(execution, "pipeline_execution_failure_reason")


# ---------------------------------------------------------------------- sagemaker_endpoints
def _endpoint_configs(sagemaker: Any) -> None:
    sagemaker.create_model(
        ModelName="m", ExecutionRoleArn="arn:aws:iam::123456789012:role/r", PrimaryContainer={}
    )
    for name in ("c1", "c2"):
        sagemaker.create_endpoint_config(
            EndpointConfigName=name,
            ProductionVariants=[
                {
                    "VariantName": "AllTraffic",
                    "ModelName": "m",
                    "InstanceType": "ml.m5.large",
                    "InitialInstanceCount": 2,
                }
            ],
        )


def test_moto_creates_endpoints_in_service_and_lacks_update_endpoint() -> None:
    from moto.sagemaker.responses import SageMakerResponse

    # The reasons for the patch: if moto starts doing either, use moto's own.
    assert not hasattr(SageMakerResponse, "update_endpoint")
    with mock_aws():
        sagemaker = boto3.client("sagemaker", region_name="us-east-1")
        _endpoint_configs(sagemaker)
        sagemaker.create_endpoint(EndpointName="e", EndpointConfigName="c1")
        assert sagemaker.describe_endpoint(EndpointName="e")["EndpointStatus"] == "InService"
        with pytest.raises(NotImplementedError):
            sagemaker.update_endpoint(EndpointName="e", EndpointConfigName="c2")


def test_endpoints_are_plain_objects_that_describe_endpoint_reads() -> None:
    from moto.sagemaker.models import FakeEndpoint, sagemaker_backends
    from moto.sagemaker.responses import SageMakerResponse

    assert parameters(FakeEndpoint.arn_formatter) == ["endpoint_name", "account_id", "region_name"]
    assert 'self._get_param("EndpointName")' in source(SageMakerResponse.create_endpoint)
    assert 'ActionResult({"EndpointArn": endpoint.arn})' in source(
        SageMakerResponse.create_endpoint
    )
    assert "describe_endpoint(endpoint_name)" in source(SageMakerResponse.describe_endpoint)
    with mock_aws():
        sagemaker = boto3.client("sagemaker", region_name="us-east-1")
        _endpoint_configs(sagemaker)
        sagemaker.create_endpoint(EndpointName="e", EndpointConfigName="c1")
        backend = sagemaker_backends["123456789012"]["us-east-1"]
        endpoint = backend.endpoints["e"]
        config = backend.endpoint_configs["c2"]
        assert config.production_variants[0]["VariantName"] == "AllTraffic"
        assert config.production_variants[0]["InitialInstanceCount"] == 2
        assert config.data_capture_config == {}
        assert {"arn", "endpoint_name", "tags", "creation_time", "data_capture_config"} <= set(
            vars(endpoint)
        )
        # What the patch writes, DescribeEndpoint shows (it renders the object's attributes).
        endpoint.endpoint_status = "Updating"
        endpoint.failure_reason = "why"
        endpoint.endpoint_config_name = "c2"
        endpoint.production_variants = [{"VariantName": "AllTraffic", "CurrentInstanceCount": 7}]
        endpoint.last_modified_time = datetime(2026, 11, 20, tzinfo=UTC)
        described = sagemaker.describe_endpoint(EndpointName="e")
    assert (described["EndpointStatus"], described["FailureReason"]) == ("Updating", "why")
    assert described["EndpointConfigName"] == "c2"
    assert described["ProductionVariants"] == [
        {"VariantName": "AllTraffic", "CurrentInstanceCount": 7}
    ]
    assert described["LastModifiedTime"] == datetime(2026, 11, 20, tzinfo=UTC)


def test_the_endpoint_patch_keeps_status_and_deployment_and_restores() -> None:
    from moto.sagemaker.responses import SageMakerResponse

    from aiops_local.patches import sagemaker_endpoints

    config = {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0},
            "TerminationWaitInSeconds": 60,
        }
    }
    with installed(sagemaker_endpoints), mock_aws():
        sagemaker = boto3.client("sagemaker", region_name="us-east-1")
        _endpoint_configs(sagemaker)
        sagemaker.create_endpoint(EndpointName="e", EndpointConfigName="c1")
        created = sagemaker.describe_endpoint(EndpointName="e")
        with pytest.raises(ClientError, match="Cannot update in-progress endpoint"):
            sagemaker.update_endpoint(EndpointName="e", EndpointConfigName="c2")
        when = sagemaker_endpoints.now()
        sagemaker_endpoints.set_status("123456789012", "us-east-1", "e", "InService", when)
        sagemaker.update_endpoint(
            EndpointName="e", EndpointConfigName="c2", DeploymentConfig=config
        )
        sagemaker_endpoints.set_variant_status(
            "123456789012", "us-east-1", "e", "Baking", "Baking for 60 seconds", when, 2
        )
        updating = sagemaker.describe_endpoint(EndpointName="e")
        sagemaker_endpoints.complete_deployment("123456789012", "us-east-1", "e", when)
        done = sagemaker.describe_endpoint(EndpointName="e")
    assert created["EndpointStatus"] == "Creating"
    assert (updating["EndpointStatus"], updating["EndpointConfigName"]) == ("Updating", "c1")
    (variant,) = updating["PendingDeploymentSummary"]["ProductionVariants"]
    assert variant["VariantStatus"][0]["Status"] == "Baking"
    assert variant["CurrentInstanceCount"] == 2
    assert updating["LastDeploymentConfig"] == config
    assert (done["EndpointStatus"], done["EndpointConfigName"]) == ("InService", "c2")
    assert "PendingDeploymentSummary" not in done
    assert not hasattr(SageMakerResponse, "update_endpoint")


# ---------------------------------------------------------------------- all of them
def test_a_stopped_cloud_leaves_moto_and_botocore_as_they_were(
    toy_project: Path,
) -> None:
    from botocore.client import BaseClient
    from moto.awslambda.models import LambdaFunction
    from moto.events.models import EventsBackend
    from moto.s3 import notifications
    from moto.sagemaker.responses import SageMakerResponse

    def patch_points() -> tuple[object, ...]:
        return (
            BaseClient._make_api_call,
            LambdaFunction._invoke_lambda,
            EventsBackend.put_events,
            notifications._send_event_bridge_message,
            SageMakerResponse.create_endpoint,
            SageMakerResponse.describe_endpoint,
        )

    before = patch_points()
    with LocalCloud(toy_project):
        assert LambdaFunction._invoke_lambda is not before[1]
    assert patch_points() == before
    assert not hasattr(SageMakerResponse, "update_endpoint")
    for name in sfn_clock.THREADING_MODULES:
        assert importlib.import_module(name).threading is threading


# ---------------------------------------------------------------------- events_pattern.matcher
def test_matches_event_copies_and_flattens_the_event_then_matches_the_pattern() -> None:
    from moto.events.models import EventPattern

    # What `events_pattern.matcher` does once per event for all the rules, moto does per rule.
    steps = source(EventPattern.matches_event)
    assert "if not self._pattern:" in steps
    assert "event = json.loads(json.dumps(event))" in steps
    assert "event_flat = self._flatten_dict(event)" in steps
    assert "return self._does_event_match(event_flat, self._pattern)" in steps
    assert parameters(EventPattern._does_event_match)[:3] == ["self", "event_flat", "pattern_node"]


def test_one_matcher_per_event_decides_as_matches_event_for_every_pattern() -> None:
    from moto.events.models import EventPattern

    from aiops_local.patches import events_pattern

    # Given patterns of every kind the template's rules use, and events some of them match
    patterns = [
        EventPattern(None, {}),
        *(
            EventPattern.load(json.dumps(raw))
            for raw in (
                {"source": ["aws.s3"], "detail": {"object": {"key": [{"prefix": "raw/"}]}}},
                {"detail": {"object": {"size": [{"numeric": [">", 0]}]}}},
                {"detail": {"reason": [{"anything-but": "PutObject"}]}},
                {"detail": {"object": {"version-id": [{"exists": True}]}}},
                {"$or": [{"source": ["aws.ce"]}, {"detail": {"reason": ["PutObject"]}}]},
                {"detail": {"metrics": {"metric": {"namespace": ["ns/drift"]}}}},
            )
        ),
    ]
    events: list[dict[str, Any]] = [
        {
            "source": "aws.s3",
            "detail": {"object": {"key": "raw/a.csv", "size": 3}, "reason": "PutObject"},
        },
        {
            "source": "aws.s3",
            "detail": {"object": {"key": "x/a.csv", "size": 0, "version-id": "1"}},
        },
        {
            "source": "aws.cloudwatch",
            "detail": {"metrics": [{"metric": {"namespace": "ns/drift"}}]},
        },
    ]
    with installed(events_pattern):
        # When each event is matched once for all patterns
        decided = [[events_pattern.matcher(e)(p) for p in patterns] for e in events]
        # Then every decision is moto's own
        expected = [[p.matches_event(e) for p in patterns] for e in events]  # type: ignore[arg-type]
    assert decided == expected
    assert any(map(any, decided)) and not all(map(all, decided))
