"""EMF offline: a handler's log line that is a CloudWatch embedded metric format document becomes
metric data at the invocation's virtual time (namespace, dimension sets, values and arrays,
units), as CloudWatch Logs extracts it, and alarms on those metrics are evaluated."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from aiops_local import LocalCloud
from aiops_local.emf import EmfError, parse

START = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
NOW_MS = START.timestamp() * 1000


def document(**overrides: Any) -> dict[str, Any]:
    """A Powertools-shaped EMF document: two metrics, one dimension set."""
    base: dict[str, Any] = {
        "_aws": {
            "Timestamp": NOW_MS,
            "CloudWatchMetrics": [
                {
                    "Namespace": "Ops/dev",
                    "Dimensions": [["model", "service"]],
                    "Metrics": [
                        {"Name": "Decisions", "Unit": "Count"},
                        {"Name": "Latency", "Unit": "Milliseconds", "StorageResolution": 1},
                    ],
                }
            ],
        },
        "model": "churn",
        "service": "ops",
        "Decisions": [1.0, 2.0],
        "Latency": 3.5,
    }
    base.update(overrides)
    return base


# ---------------------------------------------------------------------- the format
def test_given_a_powertools_document_then_each_metric_carries_its_dimensions_values_and_unit():
    parsed = parse(json.dumps(document()))

    assert parsed is not None
    assert parsed.timestamp_ms == NOW_MS
    ((namespace, members),) = parsed.metrics
    dimensions = [{"Name": "model", "Value": "churn"}, {"Name": "service", "Value": "ops"}]
    assert namespace == "Ops/dev"
    assert list(members) == [
        {
            "MetricName": "Decisions",
            "Unit": "Count",
            "Values": [1.0, 2.0],
            "Dimensions": dimensions,
        },
        {
            "MetricName": "Latency",
            "Unit": "Milliseconds",
            "StorageResolution": 1,
            "Value": 3.5,
            "Dimensions": dimensions,
        },
    ]


def test_given_two_dimension_sets_then_every_metric_is_published_under_each():
    raw = document()
    raw["_aws"]["CloudWatchMetrics"][0]["Dimensions"] = [["service"], ["model", "service"], []]

    parsed = parse(json.dumps(raw))

    assert parsed is not None
    ((_, members),) = parsed.metrics
    assert [(m["MetricName"], [d["Name"] for d in m["Dimensions"]]) for m in members] == [
        ("Decisions", ["service"]),
        ("Decisions", ["model", "service"]),
        ("Decisions", []),
        ("Latency", ["service"]),
        ("Latency", ["model", "service"]),
        ("Latency", []),
    ]


@pytest.mark.parametrize("line", ["plain text", '{"level": "INFO", "message": "hello"}', "[1, 2]"])
def test_given_a_log_line_that_is_no_emf_document_then_it_is_only_a_log_line(line: str):
    assert parse(line) is None


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda d: d["_aws"].pop("Timestamp"), "_aws.Timestamp must be a number"),
        (lambda d: d["_aws"].update(Timestamp="now"), "_aws.Timestamp must be a number"),
        (lambda d: d["_aws"].pop("CloudWatchMetrics"), "_aws.CloudWatchMetrics must be an array"),
        (lambda d: d.update(model=7), "dimension 'model' must be a non-empty string member"),
        (lambda d: d.pop("service"), "dimension 'service' must be a non-empty string member"),
        (lambda d: d.update(Latency="fast"), "member 'Latency' must be a number or an array"),
        (lambda d: d.pop("Latency"), "member 'Latency' must be a number or an array"),
        (lambda d: d.update(Decisions=list(range(101))), "Decisions holds more than 100 values"),
        (lambda d: d.update(Decisions=[]), "member 'Decisions' must be a number or an array"),
        (
            lambda d: d["_aws"]["CloudWatchMetrics"][0].update(Namespace="AWS/Lambda"),
            "AWS/ namespaces are reserved",
        ),
        (
            lambda d: d["_aws"]["CloudWatchMetrics"][0].update(Namespace="has space"),
            "Namespace must be 1 to 255",
        ),
        (
            lambda d: d["_aws"]["CloudWatchMetrics"][0]["Metrics"][0].update(Unit="Apples"),
            "Unit 'Apples' is not a CloudWatch unit",
        ),
        (
            lambda d: d["_aws"]["CloudWatchMetrics"][0]["Metrics"][1].update(StorageResolution=5),
            "StorageResolution must be 1 or 60",
        ),
        (
            lambda d: d["_aws"]["CloudWatchMetrics"][0].update(
                Dimensions=[[f"d{i}" for i in range(31)]]
            ),
            "holds more than 30 dimensions",
        ),
        (
            lambda d: d["_aws"]["CloudWatchMetrics"][0].update(Metrics=[{"Name": "Latency"}] * 101),
            "holds more than 100 metrics",
        ),
    ],
)
def test_given_a_document_that_breaks_the_specification_then_no_metric_comes_of_it(
    change: Any, says: str
):
    raw = document()
    change(raw)

    with pytest.raises(EmfError, match=says.replace("(", r"\(")):
        parse(json.dumps(raw))


@pytest.mark.parametrize(
    "line", [json.dumps(document()).replace("3.5", "NaN"), '{"_aws": {"Timestamp": 1']
)
def test_given_a_line_that_claims_emf_but_is_no_json_then_it_is_refused(line: str):
    with pytest.raises(EmfError, match="not JSON"):
        parse(line)


# ---------------------------------------------------------------------- in the running cloud
def started(ops_project: Path) -> LocalCloud:
    return LocalCloud(ops_project, start=START)


@pytest.fixture
def cloud_from_a_fixture(ops_project: Path) -> Any:
    with started(ops_project) as cloud:
        yield cloud


def test_given_a_cloud_started_in_a_fixture_then_what_its_handlers_print_is_still_theirs(
    cloud_from_a_fixture: LocalCloud,
):
    # Given pytest swapped sys.stdout since the cloud started (set-up and call capture apart)
    cloud = cloud_from_a_fixture

    # When a handler adds a metric (Powertools prints the EMF document)
    emit(cloud, metrics=[{"name": "Orders", "value": 2}])

    # Then the document reached the invocation's log, and so the metric exists
    assert [p["sum"] for p in datapoints(cloud, "Orders", {"service": "ops"})] == [2.0]


def emit(cloud: LocalCloud, **detail: Any) -> None:
    cloud.send_event({"source": "ops.emf", "detail-type": "Emit", "detail": detail})
    cloud.run_until_quiet()


def datapoints(cloud: LocalCloud, metric: str, dimensions: dict[str, str]) -> list[dict[str, Any]]:
    response = cloud.client("cloudwatch").get_metric_statistics(
        Namespace="Ops/dev",
        MetricName=metric,
        Dimensions=[{"Name": k, "Value": v} for k, v in dimensions.items()],
        StartTime=START - timedelta(days=30),
        EndTime=START + timedelta(days=1),
        Period=60,
        Statistics=["Sum", "SampleCount", "Maximum"],
    )
    return sorted(
        (
            {
                "at": p["Timestamp"].astimezone(UTC),
                "sum": p["Sum"],
                "count": p["SampleCount"],
                "high": p["Maximum"],
                "unit": p["Unit"],
            }
            for p in response["Datapoints"]
        ),
        key=lambda p: p["at"],
    )


def test_given_a_handler_that_adds_metrics_then_they_are_metric_data_at_its_virtual_time(
    ops_project: Path,
):
    with started(ops_project) as cloud:
        cloud.advance("90m")

        emit(cloud, metrics=[{"name": "Orders", "value": 3}, {"name": "Orders", "value": 4}])

        # Powertools stamps the document with the wall clock; it counts at the invocation's moment.
        assert datapoints(cloud, "Orders", {"service": "ops"}) == [
            {
                "at": START + timedelta(minutes=90),
                "sum": 7.0,
                "count": 2.0,
                "high": 4.0,
                "unit": "Count",
            }
        ]
        assert cloud.service_metrics.rejected == []


def test_given_a_document_stamped_on_purpose_then_its_metrics_count_at_that_moment(
    ops_project: Path,
):
    with started(ops_project) as cloud:
        cloud.advance("1h")
        earlier = START + timedelta(minutes=10)
        line = document(
            _aws={**document()["_aws"], "Timestamp": earlier.timestamp() * 1000},
        )

        emit(cloud, lines=[json.dumps(line)])

        assert datapoints(cloud, "Latency", {"model": "churn", "service": "ops"}) == [
            {"at": earlier, "sum": 3.5, "count": 1.0, "high": 3.5, "unit": "Milliseconds"}
        ]


@pytest.mark.parametrize(
    ("offset", "says"),
    [(timedelta(days=-15), "more than 14 days old"), (timedelta(hours=3), "more than 2 hours")],
)
def test_given_a_document_stamped_outside_what_cloudwatch_takes_then_it_is_rejected(
    ops_project: Path, offset: timedelta, says: str
):
    with started(ops_project) as cloud:
        cloud.advance("1h")
        moment = START + timedelta(hours=1) + offset
        line = document(_aws={**document()["_aws"], "Timestamp": moment.timestamp() * 1000})

        emit(cloud, lines=[json.dumps(line)])

        assert datapoints(cloud, "Latency", {"model": "churn", "service": "ops"}) == []
        assert [(r.function, says in r.reason) for r in cloud.service_metrics.rejected] == [
            ("EmfFunction", True)
        ]


def test_given_an_invalid_document_then_it_is_rejected_naming_why_and_the_rest_still_counts(
    ops_project: Path,
):
    with started(ops_project) as cloud:
        broken = document(model=7)

        emit(cloud, lines=[json.dumps(broken)], metrics=[{"name": "Orders", "value": 2}])

        assert [r.reason for r in cloud.service_metrics.rejected] == [
            "_aws.CloudWatchMetrics[0].Dimensions[0]: dimension 'model' must be a non-empty string "
            "member"
        ]
        assert [p["sum"] for p in datapoints(cloud, "Orders", {"service": "ops"})] == [2.0]


def test_given_an_alarm_on_an_emf_metric_then_it_fires_and_clears_as_cloudwatch_evaluates_it(
    ops_project: Path,
):
    with started(ops_project) as cloud:
        emit(cloud, metrics=[{"name": "Orders", "value": 8}, {"name": "Orders", "value": 5}])

        changes = [
            (e["t"], e["event"]["detail"]["state"]["value"])
            for e in cloud.timeline.find("event", detail_type="CloudWatch Alarm State Change")
            if e["event"]["detail"]["alarmName"] == "ops-dev-orders"
        ]
        # 13 orders in the minute (threshold 10): ALARM once the minute is over, OK a minute later.
        assert changes == [(60.0, "ALARM"), (120.0, "OK")]
