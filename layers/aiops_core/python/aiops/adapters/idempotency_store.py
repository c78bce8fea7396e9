"""Claims on natural keys in the idempotency table (TTL attribute `expiration`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from aiops.adapters.aws import error_code
from aiops.adapters.dynamodb import Table, to_item, to_values


class DynamoIdempotencyStore:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self.table = Table(table_name, client)

    def claim(self, key: str, now: datetime, ttl: timedelta) -> bool:
        try:
            self.table.client.put_item(
                TableName=self.table.name,
                Item=to_item(
                    {
                        "id": key,
                        "expiration": int((now + ttl).timestamp()),
                        "claimed_at": now.isoformat(),
                    }
                ),
                # An expired claim may still be there until DynamoDB's TTL sweeps it.
                ConditionExpression="attribute_not_exists(id) OR expiration < :now",
                ExpressionAttributeValues=to_values({":now": int(now.timestamp())}),
            )
        except Exception as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def confirm(self, key: str, now: datetime, ttl: timedelta) -> None:
        self.table.client.update_item(
            TableName=self.table.name,
            Key=to_item({"id": key}),
            UpdateExpression="SET expiration = :until, done_at = :now",
            ExpressionAttributeValues=to_values(
                {":until": int((now + ttl).timestamp()), ":now": now.isoformat()}
            ),
        )

    def done(self, key: str) -> bool:
        return "done_at" in self.table.get({"id": key})

    def forget(self, key: str) -> None:
        self.table.client.delete_item(TableName=self.table.name, Key=to_item({"id": key}))
