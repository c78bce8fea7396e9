"""Incoming events are parsed at the edge; a malformed one names the field and the reason."""

from __future__ import annotations

import json

import pytest

from aiops.events import (
    InvalidEvent,
    PipelineExecutionStatusChange,
    S3ObjectCreated,
    parse_event,
)
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
