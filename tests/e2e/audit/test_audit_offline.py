"""`aiops audit MODEL --local SCENARIO.yaml`: the shipped scenarios' decision chains, offline."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from aiops_cli.main import main

pytestmark = pytest.mark.e2e

SCENARIOS = Path(__file__).resolve().parents[3] / "scenarios"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def audit(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["audit", *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_given_the_demo_when_churn_is_audited_then_the_chain_runs_from_s3_event_to_approval(
    capsys,
):
    status, out, err = audit(capsys, "churn", "--local", str(SCENARIOS / "demo.yaml"))

    assert status == 0, err
    # Two runs; the deployments their approvals started are decisions of their own.
    assert re.match(r"churn: 2 runs, \d+ standalone decisions", out)
    assert re.search(r"^ {2}\S+Z {2}deployed +v1 serves churn-prod \(created\)", out, re.M)
    assert re.search(r"^ {2}\S+Z {2}rolled_back +alarm churn-prod-5xx", out, re.M)
    assert "run churn-w000001  succeeded" in out
    assert re.search(rf"^ {{14}}event {UUID}, window:w000001$", out, re.MULTILINE)
    assert re.search(r"^ {4}\S+Z {2}retrain_requested +window reached 5 objects", out, re.M)
    assert "execution   churn-w000001  status SUCCEEDED" in out
    assert "arn:aws:states:us-east-1:123456789012:execution:aiops-dev-retrain:churn-w000001" in out
    assert "package     churn/1  approval now Approved" in out
    assert "gate        awaiting approval: automatic checks passed" in out
    # The demo's second run: drift caught by our own check, with its reason.
    assert re.search(
        r"^  trigger     drift: drift check found 2 violation\(s\): baseline_drift_check on "
        r"total_day_minutes, total_eve_minutes$",
        out,
        re.M,
    )
    assert "package     churn/2  approval now Approved" in out


def test_given_a_run_started_by_an_upload_as_json_then_the_event_id_is_the_s3_event_that_started_it(
    capsys,
):
    # retrain_new_data's second run: its fifth object fills the window (the demo's first run is
    # started the same way, at four times the cost of this scenario).
    scenario = str(SCENARIOS / "retrain_new_data.yaml")
    status, out, err = audit(
        capsys, "churn", "--local", scenario, "--json", "--run", "churn-w000002"
    )

    assert status == 0, err
    (chain,) = json.loads(out)["chains"]
    started = next(d for d in chain["decisions"] if d["action"] == "run_started")
    assert re.fullmatch(UUID, chain["trigger"]["event_id"])
    assert chain["trigger"]["event_id"] == started["cause"]["event_id"]
    assert chain["package"]["name"] == "churn/2"


def test_given_the_gate_fails_scenario_when_audited_then_the_rejection_and_its_reason_show(capsys):
    scenario = str(SCENARIOS / "retrain_gate_fails.yaml")

    status, out, err = audit(capsys, "churn", "--local", scenario, "--run", "churn-w000002")

    assert status == 0, err
    assert out.startswith("churn: 1 run, 0 standalone decisions (17 ledger entries; run ")
    assert "package     churn/2  approval now Rejected" in out
    assert (
        "gate        rejected: auc 0.812 vs champion 0.81: improvement +0.002, required 0.005"
    ) in out
    assert "champion churn/1" in out


def test_given_a_model_the_scenario_never_touches_when_audited_then_exit_2(capsys):
    status, out, err = audit(capsys, "fraud", "--local", str(SCENARIOS / "retrain_new_data.yaml"))

    assert (status, out) == (2, "")
    assert "model fraud has no ledger entries" in err


def test_given_a_missing_scenario_file_when_audited_then_exit_2(capsys, tmp_path):
    status, _, err = audit(capsys, "churn", "--local", str(tmp_path / "nope.yaml"))

    assert status == 2
    assert "nope.yaml" in err
