"""Routing with the template's own rules, S3 writes as S3's events, and the timeline they make."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aiops_local import CloudTemplate, LocalCloud

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"


def load(name: str) -> dict:
    return json.loads((EVENTS / name).read_text())


@pytest.fixture(scope="module")
def project_cloud():
    with LocalCloud(ROOT / "template.yaml") as cloud:
        yield cloud


def test_rules_in_moto_are_the_templates_patterns(project_cloud: LocalCloud) -> None:
    template = CloudTemplate(ROOT / "template.yaml")
    expected = {
        str(template.ref(r.logical_id)): template.properties(r.logical_id)["EventPattern"]
        for r in template.of_type("AWS::Events::Rule")
    }
    rules = {
        rule.name: rule.event_pattern.get_pattern()
        for rule in project_cloud.router.rules("default")
    }
    assert rules == expected
    assert "aiops-dev-training-123456789012-us-east-1" in json.dumps(rules)


@pytest.mark.parametrize(
    ("sample", "rule"),
    [
        ("s3_object_created_training.json", "NewDataFunctionTrainingObjectCreated"),
        (
            "sagemaker_pipeline_execution_succeeded.json",
            "PipelineStatusFunctionPipelineExecutionEnded",
        ),
        (
            "sagemaker_pipeline_execution_failed.json",
            "PipelineStatusFunctionPipelineExecutionEnded",
        ),
        ("s3_object_created_labeled.json", "LabeledDataFunctionLabeledObjectCreated"),
        (
            "bedrock_customization_job_completed.json",
            "CustomizationStatusFunctionCustomizationJobEnded",
        ),
        ("cost_anomaly_detected.json", "CostSignalFunctionAnomaly"),
    ],
)
def test_sample_events_route_by_the_templates_rules(
    project_cloud: LocalCloud, sample: str, rule: str | None
) -> None:
    since = len(project_cloud.timeline)
    project_cloud.send_event(load(sample))
    project_cloud.run_until_quiet()
    entries = project_cloud.timeline.entries(since)
    assert entries[0]["kind"] == "event" and entries[0]["id"] == load(sample)["id"]
    routed = [e["rule"] for e in entries if e["kind"] == "rule"]
    assert routed == ([rule] if rule else [])
    assert entries[0]["matched"] == (1 if rule else 0)
