"""Benchmarks: `make bench` writes bench/results.json and prints a table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]


def policy_with_window(directory: Path, model: str, window: dict[str, Any]) -> Path:
    """policies/default.yaml with `model`'s data window replaced, written into `directory`."""
    policy = yaml.safe_load((ROOT / "policies" / "default.yaml").read_text())
    policy["models"][model]["data"]["window"] = window
    path = directory / "bench-policy.yaml"
    path.write_text(yaml.safe_dump(policy))
    return path
