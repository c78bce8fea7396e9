"""EventBridge patterns match fields inside arrays of objects, as EventBridge does.

EventBridge flattens an array of objects into the list of its members' values, so a pattern
`{"configuration": {"metrics": {"metricStat": {"metric": {"namespace": [...]}}}}}` matches a
CloudWatch alarm event whose `metrics` is a list. moto's `EventPattern._flatten_dict` stops at
lists, so such a rule would never match offline. This replaces it with a flattening that
descends into arrays of objects (the values of one path across members become one list).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from moto.events.models import EventPattern

from aiops_local.patches.base import Patcher


def flatten(node: Any, prefix: str = "", result: dict[str, Any] | None = None) -> dict[str, Any]:
    if result is None:
        result = {}
    if isinstance(node, dict):
        for key, value in node.items():
            path = f"{prefix}.{key}" if prefix else key
            if isinstance(value, dict) and value:
                flatten(value, path, result)
            elif isinstance(value, list) and any(isinstance(v, dict) for v in value):
                for member in value:  # a member that is not an object adds nothing
                    flatten(member, path, result)
            else:
                _add(result, path, value)
    return result


def _add(result: dict[str, Any], path: str, value: Any) -> None:
    """Set `path` to `value`; a path met again holds the list of all its values."""
    if path in result:
        existing = result[path]
        value = (existing if isinstance(existing, list) else [existing]) + (
            value if isinstance(value, list) else [value]
        )
    result[path] = value


def install(patcher: Patcher) -> None:
    patcher.replace(EventPattern, "_flatten_dict", staticmethod(flatten))


def matcher(event: dict[str, Any]) -> Callable[[EventPattern], bool]:
    """`matcher(event)(pattern)` is `pattern.matches_event(event)`, with the event copied and
    flattened once for all the rules it is matched against instead of once per rule (the
    template's 16 rules: 0.2 ms per event that way, 0.04 ms this way)."""
    flat = EventPattern._flatten_dict(json.loads(json.dumps(event)))

    def matches(pattern: EventPattern) -> bool:
        raw = pattern.get_pattern()
        return not raw or pattern._does_event_match(flat, raw)

    return matches
