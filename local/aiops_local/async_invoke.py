"""Asynchronous Lambda invocation as AWS does it for EventBridge and other async callers.

A failed attempt is retried after one minute, then two (virtual time), up to the function's
`EventInvokeConfig.MaximumRetryAttempts`; an event older than `MaximumEventAgeInSeconds` is not
retried. When every attempt failed the event goes to the function's `DeadLetterConfig` queue,
with the attributes Lambda adds (RequestID, ErrorCode, ErrorMessage).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aiops_local.agenda import Agenda
from aiops_local.clock import VirtualClock
from aiops_local.functions import FunctionBinding, Invoker, InvokeResult
from aiops_local.timeline import Timeline

RETRY_DELAYS_S = (60, 120)


def send_to_queue(
    sqs: Any, queue_arn: str, body: str, attributes: dict[str, Any] | None = None
) -> str:
    """SendMessage to the queue of `queue_arn`; returns the queue's name."""
    queue = queue_arn.split(":")[-1]
    message: dict[str, Any] = {
        "QueueUrl": sqs.get_queue_url(QueueName=queue)["QueueUrl"],
        "MessageBody": body,
    }
    if attributes is not None:
        message["MessageAttributes"] = attributes
    sqs.send_message(**message)
    return queue


class AsyncInvoker:
    def __init__(
        self,
        invoker: Invoker,
        agenda: Agenda,
        clock: VirtualClock,
        timeline: Timeline,
        sqs_client: Callable[[], Any],
    ) -> None:
        self._invoker = invoker
        self._agenda = agenda
        self._clock = clock
        self._timeline = timeline
        self._sqs = sqs_client

    def submit(self, binding: FunctionBinding, event: Any, via: str) -> None:
        self._attempt(binding, event, via, attempt=0, first_at=self._clock.time())

    def _attempt(
        self, binding: FunctionBinding, event: Any, via: str, attempt: int, first_at: float
    ) -> None:
        label = via if attempt == 0 else f"{via} (retry {attempt})"
        result = self._invoker.invoke(binding, event, via=label)
        if result.ok:
            return
        delay = RETRY_DELAYS_S[min(attempt, len(RETRY_DELAYS_S) - 1)]
        age_at_retry = self._clock.time() + delay - first_at
        if attempt < binding.max_retry_attempts and age_at_retry <= binding.max_event_age_s:
            self._agenda.after(
                delay,
                f"retry {binding.logical_id}",
                lambda: self._attempt(binding, event, via, attempt + 1, first_at),
            )
            return
        self._dead_letter(binding, event, result, attempts=attempt + 1)

    def _dead_letter(
        self, binding: FunctionBinding, event: Any, result: InvokeResult, attempts: int
    ) -> None:
        if not binding.dead_letter_arn:
            self._timeline.add(
                "error",
                f"{binding.logical_id}: event dropped after retries "
                f"(no dead-letter queue): {result.error}",
                function=binding.logical_id,
                error=result.error,
            )
            return
        queue_name = send_to_queue(
            self._sqs(),
            binding.dead_letter_arn,
            json.dumps(event),
            {
                "RequestID": {"DataType": "String", "StringValue": result.request_id},
                "ErrorCode": {"DataType": "Number", "StringValue": "200"},
                "ErrorMessage": {
                    "DataType": "String",
                    "StringValue": (result.error or "")[:1000] or "error",
                },
            },
        )
        self._timeline.add(
            "dlq",
            f"{binding.logical_id}: event sent to {queue_name} after "
            f"{attempts} attempts: {result.error}",
            function=binding.logical_id,
            queue=queue_name,
            error=result.error,
            event_id=event.get("id") if isinstance(event, dict) else None,
        )
