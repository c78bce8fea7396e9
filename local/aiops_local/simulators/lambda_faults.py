"""Lambda refusing invocations for a while: throttling, as AWS does it.

A function whose concurrency is exhausted (its reserved concurrency, or the account's limit
during a burst) is throttled: Lambda refuses each synchronous invocation with
`TooManyRequestsException` (429, "Rate Exceeded."), which a Step Functions Task sees as the error
`Lambda.TooManyRequestsException` and retries as its Retry says. A scenario throttles a function
for a span of virtual time from the moment it says so:

    simulators:   lambda_faults: {throttle: {function: RetrainEndFunction, for: 1h}}
    or a step:    - configure: {lambda_faults: {throttle: [{function: ..., for: 10m}, ...]}}

(`function`: the template's logical id or the function's name). Each refused invocation is an
`invoke` entry with status `throttled` and counts in AWS/Lambda Throttles. Asynchronous
invocations (EventBridge rules, schedules) are not refused offline: Lambda keeps those events
and retries a throttled one for up to six hours, so a throttle only delays them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from aiops_local.simulators.base import Simulator, SimulatorHost, register
from aiops_local.simulators.step_args import StepArgs, Text, parse_step, seconds_between

Span = Annotated[float, seconds_between(1, 30 * 86400)]


class ThrottleArgs(StepArgs):
    function: Annotated[Text, Field(max_length=140)]
    for_: Annotated[Span, Field(alias="for")]


def _listed(value: Any) -> Any:
    return [value] if isinstance(value, dict) else value


class LambdaFaultSettings(StepArgs):
    # One throttle, or a list of them.
    throttle: Annotated[list[ThrottleArgs], BeforeValidator(_listed), Field(max_length=100)]


@dataclass(frozen=True)
class Throttle:
    function: str
    start: float
    end: float


@register
class LambdaFaultSimulator(Simulator):
    name = "lambda_faults"

    def __init__(self, host: SimulatorHost) -> None:
        super().__init__(host)
        self._throttles: list[Throttle] = []
        self._lock = threading.Lock()

    def configure(self, settings: dict[str, Any]) -> None:
        if not settings:
            return
        parsed = parse_step(LambdaFaultSettings, settings, "lambda_faults")
        now = self.host.clock.time()
        with self._lock:
            self._throttles += [Throttle(t.function, now, now + t.for_) for t in parsed.throttle]

    def throttled(self, logical_id: str, name: str) -> bool:
        """Whether Lambda refuses an invocation of this function now."""
        now = self.host.clock.time()
        with self._lock:
            return any(
                t.function in (logical_id, name) and t.start <= now < t.end for t in self._throttles
            )
