"""The stack's event log (template parameter EventLog enabled): every event the control plane
consumed, as EventBridge delivered it to the log group, read back with FilterLogEvents; and the
policy parameter's text, exported beside them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiops.adapters.aws import RegionalAdapter, error_code


class EventLogNotFound(LookupError):
    pass


@dataclass(frozen=True)
class LoggedEvent:
    timestamp_ms: int  # the log event's time: the event's own time, as EventBridge logs it
    event: dict[str, Any]


class EventLogReader(RegionalAdapter):
    service = "logs"

    def __init__(self, group: str, client: Any | None = None, region: str | None = None) -> None:
        super().__init__(client, region)
        self.group = group
        self.unreadable = 0  # log events whose message is not an event (not EventBridge's)

    def events(self, start: datetime, end: datetime) -> Iterator[LoggedEvent]:
        """Every event logged from `start` up to `end` (inclusive), page after page, in the
        order CloudWatch Logs returns them (callers sort). `EventLogNotFound` when the group is
        not there."""
        pages = self.client.get_paginator("filter_log_events").paginate(
            logGroupName=self.group,
            startTime=int(start.timestamp() * 1000),
            endTime=int(end.timestamp() * 1000),
        )
        try:
            for page in pages:
                for record in page.get("events", []):
                    event = _event(record.get("message"))
                    if event is None:
                        self.unreadable += 1
                        continue
                    yield LoggedEvent(int(record.get("timestamp", 0)), event)
        except Exception as exc:
            if error_code(exc) == "ResourceNotFoundException":
                raise EventLogNotFound(f"log group {self.group} does not exist") from exc
            raise


def _event(message: Any) -> dict[str, Any] | None:
    if not isinstance(message, str):
        return None
    try:
        event = json.loads(message)
    except ValueError:
        return None
    if isinstance(event, dict) and "source" in event and "detail-type" in event:
        return event
    return None


class PolicyParameterText(RegionalAdapter):
    """The policy YAML as stored in its SSM parameter (PolicyStore ssm), unparsed."""

    service = "ssm"

    def text(self, name: str) -> str:
        response = self.client.get_parameter(Name=name, WithDecryption=True)
        return str(response["Parameter"]["Value"])
