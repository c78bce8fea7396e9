"""The whole loop offline: the real template, handlers and state machine on the embedded AWS."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aiops_cli.main import main
from aiops_local import LocalCloud
from aiops_local.scenario import ScenarioRunner, cloud_for, load_scenario
from tests.support.events import all_event_files

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = all_event_files()


def test_the_demo_scenario_tells_new_data_then_drift() -> None:
    scenario = load_scenario(ROOT / "scenarios" / "demo.yaml")
    with cloud_for(scenario) as cloud:
        results = ScenarioRunner(scenario, cloud).run()
        packages = cloud.packages("churn")
        ledger = cloud.ledger("churn")
        runs = cloud.executions("RetrainStateMachine")
        timeline = cloud.timeline
    actions = [entry["action"] for entry in ledger]
    assert [r.failures for r in results] == [[] for _ in results]
    champion, challenger = sorted(packages, key=lambda p: p["ModelPackageVersion"])
    assert (champion["ModelApprovalStatus"], champion["metrics"]) == ("Approved", {"auc": 0.81})
    # v2 approved on the page, deployed by canary, then rolled back by its 5xx alarm.
    assert challenger["ModelApprovalStatus"] == "Approved"
    assert "churn-prod-5xx" in challenger["CustomerMetadataProperties"]["aiops:rolled-back"]
    assert actions.count("deployed") == 2 and actions.count("rolled_back") == 1
    assert challenger["CustomerMetadataProperties"]["pipeline_execution_arn"]
    assert {"retrain_requested", "candidate_registered", "drift_retrain"} <= set(actions)
    assert [run.status for run in runs] == ["SUCCEEDED", "SUCCEEDED"]
    assert actions.count("awaiting_approval") == 2, "each passing candidate is handed to a human"
    (drift,) = [entry for entry in ledger if entry["action"] == "drift_retrain"]
    drifted = {v["feature_name"] for v in drift["cause"]["violations"]}
    assert drifted == {"total_day_minutes", "total_eve_minutes"}, "only the shifted features"
    # The story in order: data → window full → retrain → pipeline → candidate → drift.
    order = [
        timeline.find("decision", action="retrain_requested")[0]["seq"],
        timeline.find("execution", status="RUNNING", state="StartPipeline")[0]["seq"],
        timeline.find(
            "event", detail_type=("SageMaker Model Building Pipeline Execution Status Change")
        )[0]["seq"],
        timeline.find("decision", action="candidate_registered")[0]["seq"],
        timeline.find("event", detail_type="Drift Check Completed")[0]["seq"],
        timeline.find("decision", action="drift_retrain")[0]["seq"],
    ]
    assert order == sorted(order)


def test_make_demo_command_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    # The Makefile's command; tests/e2e/test_scenarios.py leaves the demo to this test.
    assert main(["local", "run", "--no-api", str(ROOT / "scenarios" / "demo.yaml")]) == 0
    out = capsys.readouterr().out
    assert "candidate_registered" in out and "expectations hold" in out


def test_a_malformed_event_is_dead_lettered_once_with_the_field_and_never_retried() -> None:
    # Given an S3 event without its object key: it can never succeed, however often retried
    sample = ROOT / "events" / "malformed" / "s3_object_created_missing_key.json"
    event = json.loads(sample.read_text())
    with LocalCloud(ROOT / "template.yaml") as cloud:
        # When it is delivered
        cloud.send_event(event)
        cloud.run_until_quiet()
        attempts = cloud.timeline.find("invoke", function="NewDataFunction")
        dead = cloud.timeline.find("dlq")
        messages = cloud.dead_letters("NewDataDeadLetterQueue")
    # Then one invocation rejects it naming the field, and it is kept once with the reason
    assert [a["action"] for a in attempts] == ["rejected"]
    assert "detail.object.key" in attempts[0]["text"]
    assert [d["function"] for d in dead] == ["NewDataFunction"]
    assert [json.loads(m["Body"])["id"] for m in messages] == [event["id"]]
    attributes = {k: v["StringValue"] for k, v in messages[0]["MessageAttributes"].items()}
    assert attributes["ErrorCode"] == "InvalidEvent"
    assert "detail.object.key" in attributes["ErrorMessage"]


def test_every_sample_event_goes_through_send(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["local", "send", "--json", *map(str, SAMPLES)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    received = {line["id"] for line in lines if line["kind"] == "event" and "id" in line}
    assert {json.loads(p.read_text())["id"] for p in SAMPLES} <= received
