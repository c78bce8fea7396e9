"""Each model's drift-retrain cooldown in the control table (`MODEL#m / DRIFT`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from aiops.adapters.aws import error_code
from aiops.adapters.dynamodb import Table, to_item, to_values
from aiops.drift import CooldownClaim


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
                # One condition, evaluated atomically: concurrent signals get one slot.
                ConditionExpression=(
                    "attribute_not_exists(pk) OR last_run_at <= :cutoff OR last_signal = :key"
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
        try:
            self.table.client.update_item(
                TableName=self.table.name,
                Key=to_item(self._key(model)),
                UpdateExpression="REMOVE last_run_at, last_signal, last_run_id",
                ConditionExpression="last_run_id = :run",
                ExpressionAttributeValues=to_values({":run": run_id}),
            )
        except Exception as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
