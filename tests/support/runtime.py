"""Scenario steps run against an already running offline cloud (runtime integration tests)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from aiops_local import LocalCloud
from aiops_local.scenario import ScenarioRunner, load_scenario


def run_steps(cloud: LocalCloud, tmp_path: Path, steps: list[dict[str, Any]]) -> None:
    """Run scenario steps (parsed from YAML as a scenario file is) against the shared cloud."""
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump({"name": "t", "steps": steps}))
    results = ScenarioRunner(load_scenario(path), cloud).run()
    assert [r.failures for r in results] == [[] for _ in results]
