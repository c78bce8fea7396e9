"""Every AWS API call made in-process is seen by the runtime, with its parameters and result.

`BaseClient._make_api_call` is the one method every boto3 client goes through, whatever session
created it (handlers, Powertools, moto's Step Functions integrations). This is a botocore patch,
not a moto one; the runtime uses it for the timeline (`api`, `decision`, `notify` entries), the
per-invocation call counts, and to let simulators notice the calls they stand behind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from aiops_local.actors import Actor, current_actor
from aiops_local.patches.base import Patcher


@dataclass(frozen=True)
class ApiCall:
    service: str  # boto3's client name: dynamodb, s3, stepfunctions, sagemaker, ...
    operation: str  # PascalCase, as in the API reference
    params: dict[str, Any]
    result: dict[str, Any] | None
    error: str | None  # the error code when the call failed
    actor: Actor | None  # None: the runtime itself


Observer = Callable[[ApiCall], Callable[[ApiCall], None] | None]


def install(patcher: Patcher, observe: Observer) -> None:
    """`observe(call)` runs before the call (result and error None); what it returns, if
    anything, runs after it with the outcome. So an entry made for a call sits before what the
    call itself causes (an execution it starts, an event it emits)."""
    original = BaseClient._make_api_call

    def _make_api_call(self: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        service = self.meta.service_model.service_name
        actor = current_actor()
        finish = observe(ApiCall(service, operation_name, api_params, None, None, actor))
        try:
            result = original(self, operation_name, api_params)
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", "ClientError"))
            if finish is not None:
                finish(ApiCall(service, operation_name, api_params, None, code, actor))
            raise
        if finish is not None:
            finish(ApiCall(service, operation_name, api_params, result, None, actor))
        return result

    patcher.replace(BaseClient, "_make_api_call", _make_api_call)
