"""The per-model run lock in the control table (`MODEL#m / LOCK`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from aiops.adapters.aws import error_code
from aiops.adapters.dynamodb import Table, to_item, to_values
from aiops.runs.lock import LockOutcome
from aiops.runs.requests import RunRequest, RunTrigger, follow_up_run

_ATTEMPTS = 10


def _conditional_failed(exc: Exception) -> bool:
    return error_code(exc) == "ConditionalCheckFailedException"


class DynamoLockStore:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self.table = Table(table_name, client)

    @staticmethod
    def _key(model: str) -> dict[str, Any]:
        return to_item({"pk": f"MODEL#{model}", "sk": "LOCK"})

    def acquire(
        self, model: str, run_id: str, trigger: RunTrigger, now: datetime, ttl: timedelta
    ) -> LockOutcome:
        t = self.table
        for _ in range(_ATTEMPTS):
            try:
                t.client.update_item(
                    TableName=t.name,
                    Key=self._key(model),
                    UpdateExpression="SET #owner = :run, expires_at = :exp, acquired_at = :now, "
                    "#trigger = :trigger",
                    ConditionExpression="attribute_not_exists(#owner) OR expires_at < :now "
                    "OR #owner = :run",
                    ExpressionAttributeNames={"#owner": "owner", "#trigger": "trigger"},
                    ExpressionAttributeValues=to_values(
                        {
                            ":run": run_id,
                            ":exp": (now + ttl).isoformat(),
                            ":now": now.isoformat(),
                            ":trigger": trigger.model_dump(mode="json"),
                        }
                    ),
                )
                return LockOutcome(acquired=True, holder=run_id)
            except Exception as exc:
                if not _conditional_failed(exc):
                    raise
            try:
                response = t.client.update_item(
                    TableName=t.name,
                    Key=self._key(model),
                    UpdateExpression="SET pending = list_append(if_not_exists(pending, :empty), "
                    ":trigger) ADD pending_ids :tid",
                    ConditionExpression="attribute_exists(#owner) AND expires_at >= :now AND "
                    "#owner <> :run AND NOT contains(pending_ids, :tid_s)",
                    ExpressionAttributeNames={"#owner": "owner"},
                    ExpressionAttributeValues=to_values(
                        {
                            ":empty": [],
                            ":trigger": [trigger.model_dump(mode="json")],
                            ":tid": {trigger.trigger_id},
                            ":tid_s": trigger.trigger_id,
                            ":now": now.isoformat(),
                            ":run": run_id,
                        }
                    ),
                    ReturnValues="ALL_NEW",
                )
                holder = response["Attributes"]["owner"]["S"]
                return LockOutcome(acquired=False, holder=holder, coalesced=True)
            except Exception as exc:
                if not _conditional_failed(exc):
                    raise
            current = t.get({"pk": f"MODEL#{model}", "sk": "LOCK"})
            held = current.get("owner") and current.get("expires_at", "") >= now.isoformat()
            if held and trigger.trigger_id in current.get("pending_ids", set()):
                # A retried delivery of a trigger that is already coalesced.
                return LockOutcome(acquired=False, holder=current["owner"], coalesced=True)
            # The lock was released between our two writes: try to take it again.
        raise RuntimeError(f"{model}: lock contention did not settle after {_ATTEMPTS} attempts")

    def release(self, model: str, run_id: str, now: datetime, ttl: timedelta) -> RunRequest | None:
        t = self.table
        for _ in range(_ATTEMPTS):
            current = t.get({"pk": f"MODEL#{model}", "sk": "LOCK"})
            if current.get("owner") != run_id:
                if current.get("handed_over_from") == run_id and current.get("owner"):
                    # Our release already handed the lock over; the caller retries the start.
                    return RunRequest(
                        model=model,
                        run_id=current["owner"],
                        trigger=RunTrigger.model_validate(current["trigger"]),
                    )
                return None
            pending = [RunTrigger.model_validate(p) for p in current.get("pending", [])]
            try:
                if not pending:
                    t.client.update_item(
                        TableName=t.name,
                        Key=self._key(model),
                        UpdateExpression="REMOVE #owner, expires_at, acquired_at, #trigger, "
                        "handed_over_from",
                        ConditionExpression="#owner = :run AND attribute_not_exists(pending)",
                        ExpressionAttributeNames={"#owner": "owner", "#trigger": "trigger"},
                        ExpressionAttributeValues=to_values({":run": run_id}),
                    )
                    return None
                follow_up = follow_up_run(model, pending)
                t.client.update_item(
                    TableName=t.name,
                    Key=self._key(model),
                    UpdateExpression="SET #owner = :next, expires_at = :exp, acquired_at = :now, "
                    "#trigger = :trigger, handed_over_from = :run "
                    "REMOVE pending, pending_ids",
                    ConditionExpression="#owner = :run AND size(pending) = :n",
                    ExpressionAttributeNames={"#owner": "owner", "#trigger": "trigger"},
                    ExpressionAttributeValues=to_values(
                        {
                            ":next": follow_up.run_id,
                            ":exp": (now + ttl).isoformat(),
                            ":now": now.isoformat(),
                            ":trigger": follow_up.trigger.model_dump(mode="json"),
                            ":run": run_id,
                            ":n": len(pending),
                        }
                    ),
                )
                return follow_up
            except Exception as exc:
                if not _conditional_failed(exc):
                    raise
                # A trigger was coalesced meanwhile: read again and include it.
        raise RuntimeError(f"{model}: lock release did not settle after {_ATTEMPTS} attempts")
