"""Gate verdicts in the control table (`VERDICT#<package ARN> / GATE`)."""

from __future__ import annotations

from typing import Any

from aiops.adapters.dynamodb import Table, to_item
from aiops.verdicts import GateVerdict


class DynamoGateVerdicts:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self.table = Table(table_name, client)

    @staticmethod
    def _key(package_arn: str) -> dict[str, str]:
        return {"pk": f"VERDICT#{package_arn}", "sk": "GATE"}

    def record(self, verdict: GateVerdict) -> None:
        self.table.client.put_item(
            TableName=self.table.name,
            Item=to_item({**self._key(verdict.package_arn), **verdict.model_dump(mode="json")}),
        )

    def get(self, package_arn: str) -> GateVerdict | None:
        item = self.table.get(self._key(package_arn))
        if not item:
            return None
        return GateVerdict.model_validate({k: v for k, v in item.items() if k not in ("pk", "sk")})
