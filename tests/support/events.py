"""Sample events from events/: the real shapes AWS sends, loaded by every test."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).resolve().parents[2] / "events"


def load_event(name: str, **overrides: Any) -> dict[str, Any]:
    """`load_event("s3_object_created_training", **{"detail.object.key": "raw/churn/x.csv"})`.

    Overrides use dotted paths into the event; a value of `...` (Ellipsis) deletes the field.
    """
    path = EVENTS / (name if name.endswith(".json") else f"{name}.json")
    event = json.loads(path.read_text())
    for dotted, value in overrides.items():
        target = event
        *parents, leaf = dotted.split(".")
        for part in parents:
            target = target[part]
        if value is Ellipsis:
            target.pop(leaf, None)
        else:
            target[leaf] = copy.deepcopy(value)
    return event


def all_event_files() -> list[Path]:
    return sorted(EVENTS.rglob("*.json"))
