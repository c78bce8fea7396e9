"""Lambda invocations run the bound handler in-process instead of in Docker.

`LambdaFunction._invoke_lambda` is the one place moto runs function code, for every path: a
direct `lambda:Invoke`, a Step Functions Task, an event source. It returns
`(payload, errored, logs)`; moto then sets `X-Amz-Function-Error` when `errored`.

`refuse(binding)`, when given, says whether Lambda refuses the invocation now (a throttled
function): the Invoke call then fails with TooManyRequestsException (429), as Lambda's does.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from moto.awslambda.models import LambdaFunction
from moto.core.exceptions import JsonRESTError

from aiops_local.actors import current_actor
from aiops_local.functions import FunctionBinding, Invoker
from aiops_local.patches.base import Patcher


class TooManyRequests(JsonRESTError):
    code = 429

    def __init__(self) -> None:
        super().__init__("TooManyRequestsException", "Rate Exceeded.")


def _via() -> str:
    actor = current_actor()
    if actor is None:
        return "lambda:Invoke"
    return f"{actor.kind.replace('_', ' ')} {actor.name}"


def install(
    patcher: Patcher,
    invoker: Invoker,
    refuse: Callable[[FunctionBinding, str], bool] | None = None,
) -> None:
    def _invoke_lambda(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
        binding = invoker.binding_for(self.function_name)
        if binding is None:
            error = {
                "errorMessage": f"no local handler is bound to function {self.function_name}",
                "errorType": "Runtime.HandlerNotFound",
            }
            return json.dumps(error), True, ""
        if refuse is not None and refuse(binding, _via()):
            raise TooManyRequests()
        result = invoker.invoke(binding, {} if event is None else event, via=_via())
        return result.payload_json(), not result.ok, result.logs

    patcher.replace(LambdaFunction, "_invoke_lambda", _invoke_lambda)
