"""Alerts to the SNS alerts topic."""

from __future__ import annotations

from typing import Any

from aiops.adapters.aws import AwsAdapter


class SnsAlerts(AwsAdapter):
    service = "sns"

    def __init__(self, topic_arn: str, client: Any | None = None) -> None:
        self.topic_arn = topic_arn
        super().__init__(client)

    def publish(self, subject: str, message: str) -> None:
        # SNS subjects are at most 100 characters, one line.
        self.client.publish(
            TopicArn=self.topic_arn, Subject=subject.replace("\n", " ")[:100], Message=message
        )


class SnsApprovalNotices(AwsAdapter):
    """Notices on the approvals topic, one per approver: the `approver` message attribute lets
    each approver's subscription (a filter policy on it) receive only their own link."""

    service = "sns"
    EVERYONE = "all"

    def __init__(self, topic_arn: str, client: Any | None = None) -> None:
        self.topic_arn = topic_arn
        super().__init__(client)

    def send(self, approver: str | None, subject: str, message: str) -> None:
        self.client.publish(
            TopicArn=self.topic_arn,
            Subject=subject.replace("\n", " ")[:100],
            Message=message,
            MessageAttributes={
                "approver": {"DataType": "String", "StringValue": approver or self.EVERYONE}
            },
        )
