"""The audit ledger table: PutItem-only (append), queried per model.

Every decision of the control plane is appended here, so this is where each is counted: a new
entry (not a retried step's repeat) is handed to `on_recorded` (in a function, the `Decisions`
metric; see aiops.adapters.stack).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiops.adapters.aws import error_code
from aiops.adapters.dynamodb import Table, from_item, to_item, to_values
from aiops.ledger import LedgerEntry


class DynamoLedger:
    def __init__(
        self,
        table_name: str,
        client: Any | None = None,
        on_recorded: Callable[[LedgerEntry], None] | None = None,
    ) -> None:
        self.table = Table(table_name, client)
        self._on_recorded = on_recorded

    def append(self, entry: LedgerEntry) -> bool:
        item = {
            "model": entry.model,
            "seq": entry.seq,
            "entry_id": entry.entry_id,
            **entry.model_dump(mode="json", exclude={"model"}),
        }
        try:
            self.table.client.put_item(
                TableName=self.table.name,
                Item=to_item(item),
                ConditionExpression="attribute_not_exists(seq)",
            )
        except Exception as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        if self._on_recorded is not None:
            self._on_recorded(entry)
        return True

    def for_model(self, model: str, limit: int = 100) -> list[LedgerEntry]:
        items = self.table.client.query(
            TableName=self.table.name,
            KeyConditionExpression="model = :m",
            ExpressionAttributeValues=to_values({":m": model}),
            ScanIndexForward=False,
            Limit=limit,
        ).get("Items", [])
        entries = [LedgerEntry.model_validate(from_item(i)) for i in items]
        return list(reversed(entries))
