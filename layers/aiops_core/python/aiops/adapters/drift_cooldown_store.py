"""Each model's drift-retrain cooldown in the control table (`MODEL#m / DRIFT`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from aiops.adapters.aws import error_code
from aiops.adapters.dynamodb import Table, to_item, to_values
from aiops.drift.decisions import CooldownClaim


class DynamoDriftCooldowns:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self.table = Table(table_name, client)

    @staticmethod
    def _key(model: str) -> dict[str, str]:
        return {"pk": f"MODEL#{model}", "sk": "DRIFT"}

    def claim(
        self, model: str, key: str, run_id: str, now: datetime, cooldown: timedelta
    ) -> CooldownClaim:
        try:
            self.table.client.update_item(
                TableName=self.table.name,
                Key=to_item(self._key(model)),
                UpdateExpression="SET last_run_at = :now, last_signal = :key, last_run_id = :run",
                # One condition, evaluated atomically: concurrent signals get one slot. An item
                # without `last_run_at` holds no slot (a release by an older version of this
                # adapter left such items behind instead of deleting them).
                ConditionExpression=(
                    "attribute_not_exists(last_run_at) OR last_run_at <= :cutoff "
                    "OR last_signal = :key"
                ),
                ExpressionAttributeValues=to_values(
                    {
                        ":now": now.isoformat(),
                        ":key": key,
                        ":run": run_id,
                        ":cutoff": (now - cooldown).isoformat(),
                    }
                ),
            )
        except Exception as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            last = self.table.get(self._key(model)).get("last_run_at")
            return CooldownClaim(
                granted=False, last_run_at=datetime.fromisoformat(last) if last else None
            )
        return CooldownClaim(granted=True)

    def release(self, model: str, run_id: str) -> None:
        # Delete the item, so the slot is as free as if never claimed; only while `run_id` still
        # holds it (a late release must not free a later run's slot).
        try:
            self.table.client.delete_item(
                TableName=self.table.name,
                Key=to_item(self._key(model)),
                ConditionExpression="last_run_id = :run",
                ExpressionAttributeValues=to_values({":run": run_id}),
            )
        except Exception as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
