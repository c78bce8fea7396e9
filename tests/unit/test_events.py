"""Incoming events are parsed at the edge; a malformed one names the field and the reason."""

from __future__ import annotations

import json

import pytest

from aiops.drift.decisions import parse_drift_event
from aiops.events import InvalidEvent, parse_event
from aiops.events.cloudwatch import AlarmStateChange
from aiops.events.control_plane import DriftCheckCompleted
from aiops.events.s3 import S3ObjectCreated
from aiops.events.sagemaker import PipelineExecutionStatusChange, ProcessingJobStateChange
from tests.support.events import all_event_files, load_event

ENVELOPE = {
    "version",
    "id",
    "detail-type",
    "source",
    "account",
    "time",
    "region",
    "resources",
    "detail",
}


@pytest.mark.parametrize("path", all_event_files(), ids=lambda p: p.name)
def test_every_sample_event_has_the_eventbridge_envelope(path):
    event = json.loads(path.read_text())

    assert set(event) == ENVELOPE


def test_the_training_sample_parses_with_key_size_and_version():
    created = parse_event(S3ObjectCreated, load_event("s3_object_created_training"))

    assert created.detail.object.key.startswith("raw/churn/")
    assert created.detail.object.size > 0
    assert created.detail.object.version_id


def test_a_missing_object_key_is_rejected_naming_the_field():
    with pytest.raises(InvalidEvent) as caught:
        parse_event(S3ObjectCreated, load_event("malformed/s3_object_created_missing_key"))

    assert "detail.object.key: Field required" in str(caught.value)


def test_a_negative_size_is_rejected_naming_the_field():
    with pytest.raises(InvalidEvent) as caught:
        parse_event(S3ObjectCreated, load_event("malformed/s3_object_created_negative_size"))

    assert "detail.object.size" in str(caught.value)


@pytest.mark.parametrize(
    "name,status",
    [
        ("sagemaker_pipeline_execution_succeeded", "Succeeded"),
        ("sagemaker_pipeline_execution_failed", "Failed"),
    ],
)
def test_pipeline_status_samples_parse(name, status):
    change = parse_event(PipelineExecutionStatusChange, load_event(name))

    assert change.detail.current_status == status
    assert change.detail.pipeline_execution_arn.startswith("arn:aws:sagemaker:")


def test_an_event_of_another_kind_is_rejected_not_misread():
    with pytest.raises(InvalidEvent) as caught:
        parse_event(S3ObjectCreated, load_event("sagemaker_pipeline_execution_succeeded"))

    assert "source" in str(caught.value)


# --- every field bounded by what AWS itself allows ----------------------------------------------

TRAINING = "s3_object_created_training"
PIPELINE = "sagemaker_pipeline_execution_succeeded"
MONITOR = "sagemaker_monitoring_job_completed_with_violations"
ALARM = "cloudwatch_alarm_model_monitor_drift"
CHECK = "aiops_drift_check_completed"
TIB = 2**40
ARTIFACTS_URI = "s3://aiops-dev-artifacts-123456789012-us-east-1/"


def _event_model(name: str) -> type:
    return {
        TRAINING: S3ObjectCreated,
        PIPELINE: PipelineExecutionStatusChange,
        MONITOR: ProcessingJobStateChange,
        ALARM: AlarmStateChange,
        CHECK: DriftCheckCompleted,
    }[name]


IMPOSSIBLE = [
    # S3 Object Created: sizes no S3 object has, and integers that are not integers.
    (TRAINING, "detail.object.size", 2**64, "detail.object.size"),
    (TRAINING, "detail.object.size", 2**1000, "detail.object.size"),
    (TRAINING, "detail.object.size", 5 * TIB + 1, "less than or equal to 5497558138880"),
    (TRAINING, "detail.object.size", 1e3, "detail.object.size: Input should be a valid integer"),
    (TRAINING, "detail.object.size", True, "detail.object.size: Input should be a valid integer"),
    (TRAINING, "detail.object.size", "1024", "detail.object.size: Input should be a valid integer"),
    (TRAINING, "detail.object.key", "k" * 1025, "1025 bytes of UTF-8, more than the 1024"),
    (TRAINING, "detail.object.key", "€" * 342, "1026 bytes of UTF-8, more than the 1024"),
    (TRAINING, "detail.object.key", "raw/churn/\ud800.csv", "detail.object.key"),
    (TRAINING, "detail.bucket.name", "ab", "detail.bucket.name"),
    (TRAINING, "detail.bucket.name", "b" * 64, "detail.bucket.name"),
    (TRAINING, "detail.object.version-id", "v" * 1025, "detail.object.version-id"),
    (TRAINING, "detail.object.etag", "e" * 1025, "detail.object.etag"),
    (TRAINING, "detail.object.sequencer", "0" * 1025, "detail.object.sequencer"),
    (TRAINING, "detail.reason", "r" * 257, "detail.reason"),
    # The envelope of every event.
    (TRAINING, "id", "i" * 257, "id: String should have at most 256 characters"),
    (TRAINING, "time", "0001-01-01T00:00:00Z", "time: Value error, must be in the years 2000"),
    (TRAINING, "time", "9999-12-31T23:59:59Z", "time: Value error, must be in the years 2000"),
    (TRAINING, "time", "9999-12-31T23:59:59-01:00", "time: Value error, must be in the years"),
    (TRAINING, "time", "0001-01-01T00:00:00+01:00", "time: Value error, must be in the years"),
    (TRAINING, "time", 1795144898, "time: Value error, must be an ISO 8601 time as text"),
    (TRAINING, "time", "2026-11-20T03:05:12", "time: Input should have timezone info"),
    (TRAINING, "time", "2026-11-20T03:05:12" + "0" * 60 + "Z", "time: Value error, is longer"),
    (TRAINING, "account", "1" * 13, "account"),
    (TRAINING, "resources", ["a" * 2049], "resources.0"),
    # SageMaker pipeline execution.
    (PIPELINE, "detail.pipelineExecutionArn", "a" * 2049, "detail.pipelineExecutionArn"),
    (PIPELINE, "detail.pipelineArn", "a" * 2049, "detail.pipelineArn"),
    (PIPELINE, "detail.pipelineExecutionDisplayName", "n" * 257, "pipelineExecutionDisplayName"),
    # Model Monitor execution.
    (MONITOR, "detail.ProcessingJobName", "j" * 64, "detail.ProcessingJobName"),
    (MONITOR, "detail.ProcessingJobArn", "a" * 2049, "detail.ProcessingJobArn"),
    (MONITOR, "detail.MonitoringScheduleArn", "a" * 2049, "detail.MonitoringScheduleArn"),
    (MONITOR, "detail.ExitMessage", "m" * 1025, "detail.ExitMessage"),
    (MONITOR, "detail.Environment", {"k": "v" * 1025}, "detail.Environment.k"),
    (
        MONITOR,
        "detail.ProcessingOutputConfig",
        {"Outputs": [{"S3Output": {"S3Uri": ARTIFACTS_URI + "k" * 2048}}]},
        "detail.ProcessingOutputConfig.Outputs.0.S3Output.S3Uri",
    ),
    # CloudWatch alarm.
    (ALARM, "detail.alarmName", "a" * 256, "detail.alarmName"),
    (ALARM, "detail.state.timestamp", "2026-11-20T03:26:41.511+0000" * 3, "detail.state.timestamp"),
    (ALARM, "detail.state.reason", "r" * 1025, "detail.state.reason"),
    # Our own drift check's event.
    (CHECK, "detail.report_uri", ARTIFACTS_URI + "d" * 2048, "detail.report_uri"),
    (CHECK, "detail.report_uri", ARTIFACTS_URI + "é" * 550, "1148 bytes of UTF-8"),
    (CHECK, "detail.violations", 100_001, "detail.violations"),
    (CHECK, "detail.violations", 2**64, "detail.violations"),
    (CHECK, "detail.violations", 3.0, "detail.violations: Input should be a valid integer"),
    (CHECK, "detail.violations", True, "detail.violations: Input should be a valid integer"),
    (CHECK, "detail.checked_at", "0001-01-01T00:00:00Z", "detail.checked_at"),
    (CHECK, "detail.checked_at", "2999-01-01T00:00:00Z", "detail.checked_at"),
    (CHECK, "detail.endpoint", "e" * 64, "detail.endpoint"),
    (CHECK, "detail.model", "m" * 257, "detail.model"),
]


@pytest.mark.parametrize(
    ("sample", "field", "value", "expected"),
    IMPOSSIBLE,
    ids=[f"{s}:{f}:{str(v)[:12]}" for s, f, v, _ in IMPOSSIBLE],
)
def test_given_a_value_no_aws_service_can_send_when_parsed_then_rejected_naming_the_field(
    sample, field, value, expected
):
    raw = load_event(sample, **{field: value})

    with pytest.raises(InvalidEvent) as caught:
        parse_event(_event_model(sample), raw)

    assert expected in str(caught.value)


@pytest.mark.parametrize(
    ("sample", "field", "value"),
    [
        (TRAINING, "detail.object.size", 5 * TIB),
        (TRAINING, "detail.object.key", "k" * 1024),
        (TRAINING, "detail.object.key", "€" * 341 + "k"),  # 1,024 bytes in 342 characters
        (TRAINING, "detail.bucket.name", "abc"),
        (TRAINING, "detail.bucket.name", "b" * 63),
        (MONITOR, "detail.ProcessingJobName", "j" * 63),
        (ALARM, "detail.alarmName", "a" * 255),
        (CHECK, "detail.violations", 100_000),
        (CHECK, "detail.report_uri", "s3://" + "b" * 63 + "/" + "k" * 1024),
        (CHECK, "detail.checked_at", "2026-11-20T03:05:11.123456+01:00"),
    ],
    ids=lambda v: str(v)[:16],
)
def test_given_a_value_at_the_aws_bound_when_parsed_then_accepted(sample, field, value):
    parsed = parse_event(_event_model(sample), load_event(sample, **{field: value}))

    assert parsed.id


def test_given_a_2_to_the_64_byte_object_when_parsed_then_the_5_tib_bound_rejects_it():
    raw = load_event(TRAINING, **{"detail.object.size": 2**64})

    with pytest.raises(InvalidEvent) as caught:
        parse_event(S3ObjectCreated, raw)

    assert caught.value.problems == [
        "detail.object.size: Input should be less than or equal to 5497558138880"
    ]


def test_given_a_2_kb_report_uri_when_the_drift_handler_parses_it_then_it_names_the_field():
    raw = load_event(CHECK, **{"detail.report_uri": ARTIFACTS_URI + "d" * 2048})

    with pytest.raises(InvalidEvent) as caught:
        parse_drift_event(raw)

    (problem,) = caught.value.problems
    assert "detail.report_uri" in problem and "more than the 1093 AWS allows" in problem


@pytest.mark.parametrize("sample", [MONITOR, ALARM, CHECK])
def test_given_each_drift_source_when_the_drift_handler_parses_it_then_its_own_model_is_used(
    sample,
):
    parsed = parse_drift_event(load_event(sample))

    assert type(parsed) is _event_model(sample)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (load_event(TRAINING), "'Object Created'"),
        (load_event(CHECK, **{"detail-type": ...}), "None"),
        (load_event(CHECK, **{"detail-type": 7}), "7"),
        (["not", "an", "object"], "not a JSON object"),
    ],
    ids=["another-event", "no-detail-type", "not-text", "not-an-object"],
)
def test_given_an_event_the_drift_handler_does_not_consume_then_its_detail_type_is_named(
    raw, shown
):
    with pytest.raises(InvalidEvent) as caught:
        parse_drift_event(raw)

    (problem,) = caught.value.problems
    assert problem.startswith("detail-type: must be one of 'SageMaker Processing Job State")
    assert problem.endswith(f"(is {shown})")


@pytest.mark.parametrize("sample", [TRAINING, PIPELINE, MONITOR, ALARM, CHECK])
def test_given_the_real_shaped_samples_when_parsed_then_every_bound_holds(sample):
    assert parse_event(_event_model(sample), load_event(sample)).id


# ---------------------------------------------------------------- model package state change
def test_the_package_approved_sample_parses_with_group_version_and_status():
    from aiops.events.sagemaker import ModelPackageStateChange

    change = parse_event(ModelPackageStateChange, load_event("sagemaker_model_package_approved"))

    assert (change.detail.package_group, change.detail.version) == ("churn", 3)
    assert change.detail.approval_status == "Approved"
    assert change.detail.updated_fields == ["ModelApprovalStatus"]


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("ModelPackageVersion", "abc", "ModelPackageVersion"),
        ("ModelPackageVersion", 0, "ModelPackageVersion"),
        ("ModelPackageArn", "not-an-arn", "ModelPackageArn"),
        ("ModelApprovalStatus", "Maybe", "ModelApprovalStatus"),
        ("ModelPackageGroupName", "bad group!", "ModelPackageGroupName"),
    ],
)
def test_a_package_state_change_with_an_impossible_field_is_rejected_naming_it(field, value, named):
    from aiops.events.sagemaker import ModelPackageStateChange

    event = load_event("sagemaker_model_package_approved")
    event["detail"][field] = value

    with pytest.raises(InvalidEvent, match=named):
        parse_event(ModelPackageStateChange, event)
