"""The cost adapters where moto cannot show them (tests/contracts holds what it can): the order
of the scaling calls, SageMaker refusing an update that auto scaling is already making, running
pipeline executions and their stop, stopping a customization job by its ARN (botocore Stubber:
the exact requests and the services' documented errors), and the resume event on the bus."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto import mock_aws

from aiops.adapters.cost import (
    RESUME_DETAIL_TYPE,
    RESUME_SOURCE,
    CostRunningJobs,
    EventBridgeResumeNotices,
    SageMakerEndpointCapacity,
)
from aiops.adapters.eventbridge import EventPublishFailed
from aiops.cost.model import VariantCapacity

REGION = "us-east-1"
ENDPOINT = "churn-prod"
PIPELINE = "churn-train"
EXECUTION = f"arn:aws:sagemaker:{REGION}:123456789012:pipeline/{PIPELINE}/execution/abc123"
JOB = (
    f"arn:aws:bedrock:{REGION}:123456789012:model-customization-job/"
    "amazon.nova-lite-v1:0:300k/a1b2c3d4e5f6"
)
BASE_MODEL = f"arn:aws:bedrock:{REGION}::foundation-model/amazon.nova-lite-v1:0"


def _client(service: str) -> Any:
    return boto3.client(service, region_name=REGION)


def _error(stubber: Stubber, operation: str, code: str, message: str = "refused") -> None:
    stubber.add_client_error(operation, service_error_code=code, service_message=message)


# ------------------------------------------------------------------ endpoint capacity


@pytest.fixture
def moto_endpoint() -> Iterator[SageMakerEndpointCapacity]:
    """An endpoint on 4 instances auto scaled 2-8, and the adapter over it in moto."""
    with mock_aws():
        sagemaker, autoscaling = _client("sagemaker"), _client("application-autoscaling")
        sagemaker.create_model(
            ModelName="m",
            PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/m:1"},
            ExecutionRoleArn="arn:aws:iam::123456789012:role/model",
        )
        sagemaker.create_endpoint_config(
            EndpointConfigName="c",
            ProductionVariants=[
                {
                    "VariantName": "AllTraffic",
                    "ModelName": "m",
                    "InstanceType": "ml.m5.large",
                    "InitialInstanceCount": 4,
                }
            ],
        )
        sagemaker.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName="c")
        autoscaling.register_scalable_target(
            ServiceNamespace="sagemaker",
            ResourceId=f"endpoint/{ENDPOINT}/variant/AllTraffic",
            ScalableDimension="sagemaker:variant:DesiredInstanceCount",
            MinCapacity=2,
            MaxCapacity=8,
        )
        yield SageMakerEndpointCapacity(sagemaker, autoscaling)


def _record_calls(adapter: SageMakerEndpointCapacity) -> list[tuple[str, dict[str, Any]]]:
    calls: list[tuple[str, dict[str, Any]]] = []

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        calls.append((model.name, dict(params)))

    # The API parameters of each call, in the order made, whichever client makes it.
    for client in (adapter.sagemaker, adapter.autoscaling):
        client.meta.events.register("provide-client-params", record)
    return calls


def test_a_scaled_variant_gets_its_bounds_before_its_capacity(moto_endpoint):
    calls = _record_calls(moto_endpoint)

    moto_endpoint.set_capacity(
        [
            VariantCapacity(
                endpoint=ENDPOINT, variant="AllTraffic", instances=2, scaling_min=2, scaling_max=2
            )
        ]
    )

    assert calls == [
        (
            "RegisterScalableTarget",
            {
                "ServiceNamespace": "sagemaker",
                "ResourceId": f"endpoint/{ENDPOINT}/variant/AllTraffic",
                "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
                "MinCapacity": 2,
                "MaxCapacity": 2,
            },
        ),
        (
            "UpdateEndpointWeightsAndCapacities",
            {
                "EndpointName": ENDPOINT,
                "DesiredWeightsAndCapacities": [
                    {"VariantName": "AllTraffic", "DesiredInstanceCount": 2}
                ],
            },
        ),
    ]


def test_a_variant_given_no_bounds_leaves_its_scalable_target_alone(moto_endpoint):
    calls = _record_calls(moto_endpoint)

    moto_endpoint.set_capacity(
        [VariantCapacity(endpoint=ENDPOINT, variant="AllTraffic", instances=3)]
    )

    assert [name for name, _ in calls] == ["UpdateEndpointWeightsAndCapacities"]


def test_the_state_reads_every_variants_bounds_in_one_call(moto_endpoint):
    calls = _record_calls(moto_endpoint)

    moto_endpoint.state(ENDPOINT)

    assert [name for name, _ in calls] == [
        "DescribeEndpoint",
        "ListTags",
        "DescribeScalableTargets",
    ]


@pytest.fixture
def stubbed_capacity() -> Iterator[tuple[SageMakerEndpointCapacity, Stubber, Stubber]]:
    sagemaker, autoscaling = _client("sagemaker"), _client("application-autoscaling")
    with Stubber(sagemaker) as sm, Stubber(autoscaling) as aas:
        yield SageMakerEndpointCapacity(sagemaker, autoscaling), sm, aas
        sm.assert_no_pending_responses()
        aas.assert_no_pending_responses()


def _pinned(instances: int) -> VariantCapacity:
    return VariantCapacity(
        endpoint=ENDPOINT,
        variant="AllTraffic",
        instances=instances,
        scaling_min=instances,
        scaling_max=instances,
    )


def _described(desired: int) -> dict[str, Any]:
    return {
        "EndpointName": ENDPOINT,
        "EndpointArn": f"arn:aws:sagemaker:{REGION}:123456789012:endpoint/{ENDPOINT}",
        "EndpointStatus": "Updating",
        "CreationTime": datetime(2026, 11, 1, tzinfo=UTC),
        "LastModifiedTime": datetime(2026, 11, 1, tzinfo=UTC),
        "ProductionVariants": [
            {
                "VariantName": "AllTraffic",
                "CurrentInstanceCount": 4,
                "DesiredInstanceCount": desired,
            }
        ],
    }


def test_an_update_refused_while_auto_scaling_applies_the_same_capacity_is_done(
    stubbed_capacity,
):
    # Given new bounds that auto scaling applies itself (the endpoint turns Updating)
    adapter, sm, aas = stubbed_capacity
    aas.add_response("register_scalable_target", {})
    _error(sm, "update_endpoint_weights_and_capacities", "ValidationException")
    sm.add_response("describe_endpoint", _described(desired=1), {"EndpointName": ENDPOINT})

    # When the capacity is set to what auto scaling is moving it to
    adapter.set_capacity([_pinned(1)])

    # Then it is done, without an error (the stubs were all used)


def test_an_update_refused_for_another_capacity_is_an_error(stubbed_capacity):
    adapter, sm, aas = stubbed_capacity
    aas.add_response("register_scalable_target", {})
    _error(sm, "update_endpoint_weights_and_capacities", "ValidationException")
    sm.add_response("describe_endpoint", _described(desired=4), {"EndpointName": ENDPOINT})

    with pytest.raises(ClientError, match="ValidationException"):
        adapter.set_capacity([_pinned(1)])


def test_a_throttled_update_is_not_mistaken_for_success(stubbed_capacity):
    adapter, sm, aas = stubbed_capacity
    aas.add_response("register_scalable_target", {})
    _error(sm, "update_endpoint_weights_and_capacities", "ThrottlingException")

    with pytest.raises(ClientError, match="ThrottlingException"):
        adapter.set_capacity([_pinned(1)])


# ------------------------------------------------------------------ running jobs


@pytest.fixture
def stubbed_jobs() -> Iterator[tuple[CostRunningJobs, Stubber, Stubber]]:
    sagemaker, bedrock = _client("sagemaker"), _client("bedrock")
    with Stubber(sagemaker) as sm, Stubber(bedrock) as br:
        yield CostRunningJobs(sagemaker, bedrock), sm, br
        sm.assert_no_pending_responses()
        br.assert_no_pending_responses()


def _execution(suffix: str, status: str) -> dict[str, Any]:
    return {
        "PipelineExecutionArn": f"{EXECUTION}-{suffix}",
        "StartTime": datetime(2026, 11, 1, tzinfo=UTC),
        "PipelineExecutionStatus": status,
    }


def test_running_executions_are_read_newest_first_across_pages(stubbed_jobs):
    # Given two pages of the pipeline's executions, in every state
    adapter, sm, _ = stubbed_jobs
    request = {
        "PipelineName": PIPELINE,
        "SortBy": "CreationTime",
        "SortOrder": "Descending",
        "MaxResults": 100,
    }
    sm.add_response(
        "list_pipeline_executions",
        {
            "PipelineExecutionSummaries": [
                _execution("a", "Executing"),
                _execution("b", "Stopping"),
            ],
            "NextToken": "page-2",
        },
        request,
    )
    sm.add_response(
        "list_pipeline_executions",
        {
            "PipelineExecutionSummaries": [
                _execution("c", "Succeeded"),
                _execution("d", "Executing"),
                _execution("e", "Failed"),
                _execution("f", "Stopped"),
            ]
        },
        {**request, "NextToken": "page-2"},
    )

    # Then only the executing ones are running (a stopping one is already being stopped)
    assert adapter.pipeline_executions(PIPELINE) == [f"{EXECUTION}-a", f"{EXECUTION}-d"]


def test_a_pipeline_sagemaker_does_not_know_runs_nothing(stubbed_jobs):
    adapter, sm, _ = stubbed_jobs
    _error(sm, "list_pipeline_executions", "ResourceNotFound")

    assert adapter.pipeline_executions(PIPELINE) == []


def test_stopping_an_execution_asks_once_with_a_token_from_its_arn(stubbed_jobs):
    adapter, sm, _ = stubbed_jobs
    token = hashlib.sha256(f"stop/{EXECUTION}".encode()).hexdigest()[:40]
    expected = {"PipelineExecutionArn": EXECUTION, "ClientRequestToken": token}
    sm.add_response("stop_pipeline_execution", {"PipelineExecutionArn": EXECUTION}, expected)
    # A retry sends the same token (SageMaker answers it as the same request).
    sm.add_response("stop_pipeline_execution", {"PipelineExecutionArn": EXECUTION}, expected)

    assert adapter.stop_pipeline_execution(EXECUTION) is True
    assert adapter.stop_pipeline_execution(EXECUTION) is True


@pytest.mark.parametrize("code", ["ValidationException", "ConflictException", "ResourceNotFound"])
def test_stopping_an_execution_that_had_ended_is_false(stubbed_jobs, code):
    adapter, sm, _ = stubbed_jobs
    _error(sm, "stop_pipeline_execution", code, "execution is Succeeded")

    assert adapter.stop_pipeline_execution(EXECUTION) is False


def test_a_throttled_execution_stop_is_an_error_not_an_end(stubbed_jobs):
    adapter, sm, _ = stubbed_jobs
    _error(sm, "stop_pipeline_execution", "ThrottlingException")

    with pytest.raises(ClientError, match="ThrottlingException"):
        adapter.stop_pipeline_execution(EXECUTION)


def test_customization_jobs_are_listed_in_progress_by_name_then_kept_by_tag(stubbed_jobs):
    adapter, _, br = stubbed_jobs
    other = JOB.replace("a1b2c3d4e5f6", "ffffffffffff")
    br.add_response(
        "list_model_customization_jobs",
        {
            "modelCustomizationJobSummaries": [
                {
                    "jobArn": arn,
                    "baseModelArn": BASE_MODEL,
                    "jobName": name,
                    "status": "InProgress",
                    "creationTime": datetime(2026, 11, 1, tzinfo=UTC),
                }
                for arn, name in ((JOB, "aiops-churn-w1"), (other, "aiops-churn-x-w1"))
            ]
        },
        {"statusEquals": "InProgress", "nameContains": "aiops-churn", "maxResults": 100},
    )
    br.add_response(
        "list_tags_for_resource",
        {"tags": [{"key": "aiops:model", "value": "churn"}]},
        {"resourceARN": JOB},
    )
    br.add_response(
        "list_tags_for_resource",
        {"tags": [{"key": "aiops:model", "value": "churn-x"}]},
        {"resourceARN": other},
    )

    assert adapter.customization_jobs("churn") == [JOB]


def test_stopping_a_customization_job_names_it_by_its_arn(stubbed_jobs):
    adapter, _, br = stubbed_jobs
    br.add_response("stop_model_customization_job", {}, {"jobIdentifier": JOB})

    assert adapter.stop_customization_job(JOB) is True


@pytest.mark.parametrize("code", ["ValidationException", "ResourceNotFoundException"])
def test_stopping_a_customization_job_that_had_ended_is_false(stubbed_jobs, code):
    adapter, _, br = stubbed_jobs
    _error(br, "stop_model_customization_job", code, "job is Completed")

    assert adapter.stop_customization_job(JOB) is False


def test_a_denied_customization_job_stop_is_an_error(stubbed_jobs):
    adapter, _, br = stubbed_jobs
    _error(br, "stop_model_customization_job", "AccessDeniedException")

    with pytest.raises(ClientError, match="AccessDeniedException"):
        adapter.stop_customization_job(JOB)


# ------------------------------------------------------------------ resume notices


def test_the_resume_event_reaches_a_rule_written_with_its_source_and_detail_type():
    with mock_aws():
        events, sqs = _client("events"), _client("sqs")
        queue = sqs.create_queue(QueueName="sweeps")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        events.put_rule(
            Name="resumed",
            EventPattern=json.dumps(
                {"source": [RESUME_SOURCE], "detail-type": [RESUME_DETAIL_TYPE]}
            ),
        )
        events.put_targets(Rule="resumed", Targets=[{"Id": "sweeps", "Arn": queue_arn}])

        EventBridgeResumeNotices(events).resumed("churn", "operator:alice")

        messages = sqs.receive_message(QueueUrl=queue).get("Messages", [])
        assert [json.loads(m["Body"])["detail"] for m in messages] == [
            {"model": "churn", "by": "operator:alice"}
        ]


def test_a_resume_event_the_bus_refuses_is_an_error_naming_the_model():
    events = _client("events")
    with Stubber(events) as stub:
        stub.add_response(
            "put_events",
            {
                "FailedEntryCount": 1,
                "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "try again"}],
            },
        )

        with pytest.raises(EventPublishFailed, match="resume event for churn: InternalFailure"):
            EventBridgeResumeNotices(events).resumed("churn", "operator:alice")
