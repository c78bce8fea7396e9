"""EventBridge patterns match fields inside arrays of objects, as EventBridge does.

EventBridge flattens an array of objects into the list of its members' values, so a pattern
`{"configuration": {"metrics": {"metricStat": {"metric": {"namespace": [...]}}}}}` matches a
CloudWatch alarm event whose `metrics` is a list. moto's `EventPattern._flatten_dict` stops at
lists, so such a rule would never match offline. This replaces it with a flattening that
descends into arrays of objects (the values of one path across members become one list).
"""

from __future__ import annotations

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
                for member in value:
                    if isinstance(member, dict):
                        _merge(result, flatten(member, path))
            else:
                _merge(result, {path: value})
    return result


def _merge(result: dict[str, Any], values: dict[str, Any]) -> None:
    for path, value in values.items():
        if path not in result:
            result[path] = value
            continue
        existing = result[path]
        merged = existing if isinstance(existing, list) else [existing]
        merged = merged + (value if isinstance(value, list) else [value])
        result[path] = merged


def install(patcher: Patcher) -> None:
    patcher.replace(EventPattern, "_flatten_dict", staticmethod(flatten))
