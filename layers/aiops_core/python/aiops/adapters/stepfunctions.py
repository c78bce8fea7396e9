"""Starting workflows and resuming waiting ones (Step Functions)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aiops.adapters.aws import AwsAdapter, error_code
from aiops.observability import logger
from aiops.runs.rendezvous import TaskNoLongerWaiting
from aiops.runs.requests import RunRequest

if TYPE_CHECKING:
    # Typing only: the retrain functions that start runs never load the deploy models.
    from aiops.deploy.model import DeploymentRequest


class StepFunctionsRunStarter(AwsAdapter):
    """Starts the retrain workflow; the run id is the execution name, so a repeated start of
    the same run is a no-op rather than a second run."""

    service = "stepfunctions"

    def __init__(self, state_machine_arn: str, client: Any | None = None) -> None:
        self.state_machine_arn = state_machine_arn
        super().__init__(client)

    def _execution_arn(self, name: str) -> str:
        prefix, _, machine = self.state_machine_arn.rpartition(":stateMachine:")
        return f"{prefix}:execution:{machine}:{name}"

    def start(self, request: RunRequest) -> str:
        started = self._start(request.run_id, request.model_dump_json())
        return started or self._execution_arn(request.run_id)

    def _start(self, name: str, body: str) -> str | None:
        """Start execution `name`: its ARN, or None when it exists already (a repeat)."""
        try:
            response = self.client.start_execution(
                stateMachineArn=self.state_machine_arn, name=name, input=body
            )
        except Exception as exc:
            if error_code(exc) != "ExecutionAlreadyExists":
                raise
            logger.info("execution already started", extra={"execution": name})
            return None
        return str(response["executionArn"])


class StepFunctionsDeployStarter(StepFunctionsRunStarter):
    """Starts the deploy workflow; one execution name per request (and start), so a repeated
    start is a no-op rather than a second deployment."""

    def start(self, request: DeploymentRequest) -> str | None:  # type: ignore[override]
        return self._start(request.execution_name, request.model_dump_json())


class StepFunctionsResumer(AwsAdapter):
    service = "stepfunctions"

    def succeed(self, task_token: str, output: dict[str, Any]) -> None:
        self._call(
            self.client.send_task_success,
            taskToken=task_token,
            output=json.dumps(output, default=str),
        )

    def fail(self, task_token: str, error: str, cause: str) -> None:
        self._call(
            self.client.send_task_failure,
            taskToken=task_token,
            error=error[:256],
            cause=cause[:32768],
        )

    @staticmethod
    def _call(method: Any, **kwargs: Any) -> None:
        try:
            method(**kwargs)
        except Exception as exc:
            # The task already ended (timed out, stopped): the caller decides what a result
            # nobody waits for means; it must not vanish here.
            # Not logged here: the caller says what it means (and the CLI's stdout stays its own).
            if error_code(exc) in ("TaskTimedOut", "TaskDoesNotExist", "InvalidToken"):
                raise TaskNoLongerWaiting(error_code(exc)) from exc
            raise
