"""Pipeline executions in moto carry the status the simulator gives them.

moto creates every pipeline execution already `Succeeded` and never changes it; there is no API
to set it. The pipeline simulator writes `FakePipelineExecution.pipeline_execution_status` (and
the failure reason, failed step and times) in moto's SageMaker backend, so
DescribePipelineExecution tells the same story as the events. moto's DescribePipelineExecution
always answers `FailureReason: ""`, and it lacks StopPipelineExecution and
ListPipelineExecutionSteps: `install` adds them, reading and writing the same execution.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from moto.core.responses import ActionResult
from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.models import sagemaker_backends
from moto.sagemaker.responses import SageMakerResponse

from aiops_local.patches.base import Patcher

_ENDED = ("Succeeded", "Failed", "Stopped")


def find_execution(account: str, region: str, execution_arn: str) -> Any:
    backend = sagemaker_backends[account][region]
    for pipeline in backend.pipelines.values():
        execution = pipeline.pipeline_executions.get(execution_arn)
        if execution is not None:
            return execution
    raise KeyError(execution_arn)


def set_status(
    account: str,
    region: str,
    execution_arn: str,
    status: str,
    when: datetime,
    failure_reason: str | None = None,
) -> None:
    execution = find_execution(account, region, execution_arn)
    execution.pipeline_execution_status = status
    execution.pipeline_execution_failure_reason = failure_reason
    execution.last_modified_time = when


def set_failed_step(
    account: str, region: str, execution_arn: str, step: str, failure_reason: str
) -> None:
    find_execution(account, region, execution_arn).aiops_failed_step = (step, failure_reason)


def install(patcher: Patcher) -> None:
    """Describe with the failure reason; Stop (the execution turns `Stopping`; the pipeline
    simulator, watching the call, ends it `Stopped`); the execution's failed step."""
    original = SageMakerResponse.describe_pipeline_execution
    patcher.replace(
        SageMakerResponse, "describe_pipeline_execution", _describe_with_reason(original)
    )
    patcher.add(SageMakerResponse, "stop_pipeline_execution", _stop)
    patcher.add(SageMakerResponse, "list_pipeline_execution_steps", _list_steps)


def _execution(response: SageMakerResponse) -> Any:
    arn = response._get_param("PipelineExecutionArn")
    try:
        return find_execution(response.current_account, response.region, arn)
    except KeyError:
        raise ValidationError(message=f"Pipeline execution {arn} does not exist") from None


def _describe_with_reason(original: Any) -> Callable[[SageMakerResponse], ActionResult]:
    def describe(self: SageMakerResponse) -> ActionResult:
        result = original(self)
        execution = _execution(self)
        reason = getattr(execution, "pipeline_execution_failure_reason", None)
        body = dict(result.result) if isinstance(result.result, dict) else {}
        body["FailureReason"] = reason or ""
        return ActionResult(body)

    return describe


def _stop(self: SageMakerResponse) -> ActionResult:
    execution = _execution(self)
    if execution.pipeline_execution_status in _ENDED:
        raise ValidationError(
            message=f"Pipeline execution is {execution.pipeline_execution_status}; "
            "only an executing pipeline can be stopped"
        )
    execution.pipeline_execution_status = "Stopping"
    return ActionResult({"PipelineExecutionArn": execution.arn})


def _list_steps(self: SageMakerResponse) -> ActionResult:
    execution = _execution(self)
    failed = getattr(execution, "aiops_failed_step", None)
    steps = []
    if failed is not None:
        steps.append({"StepName": failed[0], "StepStatus": "Failed", "FailureReason": failed[1]})
    return ActionResult({"PipelineExecutionSteps": steps})
