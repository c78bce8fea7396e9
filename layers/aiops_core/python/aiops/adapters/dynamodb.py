"""DynamoDB item (de)serialisation shared by the table adapters."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from aiops.adapters.aws import client as default_client


def _serializer() -> Any:
    from boto3.dynamodb.types import TypeSerializer

    return TypeSerializer()


def _deserializer() -> Any:
    from boto3.dynamodb.types import TypeDeserializer

    return TypeDeserializer()


def _to_dynamo(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _to_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_dynamo(v) for v in value]
    return value


def _from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_dynamo(v) for v in value]
    if isinstance(value, set):
        return {_from_dynamo(v) for v in value}
    return value


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    serializer = _serializer()
    return {k: serializer.serialize(_to_dynamo(v)) for k, v in values.items() if v is not None}


def to_values(values: dict[str, Any]) -> dict[str, Any]:
    serializer = _serializer()
    return {k: serializer.serialize(_to_dynamo(v)) for k, v in values.items()}


def from_item(item: dict[str, Any] | None) -> dict[str, Any]:
    if not item:
        return {}
    deserializer = _deserializer()
    return {k: _from_dynamo(deserializer.deserialize(v)) for k, v in item.items()}


class Table:
    """A table name with its lazily created client."""

    def __init__(self, name: str, client: Any | None = None) -> None:
        self.name = name
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = default_client("dynamodb")
        return self._client

    def get(self, key: dict[str, Any]) -> dict[str, Any]:
        response = self.client.get_item(TableName=self.name, Key=to_item(key), ConsistentRead=True)
        return from_item(response.get("Item"))

    def query_all(self, **kwargs: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        paginator_args = {"TableName": self.name, "ConsistentRead": True, **kwargs}
        while True:
            response = self.client.query(**paginator_args)
            items.extend(from_item(i) for i in response.get("Items", []))
            last = response.get("LastEvaluatedKey")
            if not last:
                return items
            paginator_args["ExclusiveStartKey"] = last
