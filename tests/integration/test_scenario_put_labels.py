"""The `put_labels` scenario step: generated labeled fine-tuning data (with planted bad records)
written through `put_object`'s path, so the buckets' `Object Created` events follow."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from aiops.base_models import RecordFormat
from aiops_local import LocalCloud
from aiops_local.labels_data import labeled_dataset
from aiops_local.scenario import ScenarioError
from tests.support.runtime import run_steps, run_steps_unchecked
from tests.support.template import ROOT
from tests.support.toy_project import write_toy_project

START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
KEY = "labeled/support/batch-{n}.jsonl"


@pytest.fixture
def cloud(toy_project: Path) -> Iterator[LocalCloud]:
    # The toy template's DataBucket sends S3 events; the project's policy says which Bedrock
    # model reads labeled/support/ (support-assistant, on Nova Lite).
    with LocalCloud(toy_project, policy=ROOT / "policies" / "default.yaml", start=START) as running:
        yield running


@pytest.fixture(scope="class")
def shared_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    toy = write_toy_project(tmp_path_factory.mktemp("toy"))
    with LocalCloud(toy, policy=ROOT / "policies" / "default.yaml", start=START) as running:
        yield running


def read(cloud: LocalCloud, key: str) -> bytes:
    body = cloud.client("s3").get_object(Bucket=cloud.bucket("DataBucket"), Key=key)["Body"]
    return bytes(body.read())


def created(cloud: LocalCloud) -> list[tuple[float, str]]:
    """(t, key) of every `Object Created` event sent."""
    return [
        (e["t"], e["event"]["detail"]["object"]["key"])
        for e in cloud.timeline.entries(0)
        if e["kind"] == "event" and e.get("detail_type") == "Object Created"
    ]


def step(**arguments: Any) -> dict[str, Any]:
    return {"put_labels": {"bucket": "DataBucket", "key": KEY, **arguments}}


def test_given_a_put_labels_step_then_each_object_holds_its_records_with_the_planted_bad_ones(
    cloud: LocalCloud, tmp_path: Path
) -> None:
    kinds = ["role_order", "reserved_string"]

    run_steps(cloud, tmp_path, [step(records=50, bad_share=0.1, kinds=kinds, seed=1, count=3)])

    keys = [f"labeled/support/batch-{n}.jsonl" for n in (1, 2, 3)]
    assert created(cloud) == [(0, key) for key in keys]
    bodies = [read(cloud, key) for key in keys]
    assert len(set(bodies)) == 3  # each object has records of its own
    for n, body in enumerate(bodies, start=1):
        expected = labeled_dataset(RecordFormat.CONVERSATION, 50, 0.1, kinds, 1000 + n)
        assert body == expected.data
        assert sorted(expected.planted.values()) == ["reserved_string"] * 2 + ["role_order"] * 3
        lines = body.splitlines()
        assert len(lines) == 50
        good = [json.loads(lines[i - 1]) for i in range(1, 51) if i not in expected.planted]
        assert all(r["schemaVersion"] == "bedrock-conversation-2024" for r in good)


def test_given_no_format_then_the_format_is_that_of_the_base_model_whose_prefix_holds_the_key(
    cloud: LocalCloud, tmp_path: Path
) -> None:
    run_steps(cloud, tmp_path, [step(records=5, seed=3)])

    (record,) = {
        json.loads(line)["schemaVersion"] for line in read(cloud, KEY.format(n=1)).splitlines()
    }
    assert record == "bedrock-conversation-2024"


def test_given_a_named_format_then_the_records_are_in_that_format(
    cloud: LocalCloud, tmp_path: Path
) -> None:
    run_steps(cloud, tmp_path, [step(records=4, format="prompt-completion")])

    records = [json.loads(line) for line in read(cloud, KEY.format(n=1)).splitlines()]
    assert {tuple(sorted(r)) for r in records} == {("completion", "prompt")}


def test_given_after_then_the_objects_arrive_that_much_later(
    cloud: LocalCloud, tmp_path: Path
) -> None:
    run_steps(cloud, tmp_path, [step(records=3, count=2, after="10m"), {"advance": "15m"}])

    assert created(cloud) == [
        (600, "labeled/support/batch-1.jsonl"),
        (600, "labeled/support/batch-2.jsonl"),
    ]


class TestRefusals:
    """Refused steps write nothing (each checks no object came): one cloud serves them all."""

    @pytest.mark.parametrize(
        ("arguments", "says"),
        [
            ({"records": 0}, "records must be a whole number from 1 to 100000"),
            ({"records": "many"}, "records"),
            ({"bad_share": 1.5}, "bad_share must be a number from 0 to 1"),
            ({"bad_share": float("nan")}, "bad_share"),
            ({"count": -1}, "count"),
            ({"seed": True}, "seed"),
            ({"kinds": ["spelling"]}, "kinds ['spelling'] are not kinds of bad"),
            ({"kinds": "role_order"}, "kinds is a list"),
            ({"format": "csv"}, "format must be one of"),
            ({"after": "soon"}, "after"),
            ({"colour": "red"}, "unknown keys ['colour']"),
            ({"key": "elsewhere/batch.jsonl"}, "no Bedrock model's labels.prefix"),
        ],
    )
    def test_given_bad_arguments_then_the_step_is_refused_naming_the_field(
        self, shared_cloud: LocalCloud, tmp_path: Path, arguments: dict[str, Any], says: str
    ) -> None:
        with pytest.raises(ScenarioError, match="put_labels") as caught:
            run_steps_unchecked(shared_cloud, tmp_path, [step(**arguments)])

        assert says in str(caught.value)
        assert "step 1 (put_labels)" in str(caught.value)
        assert created(shared_cloud) == []

    def test_given_a_step_without_a_key_then_it_is_refused(
        self, shared_cloud: LocalCloud, tmp_path: Path
    ) -> None:
        with pytest.raises(ScenarioError, match="put_labels takes"):
            run_steps_unchecked(shared_cloud, tmp_path, [{"put_labels": {"records": 3}}])
