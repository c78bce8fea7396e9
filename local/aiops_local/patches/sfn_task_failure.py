"""SendTaskFailure keeps its `cause`, as Step Functions does.

moto's `StepFunctionResponse.send_task_failure` reads `taskToken` and `error` and drops `cause`,
although its interpreter backend accepts one: a Catch would see no `Cause`, and the run's end
would lose why its job failed. This passes the cause through.
"""

from __future__ import annotations

from moto.core.responses import ActionResult, EmptyResult
from moto.stepfunctions.responses import StepFunctionResponse

from aiops_local.patches.base import Patcher


def send_task_failure(self: StepFunctionResponse) -> ActionResult:
    self.stepfunction_backend.send_task_failure(  # type: ignore[call-arg]
        self._get_param("taskToken"),
        error=self._get_param("error"),
        cause=self._get_param("cause"),
    )
    return EmptyResult()


def install(patcher: Patcher) -> None:
    patcher.replace(StepFunctionResponse, "send_task_failure", send_task_failure)
