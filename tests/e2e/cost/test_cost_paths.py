"""Cost signals through the real entry points, offline: the event bus, the cost function, the
workflows it stops, the dead-letter queue."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from aiops_local import operator_steps
from tests.e2e.finetune.conftest import (
    MODEL,
    actions,
    entries,
    finetune_cloud,
    finetune_executions,
    upload_labels,
)
from tests.support.events import load_event

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[3]
FINETUNE = ROOT / "scenarios" / "policies" / "support_assistant_finetune.yaml"
SPEND_ALARM = "support-assistant-token-spend"


def retrains(cloud: Any) -> list[Any]:
    return [e for e in cloud.executions() if e.state_machine.endswith("-retrain")]


def budget_policy(tmp_path: Path) -> Path:
    """The fine-tune policy with a budget that pauses and stops jobs on the token-spend alarm."""
    text = FINETUNE.read_text().replace(
        "    run_timeout: 12h\n",
        "    run_timeout: 12h\n"
        "    budget:\n"
        "      actions: [notify, pause_triggers, stop_jobs]\n"
        f"      spend_alarms: [{SPEND_ALARM}]\n",
    )
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    return path


def test_a_spend_alarm_stops_the_running_job_and_the_run_carries_its_records(tmp_path: Path):
    with finetune_cloud(
        budget_policy(tmp_path), bedrock_customization={"outcome": "completed", "duration": "3h"}
    ) as cloud:
        # Given the token-spend alarm fires half an hour after a fine-tune starts, whose
        # customization job runs for three hours
        cloud.agenda.after(
            30 * 60,
            "token spend alarm",
            lambda: cloud.set_alarm(SPEND_ALARM, "ALARM", "Threshold Crossed: 9.7E6 tokens"),
        )
        upload_labels(cloud, "a", 210)
        assert "finetune_started" in actions(cloud)

        # Then the job was stopped, the run failed and carried its window, the model is paused
        (stopped,) = [e for e in entries(cloud, "cost_action_done") if "stop_jobs" in e["reason"]]
        assert "model-customization-job/" in stopped["reason"]
        (failed,) = entries(cloud, "run_failed")
        assert failed["cause"]["carried_windows"] == [1]
        # A run the pause's own stop_jobs ended does not count toward setting its data aside.
        assert "paused" in failed["cause"]["failure_not_counted"]
        assert finetune_executions(cloud)[0].status == "FAILED"
        assert any("pause_triggers" in e["reason"] for e in entries(cloud, "cost_action_done"))

        # And labels that reach the threshold while paused start nothing
        upload_labels(cloud, "b", 210, seed=2)
        assert len(finetune_executions(cloud)) == 1
        assert entries(cloud, "run_held")

        # When a person resumes, the held labels start one run, which takes the carried window
        operator_steps.resume(cloud, {"model": MODEL, "as": "genai-lead@example.com"})
        cloud.run_until_quiet()
        assert len(finetune_executions(cloud)) == 2
        (carried,) = entries(cloud, "windows_carried_in")
        assert carried["cause"]["windows"] == [1]


def test_a_malformed_anomaly_is_kept_once_in_the_dead_letter_queue_with_the_field(tmp_path: Path):
    with finetune_cloud(budget_policy(tmp_path)) as cloud:
        # Given an anomaly whose impact no AWS service could report
        event = load_event("cost_anomaly_detected", **{"detail.impact.totalImpact": -212.4})

        # When it is delivered
        cloud.send_event(event)
        cloud.run_until_quiet()

        # Then it is in the cost function's dead-letter queue, once, naming the field; no action
        (message,) = cloud.dead_letters("CostSignalDeadLetterQueue")
        attributes = {k: v.get("StringValue") for k, v in message["MessageAttributes"].items()}
        assert attributes["ErrorCode"] == "InvalidEvent"
        assert "detail.impact.totalImpact" in attributes["ErrorMessage"]
        assert json.loads(message["Body"])["detail"]["anomalyId"] == event["detail"]["anomalyId"]
        assert not [a for a in actions(cloud) if a.startswith("cost_")]


def test_a_follow_up_run_held_by_a_pause_frees_the_lock_and_its_data_goes_to_the_next_run():
    from aiops_local import LocalCloud

    policy = ROOT / "scenarios" / "policies" / "cost.yaml"
    with LocalCloud(
        ROOT / "template.yaml",
        policy=policy,
        start=None,
        simulators={"sagemaker_pipeline": {"duration": "1h", "metrics": {"auc": 0.81}}},
    ) as cloud:

        def upload(prefix: str) -> None:
            for n in range(5):
                cloud.put_object("TrainingDataBucket", f"raw/churn/{prefix}-{n}.csv", size=1024)

        # Given a retrain running for an hour, a second window closing while it runs (its
        # trigger waits on the lock), and an anomaly on churn's usage pausing churn meanwhile
        anomaly = load_event(
            "cost_anomaly_detected",
            **{
                "detail.rootCauses": [
                    {
                        "service": "Amazon SageMaker",
                        "usageType": "USE1-Host:ml.m5.large",
                        "region": "us-east-1",
                        "linkedAccount": cloud.account,
                        "impact": {"contribution": 180.0},
                    }
                ]
            },
        )
        cloud.agenda.after(10 * 60, "second window", lambda: upload("second"))
        cloud.agenda.after(20 * 60, "anomaly", lambda: cloud.send_event(anomaly))
        upload("first")
        cloud.run_until_quiet()

        # Then the first run ended, its follow-up was held, not started, and the lock is free
        ledger = cloud.ledger("churn")
        held = [e for e in ledger if e["action"] == "run_held"]
        assert any("a follow-up retrain run would start" in e["reason"] for e in held)
        # (the second window's run found the lock taken and left its trigger on it)
        assert sorted(e.name for e in retrains(cloud)) == ["churn-w000001", "churn-w000002"]

        # When the pause is lifted and a third window fills
        operator_steps.resume(cloud, {"model": "churn", "as": "ml-lead@example.com"})
        upload("third")
        cloud.run_until_quiet()

        # Then a run starts at once (no lock left behind) and trains on the held window too
        assert sorted(e.name for e in retrains(cloud)) == [
            "churn-w000001",
            "churn-w000002",
            "churn-w000003",
        ]
        carried = [e for e in cloud.ledger("churn") if e["action"] == "windows_carried_in"]
        assert [e["cause"]["windows"] for e in carried] == [[2]]
