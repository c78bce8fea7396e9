"""Pipeline executions in moto carry the status the simulator gives them.

moto creates every pipeline execution already `Succeeded` and never changes it; there is no API
to set it. The pipeline simulator writes `FakePipelineExecution.pipeline_execution_status` (and
the failure reason and times) in moto's SageMaker backend, so DescribePipelineExecution tells the
same story as the events.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from moto.sagemaker.models import sagemaker_backends


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
