"""Lambda invocations run the bound handler in-process instead of in Docker.

`LambdaFunction._invoke_lambda` is the one place moto runs function code, for every path: a
direct `lambda:Invoke`, a Step Functions Task, an event source. It returns
`(payload, errored, logs)`; moto then sets `X-Amz-Function-Error` when `errored`.
"""

from __future__ import annotations

import json
from typing import Any

from moto.awslambda.models import LambdaFunction

from aiops_local.actors import current_actor
from aiops_local.functions import Invoker
from aiops_local.patches.base import Patcher


def _via() -> str:
    actor = current_actor()
    if actor is None:
        return "lambda:Invoke"
    return f"{actor.kind.replace('_', ' ')} {actor.name}"


def install(patcher: Patcher, invoker: Invoker) -> None:
    def _invoke_lambda(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
        binding = invoker.binding_for(self.function_name)
        if binding is None:
            error = {
                "errorMessage": f"no local handler is bound to function {self.function_name}",
                "errorType": "Runtime.HandlerNotFound",
            }
            return json.dumps(error), True, ""
        result = invoker.invoke(binding, {} if event is None else event, via=_via())
        return result.payload_json(), not result.ok, result.logs

    patcher.replace(LambdaFunction, "_invoke_lambda", _invoke_lambda)
