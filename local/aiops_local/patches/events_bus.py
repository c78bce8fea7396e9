"""EventBridge PutEvents puts events on the runtime's bus instead of delivering them itself.

moto's `EventsBackend.put_events` delivers to targets inline and raises NotImplementedError for
Lambda, Step Functions and SNS targets. The runtime routes with the same rules (see router.py),
so here we only validate like PutEvents does and queue the complete event.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from moto.events.exceptions import ValidationException
from moto.events.models import EventsBackend

from aiops_local.bus import EventQueue
from aiops_local.clock import iso
from aiops_local.patches.base import Patcher


def _time(value: Any) -> str | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return iso(value.astimezone(UTC))
    try:
        return iso(datetime.fromtimestamp(float(value), UTC))
    except (TypeError, ValueError):
        return str(value)


def _entry_error(entry: dict[str, Any]) -> dict[str, str] | None:
    for field, name in (("Source", "Source"), ("DetailType", "DetailType"), ("Detail", "Detail")):
        if not entry.get(field):
            return {
                "ErrorCode": "InvalidArgument",
                "ErrorMessage": f"Parameter {name} is not valid. Reason: {name} is a required "
                "argument.",
            }
    try:
        detail = json.loads(entry["Detail"])
    except ValueError:
        return {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."}
    if not isinstance(detail, dict):
        return {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."}
    return None


def install(patcher: Patcher, queue: EventQueue) -> None:
    def put_events(self: EventsBackend, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if len(events) > 10:
            raise ValidationException(
                "1 validation error detected: Value '[PutEventsRequestEntry]' at 'entries' "
                "failed to satisfy constraint: Member must have length less than or equal to 10"
            )
        results: list[dict[str, Any]] = []
        for entry in events:
            error = _entry_error(entry)
            if error is not None:
                results.append(error)
                continue
            event: dict[str, Any] = {
                "source": entry["Source"],
                "detail-type": entry["DetailType"],
                "resources": entry.get("Resources", []),
                "detail": json.loads(entry["Detail"]),
                "account": self.account_id,
                "region": self.region_name,
            }
            when = _time(entry.get("Time"))
            if when is not None:
                event["time"] = when
            bus = str(entry.get("EventBusName") or "default").split("/")[-1]
            results.append({"EventId": queue.put(event, bus)})
        return results

    patcher.replace(EventsBackend, "put_events", put_events)
