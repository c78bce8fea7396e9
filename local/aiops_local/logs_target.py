"""EventBridge → CloudWatch Logs targets offline: a matched event is written to the target's log
group as EventBridge writes it there — the event (or the target's transformed input) as the log
event's message, at the event's time, in a log stream named by the event's id.

The log event goes into moto's log group directly, not through PutLogEvents: CloudWatch Logs
refuses events more than 14 days older (or 2 hours newer) than now, and moto compares with the
real clock, while the offline runtime's events carry virtual times (EventBridge delivers as
things happen, so on AWS its log events are never too old). Everything else — the group must
exist, the stream is created by the client — goes through the API. Guarded by
tests/integration/test_event_log.py.
"""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from typing import Any

from moto.logs.models import logs_backends


def log_group_name(arn: str) -> str:
    """`arn:aws:logs:REGION:ACCOUNT:log-group:NAME` (with or without a trailing `:*`) → NAME."""
    _, _, rest = arn.partition(":log-group:")
    return rest.removesuffix(":*")


def _millis(event: dict[str, Any]) -> int:
    # Events on the runtime's bus always carry their time (the queue fills it in).
    try:
        when = datetime.fromisoformat(str(event.get("time")).replace("Z", "+00:00"))
    except ValueError:
        return 0
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1000)


def put_event(
    logs: Any, account: str, region: str, arn: str, event: dict[str, Any], payload: Any
) -> str:
    """Write `payload` (what the target receives) for `event` into the log group of `arn`;
    returns the group's name. Raises the Logs client's error when there is no such group."""
    group = log_group_name(arn)
    stream = str(event.get("id") or "events")
    # The same event delivered again is written into its stream again.
    with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
    message = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
    logs_backends[account][region].groups[group].put_log_events(
        stream, [{"timestamp": _millis(event), "message": message}]
    )
    return group
