"""The RunningJobs port (aiops.cost.ports): MemoryRunningJobs ↔ CostRunningJobs (SageMaker
pipelines and Bedrock customization jobs in moto).

moto gaps, so the adapter's side of these is in tests/integration/test_cost_adapters.py
(botocore Stubber): pipeline executions finish as soon as they start (none is ever running),
StopPipelineExecution is not implemented, and StopModelCustomizationJob does not find a job by
its ARN. The tests that need them run on the fake only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import boto3
import pytest
from moto import mock_aws

from aiops.adapters.cost import CostRunningJobs
from aiops.cost.ports import RunningJobs
from tests.contracts.conftest import REGION, SIDES
from tests.unit.fakes import MemoryRunningJobs

MODEL = "churn"
PIPELINE = "churn-train"
ROLE = "arn:aws:iam::123456789012:role/jobs"


@dataclass
class Jobs:
    """The port, and a way to arrange the work it lists."""

    port: RunningJobs

    @property
    def fake(self) -> MemoryRunningJobs:
        if not isinstance(self.port, MemoryRunningJobs):
            pytest.skip("moto cannot run this: covered with Stubber in test_cost_adapters.py")
        return self.port

    def finished_execution(self, pipeline: str) -> str:
        if isinstance(self.port, MemoryRunningJobs):
            arn = f"arn:aws:sagemaker:{REGION}:123456789012:pipeline/{pipeline}/execution/done"
            self.port.add_execution(pipeline, arn, status="Succeeded")
            return arn
        sagemaker = boto3.client("sagemaker", region_name=REGION)
        sagemaker.create_pipeline(
            PipelineName=pipeline,
            PipelineDefinition=json.dumps({"Version": "2020-12-01", "Steps": []}),
            RoleArn=ROLE,
        )
        # moto's executions end `Succeeded` as they start.
        return str(
            sagemaker.start_pipeline_execution(PipelineName=pipeline)["PipelineExecutionArn"]
        )

    def job(self, name: str, model_tag: str | None, stopped: bool = False) -> str:
        if isinstance(self.port, MemoryRunningJobs):
            arn = f"arn:aws:bedrock:{REGION}:123456789012:model-customization-job/{name}"
            self.port.add_job(arn, model_tag or "", status="Stopped" if stopped else "InProgress")
            return arn
        bedrock = boto3.client("bedrock", region_name=REGION)
        arn = bedrock.create_model_customization_job(
            jobName=name,
            customModelName=f"{name}-model",
            roleArn=ROLE,
            baseModelIdentifier="amazon.titan-text-express-v1",
            trainingDataConfig={"s3Uri": "s3://data/train.jsonl"},
            outputDataConfig={"s3Uri": "s3://data/out/"},
            hyperParameters={},
            jobTags=[{"key": "aiops:model", "value": model_tag}] if model_tag else [],
        )["jobArn"]
        if stopped:
            # moto finds a job to stop by its name only.
            bedrock.stop_model_customization_job(jobIdentifier=name)
        return str(arn)


@pytest.fixture(params=SIDES)
def jobs(request: pytest.FixtureRequest) -> Iterator[Jobs]:
    if request.param == "fake":
        yield Jobs(MemoryRunningJobs())
        return
    with mock_aws():
        yield Jobs(
            CostRunningJobs(
                boto3.client("sagemaker", region_name=REGION),
                boto3.client("bedrock", region_name=REGION),
            )
        )


# ------------------------------------------------------------------ pipeline executions


def test_a_pipeline_that_does_not_exist_has_nothing_running(jobs):
    assert jobs.port.pipeline_executions("nowhere") == []


def test_a_finished_execution_is_not_running(jobs):
    jobs.finished_execution(PIPELINE)

    assert jobs.port.pipeline_executions(PIPELINE) == []


def test_running_executions_are_listed_newest_first(jobs):
    fake = jobs.fake
    fake.add_execution(PIPELINE, "arn:old")
    fake.add_execution(PIPELINE, "arn:done", status="Failed")
    fake.add_execution(PIPELINE, "arn:stopping", status="Stopping")
    fake.add_execution(PIPELINE, "arn:new")

    assert fake.pipeline_executions(PIPELINE) == ["arn:new", "arn:old"]


def test_stopping_a_running_execution_says_so_once(jobs):
    fake = jobs.fake
    fake.add_execution(PIPELINE, "arn:run")

    assert fake.stop_pipeline_execution("arn:run") is True
    assert fake.stop_pipeline_execution("arn:run") is False
    assert fake.pipeline_executions(PIPELINE) == []


def test_stopping_an_execution_that_had_ended_is_false(jobs):
    fake = jobs.fake
    fake.add_execution(PIPELINE, "arn:done", status="Succeeded")

    assert fake.stop_pipeline_execution("arn:done") is False
    assert fake.stop_pipeline_execution("arn:unknown") is False


# ------------------------------------------------------------------ customization jobs


def test_the_models_jobs_in_progress_are_listed_by_their_tag(jobs):
    # Given the model's job, a job of a model whose name starts the same, an untagged job
    # named like the model's, and the model's job that was stopped
    ours = jobs.job("aiops-churn-w000001", MODEL)
    jobs.job("aiops-churn-x-w000001", "churn-x")
    jobs.job("aiops-churn-w000002", None)
    jobs.job("aiops-churn-w000003", MODEL, stopped=True)

    # Then only the model's job in progress is listed
    assert jobs.port.customization_jobs(MODEL) == [ours]


def test_a_model_without_jobs_has_none_in_progress(jobs):
    jobs.job("aiops-fraud-w000001", "fraud")

    assert jobs.port.customization_jobs(MODEL) == []


def test_stopping_a_job_in_progress_says_so_once(jobs):
    fake = jobs.fake
    arn = jobs.job("aiops-churn-w000001", MODEL)

    assert fake.stop_customization_job(arn) is True
    assert fake.stop_customization_job(arn) is False
    assert fake.customization_jobs(MODEL) == []


def test_stopping_a_job_that_had_ended_is_false(jobs):
    fake = jobs.fake
    arn = jobs.job("aiops-churn-w000001", MODEL, stopped=True)

    assert fake.stop_customization_job(arn) is False
