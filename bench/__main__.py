"""`python -m bench`: run every benchmark, merge into bench/results.json, print the tables."""

from __future__ import annotations

import importlib
import json
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results.json"
# Each module exposes run() -> dict and table(dict) -> str. Later issues add theirs here.
SECTIONS = [
    "cold_start",
    "runtime",
    "retrain",
    "approval",
    "deploy",
    "validation",
    "costs",
    "replay",
    "policy_delivery",
]


def main() -> None:
    results: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    results["machine"] = {"python": platform.python_version(), "cpus": _cpus()}
    for section in SECTIONS:
        try:
            module = importlib.import_module(f"bench.{section}")
        except ModuleNotFoundError as exc:
            if exc.name != f"bench.{section}":
                raise
            continue
        results[section] = module.run()
        print(module.table(results[section]))
        print()
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {RESULTS}")


def _cpus() -> int:
    import os

    return os.cpu_count() or 0


if __name__ == "__main__":
    main()
