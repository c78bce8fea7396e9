"""The `arn:aws:states:::states:startExecution` integration names its parameters as AWS does.

Step Functions takes `StateMachineArn`, `Name`, `Input` (PascalCase). moto's interpreter means
to rename them to botocore's members (`stateMachineArn`, ...) but looks the operation up under
the service name `states`, finds no shape, and calls boto3 with the PascalCase names, which
fails with `KeyError: 'StateMachineArn'`. This renames them before the call.
"""

from __future__ import annotations

from typing import Any

from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn import (  # noqa: E501
    StateTaskServiceSfn,
)

from aiops_local.patches.base import Patcher

_BOTOCORE_NAMES = {
    "StateMachineArn": "stateMachineArn",
    "Name": "name",
    "Input": "input",
    "TraceHeader": "traceHeader",
}


def install(patcher: Patcher) -> None:
    original = StateTaskServiceSfn._normalise_parameters

    def normalise_parameters(
        self: StateTaskServiceSfn,
        parameters: dict[str, Any],
        boto_service_name: str | None = None,
        service_action_name: str | None = None,
    ) -> None:
        original(self, parameters, boto_service_name, service_action_name)
        for ours, botocore_name in _BOTOCORE_NAMES.items():
            if ours in parameters:
                parameters[botocore_name] = parameters.pop(ours)

    patcher.replace(StateTaskServiceSfn, "_normalise_parameters", normalise_parameters)
