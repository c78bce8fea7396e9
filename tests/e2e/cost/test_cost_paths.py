"""Cost signals through the real entry points, offline: the event bus, the cost function, the
workflows it stops, the dead-letter queue."""

from __future__ import annotations

import json
from pathlib import Path

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
