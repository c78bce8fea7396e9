"""Run ids, coalescing, evaluation reports and human-readable units."""

from __future__ import annotations

from datetime import timedelta

import pytest

from aiops.evaluation import flatten_metrics
from aiops.runs.requests import RunTrigger, follow_up_run, run_for_window
from aiops.units import parse_duration, parse_size


def test_a_window_always_maps_to_the_same_run_id():
    first = run_for_window("churn", 7, "new_data", "full")
    again = run_for_window("churn", 7, "new_data", "full")

    assert first.run_id == again.run_id == "churn-w000007"


def test_a_follow_up_run_coalesces_every_pending_trigger_and_is_order_independent():
    pending = [
        RunTrigger(kind="new_data", trigger_id=f"window:w{n}", reason=f"w{n} full", windows=[n])
        for n in (3, 2, 4)
    ]

    one = follow_up_run("churn", pending)
    other = follow_up_run("churn", list(reversed(pending)))

    assert one.run_id == other.run_id
    assert one.trigger.windows == [2, 3, 4]
    assert one.trigger.reason.startswith("coalesced 3 trigger(s)")


def test_a_follow_up_needs_a_trigger():
    with pytest.raises(ValueError, match="at least one pending trigger"):
        follow_up_run("churn", [])


def test_sagemaker_model_quality_reports_and_flat_metrics_are_read():
    sagemaker = {
        "binary_classification_metrics": {"auc": {"value": 0.81, "standard_deviation": 0.01}}
    }

    assert flatten_metrics(sagemaker) == {"auc": 0.81}
    assert flatten_metrics({"metrics": {"rougeL": 0.4, "ok": True}}) == {"rougeL": 0.4}


@pytest.mark.parametrize(
    "text,expected",
    [
        ("15m", timedelta(minutes=15)),
        ("6h", timedelta(hours=6)),
        ("3d", timedelta(days=3)),
        (90, timedelta(seconds=90)),
    ],
)
def test_durations(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text,expected", [("50MB", 50_000_000), ("1GiB", 2**30), (512, 512)])
def test_sizes(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("bad", ["-1h", "0m", "soon", True])
def test_bad_durations_are_refused(bad):
    with pytest.raises(ValueError):
        parse_duration(bad)


def test_a_lambda_error_report_becomes_its_message_without_the_stack_trace():
    from aiops.runs.steps import failure_summary

    cause = '{"errorMessage": "no package", "errorType": "CandidateMissing", "stackTrace": ["x"]}'

    assert failure_summary("CandidateMissing", cause) == "CandidateMissing: no package"
    assert failure_summary("JobFailed", "pipeline execution Failed") == (
        "JobFailed: pipeline execution Failed"
    )
    assert failure_summary(None, None) is None


def test_a_caught_error_without_a_cause_still_ends_the_run_with_its_error():
    # A Catch's ResultPath object may lack Cause (SendTaskFailure without one): the release
    # step must still read it, or the lock would stay held until its timeout.
    from aiops.runs.steps import EndRunInput

    request = {
        "model": "churn",
        "run_id": "churn-w000001",
        "trigger": {
            "kind": "new_data",
            "trigger_id": "window:w000001",
            "reason": "full",
            "windows": [1],
        },
    }
    bare = EndRunInput.model_validate(
        {"request": request, "outcome": "failed", "failure": {"Error": "JobFailed"}}
    )
    full = EndRunInput.model_validate(
        {"request": request, "outcome": "failed", "failure": {"Error": "E", "Cause": "why"}}
    )

    assert (bare.error, bare.cause) == ("JobFailed", None)
    assert (full.error, full.cause) == ("E", "why")


@pytest.mark.parametrize("text,seconds", [("1h30m", 5400.0), ("250ms", 0.25), ("0s", 0.0)])
def test_compound_durations_in_seconds(text, seconds):
    from aiops.units import duration_seconds

    assert duration_seconds(text) == seconds
