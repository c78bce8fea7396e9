"""Approvals in the control table.

- `APPROVAL#<model> / V#<version, 10 digits>`: the approval, its snapshot and its decision, with
  the workflow's task token beside it (never read into the domain model);
- `APPROVALLINK#<sha256 of the link id> / LINK`: one approver's link. Only the hash is stored.

Both expire (TTL) a while after the approval does; the page checks expiry itself, since TTL
deletion is late by up to days.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from aiops.adapters.aws import error_code
from aiops.adapters.dynamodb import Table, from_item, to_item, to_values
from aiops.approval.model import ApprovalStatus, Decision
from aiops.approval.ports import Approval, ApprovalLink

# Closed approvals stay readable (CLI, the page's "already decided") for this long.
KEEP_AFTER_EXPIRY = timedelta(days=90)
_KEYS = ("pk", "sk", "task_token", "ttl", "expires_epoch")
# Approvals are read without their task token (only resuming the workflow reads it), so a role
# allowed to list approvals can be kept from tokens with IAM's dynamodb:Attributes condition.
_APPROVAL_FIELDS = (
    "model",
    "version",
    "package_arn",
    "status",
    "created_at",
    "expires_at",
    "approvers",
    "notified",
    "summary",
    "decision",
    "execution_name",
)
_WITHOUT_TOKEN: dict[str, Any] = {
    "ProjectionExpression": ", ".join(f"#f{i}" for i in range(len(_APPROVAL_FIELDS))),
    "ExpressionAttributeNames": {f"#f{i}": name for i, name in enumerate(_APPROVAL_FIELDS)},
}


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


class DynamoApprovalStore:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self.table = Table(table_name, client)

    @staticmethod
    def _key(model: str, version: int) -> dict[str, str]:
        return {"pk": f"APPROVAL#{model}", "sk": f"V#{version:010d}"}

    @staticmethod
    def _link_key(link_hash: str) -> dict[str, str]:
        return {"pk": f"APPROVALLINK#{link_hash}", "sk": "LINK"}

    @staticmethod
    def _approval(item: dict[str, Any]) -> Approval:
        return Approval.model_validate({k: v for k, v in item.items() if k not in _KEYS})

    def create(self, approval: Approval, task_token: str) -> tuple[Approval, bool]:
        item = {
            **self._key(approval.model, approval.version),
            **approval.model_dump(mode="json", exclude_none=True),
            "task_token": task_token,
            # To the microsecond: the page's "open" and the store's agree at the last instant.
            "expires_epoch": approval.expires_at.timestamp(),
            "ttl": _epoch(approval.expires_at + KEEP_AFTER_EXPIRY),
        }
        try:
            self.table.client.put_item(
                TableName=self.table.name,
                Item=to_item(item),
                ConditionExpression="attribute_not_exists(pk)",
            )
            return approval, True
        except Exception as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
        # A retried step: the approval stands; the new attempt's token is the one waiting.
        response = self.table.client.update_item(
            TableName=self.table.name,
            Key=to_item(self._key(approval.model, approval.version)),
            UpdateExpression="SET task_token = :t",
            ExpressionAttributeValues=to_values({":t": task_token}),
            ReturnValues="ALL_NEW",
        )
        return self._approval(from_item(response["Attributes"])), False

    def get(self, model: str, version: int) -> Approval | None:
        response = self.table.client.get_item(
            TableName=self.table.name,
            Key=to_item(self._key(model, version)),
            ConsistentRead=True,
            **_WITHOUT_TOKEN,
        )
        item = from_item(response.get("Item"))
        return self._approval(item) if item else None

    def outcome(self, model: str, version: int) -> str | None:
        """The approval's status alone (the deploy capability's HumanApprovals port)."""
        approval = self.get(model, version)
        return str(approval.status) if approval is not None else None

    def for_model(self, model: str) -> list[Approval]:
        items = self.table.query_all(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :v)",
            ExpressionAttributeValues=to_values({":pk": f"APPROVAL#{model}", ":v": "V#"}),
            **_WITHOUT_TOKEN,
        )
        return [self._approval(i) for i in items]

    def task_token(self, model: str, version: int) -> str | None:
        response = self.table.client.get_item(
            TableName=self.table.name,
            Key=to_item(self._key(model, version)),
            ConsistentRead=True,
            ProjectionExpression="task_token",
        )
        token = from_item(response.get("Item")).get("task_token")
        return str(token) if token else None

    def add_link(self, link: ApprovalLink) -> None:
        self.table.client.put_item(
            TableName=self.table.name,
            Item=to_item(
                {
                    **self._link_key(link.link_hash),
                    **link.model_dump(mode="json", exclude_none=True),
                    "ttl": _epoch(link.expires_at + KEEP_AFTER_EXPIRY),
                }
            ),
        )

    def mark_notified(self, model: str, version: int, approver: str, at: datetime) -> None:
        self.table.client.update_item(
            TableName=self.table.name,
            Key=to_item(self._key(model, version)),
            UpdateExpression="SET notified.#a = :at",
            ExpressionAttributeNames={"#a": approver},
            ExpressionAttributeValues=to_values({":at": at.isoformat()}),
        )

    def link(self, link_hash: str) -> ApprovalLink | None:
        item = self.table.get(self._link_key(link_hash))
        if not item:
            return None
        return ApprovalLink.model_validate({k: v for k, v in item.items() if k not in _KEYS})

    def decide(
        self,
        model: str,
        version: int,
        decision: Decision,
        now: datetime,
        link_hash: str | None,
        before_expiry: bool = True,
    ) -> bool:
        condition = "#s = :pending" + (" AND expires_epoch > :now" if before_expiry else "")
        values: dict[str, Any] = {
            ":s": decision.status.value,
            ":d": decision.model_dump(mode="json"),
            ":pending": ApprovalStatus.PENDING.value,
        }
        if before_expiry:
            values[":now"] = now.timestamp()
        close = {
            "Update": {
                "TableName": self.table.name,
                "Key": to_item(self._key(model, version)),
                "UpdateExpression": "SET #s = :s, decision = :d",
                # First decision wins; no person decides an approval past its expiry.
                "ConditionExpression": condition,
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": to_values(values),
            }
        }
        items: list[dict[str, Any]] = [close]
        if link_hash is not None:
            # Single use: the link is spent in the same transaction.
            items.append(
                {
                    "Update": {
                        "TableName": self.table.name,
                        "Key": to_item(self._link_key(link_hash)),
                        "UpdateExpression": "SET used_at = :now",
                        # A link decides only the approval it was made for, once.
                        "ConditionExpression": (
                            "attribute_exists(pk) AND attribute_not_exists(used_at) "
                            "AND #m = :m AND #v = :v"
                        ),
                        "ExpressionAttributeNames": {"#m": "model", "#v": "version"},
                        "ExpressionAttributeValues": to_values(
                            {":now": now.isoformat(), ":m": model, ":v": version}
                        ),
                    }
                }
            )
        try:
            self.table.client.transact_write_items(TransactItems=items)
        except Exception as exc:
            if error_code(exc) != "TransactionCanceledException":
                raise
            reasons = getattr(exc, "response", {}).get("CancellationReasons", [])
            # A lost race is an answer; a conflict or throttle is not (the caller retries).
            if any(r.get("Code") == "ConditionalCheckFailed" for r in reasons):
                return False
            raise
        return True
