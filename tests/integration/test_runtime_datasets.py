"""Generated datasets (`aiops_local.datasets`) and the `put_dataset` step."""

from __future__ import annotations

import csv
import io
import json
import statistics
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from aiops_local import LocalCloud
from aiops_local.datasets import (
    COLUMNS,
    FEATURE_NAMES,
    LABEL,
    DatasetSpec,
    Row,
    check_shift,
    generate,
    to_capture,
    to_csv,
)
from aiops_local.scenario import ScenarioError
from tests.support.runtime import project_cloud, run_steps, run_steps_unchecked

START = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
ROWS = 2000
BASE_STATES = {"CA", "TX", "NY", "FL", "IL", "PA", "OH", "GA", "NC", "MI"}


def column(rows: list[Row], name: str) -> list[Any]:
    return [r.values[name] for r in rows]


def present(rows: list[Row], name: str) -> list[Any]:
    return [v for v in column(rows, name) if v is not None]


def missing_rate(rows: list[Row], name: str) -> float:
    return column(rows, name).count(None) / len(rows)


# ---------------------------------------------------------------------- the generator
def test_given_a_seed_when_generated_twice_then_the_bytes_are_the_same() -> None:
    first = to_csv(generate(300, seed=7)), to_capture(generate(300, seed=7), 7, START)
    second = to_csv(generate(300, seed=7)), to_capture(generate(300, seed=7), 7, START)

    assert first == second


def test_given_two_seeds_when_generated_then_the_rows_differ() -> None:
    assert to_csv(generate(300, seed=7)) != to_csv(generate(300, seed=8))


def test_given_csv_format_when_rendered_then_a_header_and_one_labelled_line_per_row() -> None:
    text = to_csv(generate(300, seed=1))

    reader = csv.reader(io.StringIO(text))
    header, *lines = list(reader)
    assert header == list(COLUMNS)
    assert header[-1] == LABEL == "churned"
    assert len(lines) == 300
    assert {line[-1] for line in lines} == {"0", "1"}
    assert all(len(line) == len(COLUMNS) for line in lines)


def test_given_the_schema_when_generated_then_each_column_has_its_type_and_range() -> None:
    rows = generate(ROWS, seed=3)

    assert all(isinstance(v, int) and v >= 1 for v in present(rows, "account_length"))
    assert all(isinstance(v, float) and v >= 0 for v in present(rows, "total_day_minutes"))
    assert all(isinstance(v, float) and v >= 0 for v in present(rows, "total_eve_minutes"))
    assert all(isinstance(v, int) and v >= 0 for v in present(rows, "customer_service_calls"))
    assert set(present(rows, "intl_plan")) == {"yes", "no"}
    assert set(present(rows, "state")) == BASE_STATES
    assert set(column(rows, LABEL)) == {0, 1}
    assert 0.05 < statistics.mean(column(rows, LABEL)) < 0.25
    for name in FEATURE_NAMES:
        assert 0.0 < missing_rate(rows, name) < 0.03, name


def test_given_capture_format_when_rendered_then_each_line_is_a_capture_record() -> None:
    rows = generate(120, seed=5)

    lines = to_capture(rows, 5, end=START).splitlines()

    assert len(lines) == len(rows)
    records = [json.loads(line) for line in lines]
    for record, row in zip(records, rows, strict=True):
        given = record["captureData"]["endpointInput"]
        answered = record["captureData"]["endpointOutput"]
        assert (given["observedContentType"], given["mode"], given["encoding"]) == (
            "text/csv",
            "INPUT",
            "CSV",
        )
        fields = next(csv.reader([given["data"]]))
        assert len(fields) == len(FEATURE_NAMES), "the features only, no label"
        assert fields[FEATURE_NAMES.index("state")] == (row.values["state"] or "")
        assert (answered["mode"], answered["encoding"]) == ("OUTPUT", "CSV")
        assert 0.0 <= float(answered["data"]) <= 1.0
        assert record["eventVersion"] == "0"
        inferred = datetime.strptime(
            record["eventMetadata"]["inferenceTime"], "%Y-%m-%dT%H:%M:%SZ"
        ).replace(tzinfo=UTC)
        assert START - timedelta(hours=1) <= inferred < START
    assert len({r["eventMetadata"]["eventId"] for r in records}) == len(records)


# ---------------------------------------------------------------------- shifts
def test_given_a_mean_shift_when_generated_then_that_column_moves_and_no_other() -> None:
    base = generate(ROWS, seed=11)

    shifted = generate(ROWS, seed=11, shift={"total_day_minutes": {"mean": 60}})

    moved = statistics.mean(present(shifted, "total_day_minutes")) - statistics.mean(
        present(base, "total_day_minutes")
    )
    assert 58 < moved < 62
    for name in FEATURE_NAMES:
        if name != "total_day_minutes":
            assert column(shifted, name) == column(base, name), name


def test_given_a_scale_shift_when_generated_then_the_spread_widens() -> None:
    base = generate(ROWS, seed=12)

    shifted = generate(ROWS, seed=12, shift={"total_eve_minutes": {"scale": 2}})

    ratio = statistics.pstdev(present(shifted, "total_eve_minutes")) / statistics.pstdev(
        present(base, "total_eve_minutes")
    )
    assert 1.8 < ratio < 2.2


def test_given_new_categories_when_generated_then_that_share_of_states_is_unseen() -> None:
    base = generate(ROWS, seed=13)

    shifted = generate(ROWS, seed=13, shift={"state": {"new_categories": 0.3}})

    def unseen(rows: list[Row]) -> float:
        states = present(rows, "state")
        return sum(s not in BASE_STATES for s in states) / len(states)

    assert unseen(base) == 0
    assert 0.26 < unseen(shifted) < 0.34
    assert all(len(s) == 2 and s.isupper() for s in present(shifted, "state"))


def test_given_a_share_shift_when_generated_then_that_value_has_that_share() -> None:
    shifted = generate(ROWS, seed=14, shift={"intl_plan": {"share": {"yes": 0.5}}})

    plans = present(shifted, "intl_plan")
    assert 0.46 < plans.count("yes") / len(plans) < 0.54


def test_given_yaml_yes_as_a_share_key_when_checked_then_it_means_the_value_yes() -> None:
    shift = yaml.safe_load("intl_plan: {share: {yes: 0.5}}")

    assert check_shift(shift) == {"intl_plan": {"share": {"yes": 0.5}}}


def test_given_a_missing_shift_when_generated_then_that_column_is_that_often_empty() -> None:
    base = generate(ROWS, seed=15)

    shifted = generate(ROWS, seed=15, shift={"customer_service_calls": {"missing": 0.2}})

    assert missing_rate(base, "customer_service_calls") < 0.03
    assert 0.17 < missing_rate(shifted, "customer_service_calls") < 0.23
    assert missing_rate(shifted, "account_length") == missing_rate(base, "account_length")


@pytest.mark.parametrize(
    "shift",
    [
        {"tenure": {"mean": 1}},  # no such column
        {"churned": {"mean": 1}},  # the label is not shifted
        {"state": {"mean": 1}},  # a numeric shift on a category
        {"total_day_minutes": {"new_categories": 0.1}},  # a category shift on a number
        {"total_day_minutes": {"missing": 1.5}},
        {"intl_plan": {"share": {"maybe": 0.5}}},
        {"state": {"share": {"CA": 0.7, "TX": 0.6}}},
    ],
)
def test_given_an_unknown_or_wrong_shift_when_checked_then_it_is_refused(shift: Any) -> None:
    with pytest.raises(ValueError, match="shift"):
        check_shift(shift)


# ---------------------------------------------------------------------- the put_dataset step
@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with project_cloud(START) as running:
        yield running


def read(cloud: LocalCloud, bucket: str, key: str) -> bytes:
    body = cloud.client("s3").get_object(Bucket=cloud.bucket(bucket), Key=key)["Body"]
    return bytes(body.read())


def test_given_put_dataset_to_the_training_bucket_then_each_object_is_written_as_s3_reports_it(
    cloud: LocalCloud, tmp_path: Path
) -> None:
    since = len(cloud.timeline)
    step = {
        "bucket": "TrainingDataBucket",
        "key": "raw/churn/2026/11/20/part-{n}.csv",
        "count": 2,
        "rows": 50,
        "seed": 7,
    }

    run_steps(cloud, tmp_path, [{"put_dataset": step}])

    created = [
        e["event"]["detail"]["object"]["key"]
        for e in cloud.timeline.entries(since)
        if e["kind"] == "event" and e.get("detail_type") == "Object Created"
    ]
    assert created[:2] == ["raw/churn/2026/11/20/part-1.csv", "raw/churn/2026/11/20/part-2.csv"]
    first = read(cloud, "TrainingDataBucket", "raw/churn/2026/11/20/part-1.csv")
    second = read(cloud, "TrainingDataBucket", "raw/churn/2026/11/20/part-2.csv")
    assert first == DatasetSpec.from_step(step).render(1, START)
    assert first.decode().splitlines()[0] == ",".join(COLUMNS)
    assert len(first.decode().splitlines()) == 51
    assert first != second, "each object has its own rows"


def test_given_put_dataset_in_capture_format_then_the_object_is_data_capture_json_lines(
    cloud: LocalCloud, tmp_path: Path
) -> None:
    key = "datacapture/churn-prod/AllTraffic/2026/11/20/02/capture-1.jsonl"
    step = {
        "bucket": "ArtifactsBucket",
        "key": key,
        "rows": 40,
        "seed": 2,
        "format": "capture",
        "shift": {"total_day_minutes": {"mean": 60}},
    }

    run_steps(cloud, tmp_path, [{"put_dataset": step}])

    lines = read(cloud, "ArtifactsBucket", key).decode().splitlines()
    assert len(lines) == 40
    inputs = [json.loads(line)["captureData"]["endpointInput"]["data"] for line in lines]
    assert all(len(next(csv.reader([data]))) == len(FEATURE_NAMES) for data in inputs)


@pytest.mark.parametrize(
    "step",
    [
        {"key": "raw/churn/x.csv", "format": "parquet"},
        {"key": "raw/churn/x.csv", "rows": 0},
        {"key": "raw/churn/x.csv", "size": 10},  # put_object's, not put_dataset's
        {"key": "raw/churn/x.csv", "shift": {"total_day_minutes": {"median": 3}}},
        {"rows": 10},  # no key
    ],
)
def test_given_a_wrong_put_dataset_step_when_it_runs_then_the_scenario_is_wrong(
    cloud: LocalCloud, tmp_path: Path, step: dict[str, Any]
) -> None:
    since = len(cloud.timeline)

    with pytest.raises(ScenarioError, match="step 1"):
        run_steps_unchecked(cloud, tmp_path, [{"put_dataset": step}])

    assert cloud.timeline.entries(since) == []
