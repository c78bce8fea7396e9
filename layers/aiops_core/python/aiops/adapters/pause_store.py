"""Models' trigger pauses in the control table: `MODEL#m / PAUSE` (read per model: the
policy names the models)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from aiops.adapters.aws import error_code
from aiops.adapters.dynamodb import Table, from_item, to_item, to_values
from aiops.pauses import Pause

# A cause is an audit trail, not a payload: far below DynamoDB's 400 KB item limit.
MAX_CAUSE_BYTES = 32 * 1024


def jsonable_map(value: dict[str, Any], field: str) -> dict[str, Any]:
    """`value` as it reads back from JSON (datetimes as ISO text); a non-finite number or an
    oversized map is refused with the field's name."""
    try:
        text = json.dumps(value, default=str, allow_nan=False, sort_keys=True)
    except ValueError as exc:
        raise ValueError(f"{field}: not storable as JSON ({exc})") from exc
    size = len(text.encode())
    if size > MAX_CAUSE_BYTES:
        raise ValueError(f"{field}: {size} bytes of JSON, at most {MAX_CAUSE_BYTES}")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def utc_text(moment: datetime, field: str) -> str:
    """Fixed-width UTC ISO text, so that stored times compare as strings in conditions."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{field}: {moment.isoformat()} has no time zone")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


class DynamoPauseStore:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self.table = Table(table_name, client)

    @staticmethod
    def _key(model: str) -> dict[str, str]:
        return {"pk": f"MODEL#{model}", "sk": "PAUSE"}

    def get(self, model: str) -> Pause | None:
        return _pause(self.table.get(self._key(model)))

    def pause(self, pause: Pause) -> bool:
        since = utc_text(pause.since, "pause.since")
        until = utc_text(pause.until, "pause.until") if pause.until else None
        cause = jsonable_map(pause.cause, "pause.cause")
        try:
            self.table.client.put_item(
                TableName=self.table.name,
                Item=to_item(
                    {
                        **self._key(pause.model),
                        "model": pause.model,
                        "owner": pause.owner,
                        "reason": pause.reason,
                        "since": since,
                        "until": until,
                        "cause": cause,
                    }
                ),
                # One atomic check: no pause, or one that had expired by the new one's start.
                ConditionExpression=(
                    "attribute_not_exists(pk) OR (attribute_exists(#until) AND #until <= :since)"
                ),
                ExpressionAttributeNames={"#until": "until"},
                ExpressionAttributeValues=to_values({":since": since}),
            )
        except Exception as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def lift(self, model: str) -> Pause | None:
        response = self.table.client.delete_item(
            TableName=self.table.name, Key=to_item(self._key(model)), ReturnValues="ALL_OLD"
        )
        return _pause(from_item(response.get("Attributes")))


def _pause(item: dict[str, Any]) -> Pause | None:
    if not item:
        return None
    return Pause(
        model=item["model"],
        owner=item["owner"],
        reason=item.get("reason", ""),
        since=datetime.fromisoformat(item["since"]),
        until=datetime.fromisoformat(item["until"]) if item.get("until") else None,
        cause=item.get("cause") or {},
    )
