"""Every shipped scenario runs offline and all of its expectations hold."""

from __future__ import annotations

from pathlib import Path

import pytest

from aiops_cli.main import main

pytestmark = pytest.mark.e2e

# demo.yaml runs in test_offline_loop.py as `make demo` runs it, with these checks and more: a
# second run here would check nothing new.
DEMO = "demo.yaml"
SCENARIOS = sorted(
    p for p in (Path(__file__).resolve().parents[2] / "scenarios").glob("*.yaml") if p.name != DEMO
)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda p: p.stem)
def test_the_scenarios_expectations_hold(scenario: Path, capsys: pytest.CaptureFixture[str]):
    status = main(["local", "run", "--no-api", str(scenario)])

    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert "expectations hold" in captured.out
