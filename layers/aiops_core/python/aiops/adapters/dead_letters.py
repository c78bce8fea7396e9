"""Events that can never succeed, kept in the function's dead-letter queue with the reason."""

from __future__ import annotations

import json
from typing import Any

from aiops.adapters.aws import AwsAdapter

# SQS message attributes hold at most 256 KB with the body; the reason needs far less.
_MAX_REASON = 1000


class SqsDeadLetters(AwsAdapter):
    """The same queue and attributes Lambda uses for a failed asynchronous invocation, so one
    redrive or inspection tool reads both."""

    service = "sqs"

    def __init__(self, queue_url: str, client: Any | None = None) -> None:
        self.queue_url = queue_url
        super().__init__(client)

    def send(self, event: Any, reason: str, request_id: str) -> str:
        self.client.send_message(
            QueueUrl=self.queue_url,
            MessageBody=json.dumps(event, default=str),
            MessageAttributes={
                "RequestID": {"DataType": "String", "StringValue": request_id or "unknown"},
                "ErrorCode": {"DataType": "String", "StringValue": "InvalidEvent"},
                "ErrorMessage": {"DataType": "String", "StringValue": reason[:_MAX_REASON]},
            },
        )
        return self.queue_url
