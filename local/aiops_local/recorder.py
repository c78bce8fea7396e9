"""Turns observed AWS calls into timeline entries: `api`, `decision` and `notify`.

Decisions are the control plane's ledger writes: every item put into the ledger table is a
decision (model, action, reason). Notifications are SNS publishes. Calls the runtime makes for
itself (creating resources, simulators) are not part of the story and are not recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from aiops_local.patches.botocore_calls import ApiCall
from aiops_local.timeline import Timeline

_deserializer = TypeDeserializer()


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    try:
        return {k: _deserializer.deserialize(v) for k, v in item.items()}
    except (TypeError, AttributeError):
        return dict(item)  # a resource-level call already gave plain values


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, set, tuple)):
        return [_jsonable(v) for v in value]
    return value


def ledger_item(item: dict[str, Any]) -> dict[str, Any]:
    """A ledger item as written (DynamoDB-typed or plain) as plain JSON values."""
    result: dict[str, Any] = _jsonable(_plain(item))
    return result


class ApiRecorder:
    def __init__(self, timeline: Timeline, ledger_tables: Iterable[str]) -> None:
        self._timeline = timeline
        self._ledger_tables = set(ledger_tables)

    def observe(self, call: ApiCall) -> Callable[[ApiCall], None] | None:
        """Before the call: count it and add its `api` entry; after: note its error, and
        record the decision or notification it made."""
        actor = call.actor
        if actor is None:
            return None
        actor.api_calls += 1
        entry: dict[str, Any] | None = None
        # Step Functions calling Lambda is already the `invoke` entry that follows.
        if not (actor.kind == "state_machine" and call.service == "lambda"):
            who = {actor.kind if actor.kind == "function" else "state_machine": actor.name}
            text = f"{call.service}.{call.operation}"
            target = _target(call.params)
            if target:
                text += f" {target}"
            entry = self._timeline.add(
                "api", text, service=call.service, operation=call.operation, **who
            )

        def finished(outcome: ApiCall) -> None:
            if outcome.error is not None:
                if entry is not None:
                    entry.update(error=outcome.error, text=f"{entry['text']} → {outcome.error}")
                return
            self._decisions(outcome)
            self._notifications(outcome)

        return finished

    def _decisions(self, call: ApiCall) -> None:
        if call.service != "dynamodb":
            return
        for item in self._ledger_items(call):
            entry = ledger_item(item)
            model, action, reason = entry.get("model"), entry.get("action"), entry.get("reason")
            self._timeline.add(
                "decision",
                f"{model}: {action} — {reason}",
                model=model,
                action=action,
                reason=reason,
                item=entry,
            )

    def _ledger_items(self, call: ApiCall) -> list[dict[str, Any]]:
        params = call.params
        if call.operation == "PutItem" and params.get("TableName") in self._ledger_tables:
            return [params["Item"]]
        items: list[dict[str, Any]] = []
        if call.operation == "BatchWriteItem":
            for table, requests in params.get("RequestItems", {}).items():
                if table in self._ledger_tables:
                    items += [r["PutRequest"]["Item"] for r in requests if "PutRequest" in r]
        if call.operation == "TransactWriteItems":
            for request in params.get("TransactItems", []):
                put = request.get("Put")
                if put and put.get("TableName") in self._ledger_tables:
                    items.append(put["Item"])
        return items

    def _notifications(self, call: ApiCall) -> None:
        if call.service != "sns" or call.operation not in ("Publish", "PublishBatch"):
            return
        topic_arn = call.params.get("TopicArn") or call.params.get("TargetArn") or ""
        topic = topic_arn.split(":")[-1]
        messages = call.params.get("PublishBatchRequestEntries") or [call.params]
        for message in messages:
            subject = message.get("Subject")
            body = str(message.get("Message", ""))
            short = subject or (body[:120] + ("…" if len(body) > 120 else ""))
            # Message attributes are what subscriptions filter on (e.g. an approval's approver).
            attributes = {
                name: value.get("StringValue")
                for name, value in (message.get("MessageAttributes") or {}).items()
            }
            self._timeline.add(
                "notify",
                f"{topic}: {short}",
                topic=topic,
                subject=subject,
                message=body,
                attributes=attributes,
            )


def _target(params: dict[str, Any]) -> str | None:
    """The resource a call is about, for the human line."""
    if "Bucket" in params and "Key" in params:
        return f"s3://{params['Bucket']}/{params['Key']}"
    for key in (
        "TableName",
        "Name",
        "PipelineName",
        "ModelPackageGroupName",
        "ModelPackageArn",
        "ModelPackageName",
        "stateMachineArn",
        "TopicArn",
        "QueueUrl",
        "FunctionName",
        "AlarmName",
        "EndpointName",
        "jobName",
    ):
        if key in params and isinstance(params[key], str):
            return params[key].split(":")[-1] if params[key].startswith("arn:") else params[key]
    return None
