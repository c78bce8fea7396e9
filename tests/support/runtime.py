"""The project on the offline cloud, and scenario steps run against it (runtime tests)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from aiops_local import LocalCloud
from aiops_local.scenario import ScenarioRunner, StepResult, load_scenario
from tests.support.template import ROOT, TEMPLATE


def project_cloud(start: datetime) -> LocalCloud:
    """The offline cloud on the project's own template and default policy, its clock at `start`."""
    return LocalCloud(TEMPLATE, policy=ROOT / "policies" / "default.yaml", start=start)


def run_steps_unchecked(
    cloud: LocalCloud, tmp_path: Path, steps: list[dict[str, Any]]
) -> list[StepResult]:
    """Run scenario steps (parsed from YAML as a scenario file is) against the shared cloud.

    Loading and running may raise `ScenarioError`; the steps' own failures are returned.
    """
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump({"name": "t", "steps": steps}))
    return ScenarioRunner(load_scenario(path), cloud).run()


def run_steps(cloud: LocalCloud, tmp_path: Path, steps: list[dict[str, Any]]) -> None:
    """Run scenario steps against the shared cloud; every step must succeed."""
    results = run_steps_unchecked(cloud, tmp_path, steps)
    assert [r.failures for r in results] == [[] for _ in results]
