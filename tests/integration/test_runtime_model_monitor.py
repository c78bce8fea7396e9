"""The Model Monitor simulator and the `monitoring_execution` step, on the project's template."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from aiops_local import LocalCloud
from aiops_local.scenario import ScenarioError
from tests.support.events import load_event
from tests.support.runtime import project_cloud, run_steps, run_steps_unchecked

START = datetime(2026, 11, 20, 3, 4, 12, tzinfo=UTC)
DETAIL_TYPE = "SageMaker Processing Job State Change"
DRIFT = [
    {
        "feature_name": "total_day_minutes",
        "constraint_check_type": "baseline_drift_check",
        "description": "Baseline drift distance: 0.31 exceeds threshold: 0.1",
    },
    {
        "feature_name": "state",
        "constraint_check_type": "categorical_values_check",
        "description": "Data type match: 70% of values are in the baseline's categories",
    },
]


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with project_cloud(START) as running:
        yield running


def monitoring_events(cloud: LocalCloud, since: int) -> list[dict[str, Any]]:
    return [
        e["event"]
        for e in cloud.timeline.entries(since)
        if e["kind"] == "event" and e.get("detail_type") == DETAIL_TYPE
    ]


def shape(value: Any) -> Any:
    """The structure of a JSON value: keys and element shapes all the way down, leaves as types."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(v) for v in value]
    return type(value).__name__


def execute(cloud: LocalCloud, tmp_path: Path, **step: Any) -> dict[str, Any]:
    """Run one `monitoring_execution` step; the one event it sent."""
    since = len(cloud.timeline)
    run_steps(cloud, tmp_path, [{"monitoring_execution": step}])
    (event,) = monitoring_events(cloud, since)
    return event


def report_location(event: dict[str, Any]) -> tuple[str, str]:
    """The bucket and key prefix of the execution's output, as its event names them."""
    uri = event["detail"]["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    return bucket, prefix


def read_report(cloud: LocalCloud, event: dict[str, Any]) -> bytes:
    bucket, prefix = report_location(event)
    body = cloud.client("s3").get_object(Bucket=bucket, Key=f"{prefix}/constraint_violations.json")
    return bytes(body["Body"].read())


def report_keys(cloud: LocalCloud, event: dict[str, Any]) -> list[str]:
    bucket, prefix = report_location(event)
    listed = cloud.client("s3").list_objects_v2(Bucket=bucket, Prefix=f"{prefix}/")
    return [o["Key"] for o in listed.get("Contents", [])]


def test_given_violations_when_an_execution_runs_then_its_event_has_the_samples_shape(
    cloud: LocalCloud, tmp_path: Path
) -> None:
    event = execute(cloud, tmp_path, endpoint="churn-prod", violations=DRIFT)

    sample = load_event("sagemaker_monitoring_job_completed_with_violations")
    assert set(event["detail"]) == set(sample["detail"])
    assert shape(event["detail"]) == shape(sample["detail"])
    assert (event["source"], event["detail-type"]) == (sample["source"], sample["detail-type"])
    detail = event["detail"]
    assert re.fullmatch(r"model-monitoring-202611200300-[0-9a-f]{24}", detail["ProcessingJobName"])
    assert event["resources"] == [detail["ProcessingJobArn"]]
    assert detail["ProcessingJobArn"].endswith(f":processing-job/{detail['ProcessingJobName']}")
    assert detail["ProcessingJobStatus"] == "Completed"
    assert detail["ExitMessage"] == (
        "CompletedWithViolations: Job completed successfully with 2 violations."
    )
    assert detail["MonitoringScheduleArn"] == (
        "arn:aws:sagemaker:us-east-1:123456789012:monitoring-schedule/churn-prod-data-quality"
    )
    # The run is the sample's: same endpoint, schedule, hour, so the same locations.
    for key in ("sagemaker_endpoint_name", "sagemaker_monitoring_schedule_name", "start_time"):
        assert detail["Environment"][key] == sample["detail"]["Environment"][key]
    assert detail["Environment"]["end_time"] == sample["detail"]["Environment"]["end_time"]
    assert detail["ProcessingOutputConfig"] == sample["detail"]["ProcessingOutputConfig"]
    assert detail["ProcessingInputs"] == sample["detail"]["ProcessingInputs"]
    assert detail["CreationTime"] == int(START.timestamp() * 1000)


def test_given_violations_when_an_execution_runs_then_the_report_is_at_the_events_s3uri(
    cloud: LocalCloud, tmp_path: Path
) -> None:
    event = execute(cloud, tmp_path, endpoint="churn-prod", violations=DRIFT)

    assert json.loads(read_report(cloud, event)) == {"violations": DRIFT}


def test_given_no_violations_when_an_execution_runs_then_it_completes_with_an_empty_report(
    cloud: LocalCloud, tmp_path: Path
) -> None:
    event = execute(cloud, tmp_path, endpoint="churn-prod", schedule="churn-prod-nightly")

    sample = load_event("sagemaker_monitoring_job_completed_no_violations")
    assert shape(event["detail"]) == shape(sample["detail"])
    assert event["detail"]["ExitMessage"] == sample["detail"]["ExitMessage"]
    assert event["detail"]["Environment"]["sagemaker_monitoring_schedule_name"] == (
        "churn-prod-nightly"
    )
    assert (
        "/churn-prod/churn-prod-nightly/2026/11/20/03"
        in (event["detail"]["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"])
    )
    assert json.loads(read_report(cloud, event)) == {"violations": []}


def test_given_report_missing_when_an_execution_runs_then_the_event_points_at_no_report(
    cloud: LocalCloud, tmp_path: Path
) -> None:
    event = execute(cloud, tmp_path, endpoint="churn-canary", violations=DRIFT, report="missing")

    assert event["detail"]["ProcessingJobStatus"] == "Completed"
    assert report_keys(cloud, event) == []


def test_given_report_malformed_when_an_execution_runs_then_the_report_is_not_json(
    cloud: LocalCloud, tmp_path: Path
) -> None:
    event = execute(cloud, tmp_path, endpoint="churn-shadow", violations=DRIFT, report="malformed")

    with pytest.raises(ValueError):
        json.loads(read_report(cloud, event))


def test_given_status_failed_when_an_execution_runs_then_it_has_a_failure_reason_and_no_report(
    cloud: LocalCloud, tmp_path: Path
) -> None:
    event = execute(
        cloud,
        tmp_path,
        endpoint="churn-failing",
        status="Failed",
        failure_reason="AlgorithmError: no data captured",
    )

    detail = event["detail"]
    assert detail["ProcessingJobStatus"] == "Failed"
    assert detail["FailureReason"] == "AlgorithmError: no data captured"
    assert "ExitMessage" not in detail
    assert report_keys(cloud, event) == []


def test_given_a_duration_when_an_execution_runs_then_it_ends_that_much_later(
    cloud: LocalCloud, tmp_path: Path
) -> None:
    before = cloud.clock.time()

    event = execute(cloud, tmp_path, endpoint="churn-slow", duration="17m")

    detail = event["detail"]
    assert detail["ProcessingEndTime"] - detail["CreationTime"] == 17 * 60 * 1000
    assert detail["CreationTime"] == int(before * 1000)
    assert detail["CreationTime"] <= detail["ProcessingStartTime"] <= detail["ProcessingEndTime"]


@pytest.mark.parametrize(
    "arg",
    [
        {"violations": []},  # no endpoint
        {"endpoint": "churn-prod", "report": "lost"},
        {"endpoint": "churn-prod", "status": "Stopped"},
        {"endpoint": "churn-prod", "violations": [{"feature_name": "state"}]},
        {"endpoint": "churn-prod", "every": "1h"},  # a setting, not a step argument
        "churn-prod",
    ],
)
def test_given_a_wrong_step_when_it_runs_then_the_scenario_is_wrong(
    cloud: LocalCloud, tmp_path: Path, arg: Any
) -> None:
    since = len(cloud.timeline)

    with pytest.raises(ScenarioError, match="step 1"):
        run_steps_unchecked(cloud, tmp_path, [{"monitoring_execution": arg}])

    assert monitoring_events(cloud, since) == []


def test_given_every_1h_when_time_advances_then_executions_run_on_the_schedule(
    cloud: LocalCloud,
) -> None:
    monitor = cloud.simulators["model_monitor"]
    monitor.configure({"endpoint": "churn-hourly", "every": "1h"})
    try:
        since = len(cloud.timeline)
        cloud.run_until_quiet()
        assert monitoring_events(cloud, since) == [], "a schedule never moves time by itself"

        cloud.advance("1h")
        ticked = monitoring_events(cloud, since)
        tick_hour = cloud.clock.now().strftime("%Y%m%d%H00")

        monitor.configure({"every": None})
        stopped_at = len(cloud.timeline)
        cloud.advance("2h")
        after_stop = monitoring_events(cloud, stopped_at)
    finally:
        monitor.configure({"endpoint": None, "every": None})
    (event,) = ticked
    assert event["detail"]["Environment"]["sagemaker_endpoint_name"] == "churn-hourly"
    assert event["detail"]["ProcessingJobName"].startswith(f"model-monitoring-{tick_hour}-")
    assert after_stop == []
