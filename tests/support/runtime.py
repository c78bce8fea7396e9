"""The project on the offline cloud, and scenario steps run against it (runtime tests)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from aiops_local import LocalCloud
from aiops_local.scenario import ScenarioRunner, StepResult, load_scenario
from tests.support.template import ROOT, TEMPLATE
from tests.support.toy_project import write_toy_project


def project_cloud(start: datetime) -> LocalCloud:
    """The offline cloud on the project's own template and default policy, its clock at `start`."""
    return LocalCloud(TEMPLATE, policy=ROOT / "policies" / "default.yaml", start=start)


def toy_cloud_fixtures(start: datetime) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """The `cloud` (one per test) and `shared_cloud` (one per class) fixtures: the offline cloud on
    the toy project (tests/support/toy_project.py), its clock at `start`. A module takes them with
    `cloud, shared_cloud = toy_cloud_fixtures(START)`."""

    @pytest.fixture(name="cloud")
    def cloud(toy_project: Path) -> Iterator[LocalCloud]:
        with LocalCloud(toy_project, start=start) as running:
            yield running

    @pytest.fixture(name="shared_cloud", scope="class")
    def shared_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
        with LocalCloud(write_toy_project(tmp_path_factory.mktemp("toy")), start=start) as running:
            yield running

    return cloud, shared_cloud


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
