"""Every shipped scenario runs offline and all of its expectations hold."""

from __future__ import annotations

from pathlib import Path

import pytest

from aiops_cli.main import main

pytestmark = pytest.mark.e2e

SCENARIOS = sorted((Path(__file__).resolve().parents[2] / "scenarios").glob("*.yaml"))


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda p: p.stem)
def test_the_scenarios_expectations_hold(scenario: Path, capsys: pytest.CaptureFixture[str]):
    status = main(["local", "run", "--no-api", str(scenario)])

    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert "expectations hold" in captured.out
