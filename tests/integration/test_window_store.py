"""The data window on DynamoDB (moto): idempotent per object, closes exactly once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from aiops.adapters.window_store import DynamoWindowStore
from aiops.runs.window import AddOutcome, ObjectRef, WindowLimits
from tests.support.moto_server import serial_moto_server
from tests.support.template import create_tables

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
LIMITS = WindowLimits(objects=5, bytes=10**9, max_age=timedelta(hours=6))


def obj(n: int, size: int = 1000, version: str | None = None) -> ObjectRef:
    return ObjectRef(
        bucket="training",
        key=f"raw/churn/part-{n:04d}.csv",
        version_id=version or f"v{n}",
        etag=f"etag{n}",
        size=size,
    )


def store(tables: dict[str, str]) -> DynamoWindowStore:
    return DynamoWindowStore(tables["ControlTable"])


def head(tables: dict[str, str], dynamodb: Any) -> dict[str, Any]:
    item = dynamodb.get_item(
        TableName=tables["ControlTable"], Key={"pk": {"S": "MODEL#churn"}, "sk": {"S": "WINDOW"}}
    )["Item"]
    return {"objects": int(item["objects"]["N"]), "bytes": int(item["bytes"]["N"])}


def test_the_same_object_delivered_three_times_counts_once(tables, dynamodb):
    windows = store(tables)

    outcomes = [windows.add("churn", obj(1), LIMITS, NOW) for _ in range(3)]

    assert outcomes == [AddOutcome.ADDED, AddOutcome.DUPLICATE, AddOutcome.DUPLICATE]
    assert head(tables, dynamodb) == {"objects": 1, "bytes": 1000}


def test_a_new_version_of_the_same_key_is_new_data(tables, dynamodb):
    windows = store(tables)

    windows.add("churn", obj(1, version="a"), LIMITS, NOW)
    second = windows.add("churn", obj(1, version="b"), LIMITS, NOW)

    assert second is AddOutcome.ADDED
    assert head(tables, dynamodb)["objects"] == 2


def test_the_add_that_fills_the_window_reports_it_and_the_close_snapshots_every_object(tables):
    windows = store(tables)
    outcomes = [windows.add("churn", obj(n), LIMITS, NOW) for n in range(1, 6)]

    closed = windows.close("churn", LIMITS, NOW, owner="req-1")

    assert outcomes[:4] == [AddOutcome.ADDED] * 4
    assert outcomes[4] is AddOutcome.THRESHOLD_REACHED
    assert closed is not None and closed.seq == 1
    assert sorted(o.key for o in closed.objects) == sorted(obj(n).key for n in range(1, 6))
    assert "5 objects" in closed.reason
    assert windows.get("churn", 1) == closed


def test_a_window_below_its_limits_does_not_close(tables):
    windows = store(tables)
    windows.add("churn", obj(1), LIMITS, NOW)

    assert windows.close("churn", LIMITS, NOW, owner="req-1") is None


def test_an_aged_window_closes_on_max_age(tables):
    windows = store(tables)
    windows.add("churn", obj(1), LIMITS, NOW)

    early = windows.close("churn", LIMITS, NOW + timedelta(hours=5), owner="sweep")
    aged = windows.close("churn", LIMITS, NOW + timedelta(hours=6), owner="sweep")

    assert early is None
    assert aged is not None and [o.key for o in aged.objects] == [obj(1).key]
    assert "max age" in aged.reason


def test_a_closed_window_leaves_an_empty_window_with_no_age(tables, dynamodb):
    windows = store(tables)
    for n in range(1, 6):
        windows.add("churn", obj(n), LIMITS, NOW)
    windows.close("churn", LIMITS, NOW, owner="req-1")

    windows.add("churn", obj(6), LIMITS, NOW + timedelta(hours=1))

    assert head(tables, dynamodb) == {"objects": 1, "bytes": 1000}
    assert (
        windows.close("churn", LIMITS, NOW + timedelta(hours=6, minutes=59), owner="sweep") is None
    )


def test_twenty_concurrent_additions_crossing_the_threshold_close_the_window_once():
    limits = WindowLimits(objects=10, bytes=10**9, max_age=timedelta(hours=6))
    with serial_moto_server() as endpoint:
        client = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=endpoint)
        tables = create_tables(client)
        closed, later = _deliver_concurrently(client, tables, limits)
    all_closed = closed + ([later] if later else [])
    keys = [o.key for window in all_closed for o in window.objects]
    assert len(closed) == 1, "the threshold crossing closed the window exactly once"
    assert len(keys) == len(set(keys)) == 20, "every object is in exactly one window"
    assert len(closed[0].objects) >= 10


def _deliver_concurrently(client: Any, tables: dict[str, str], limits: WindowLimits) -> Any:

    def deliver(n: int) -> Any:
        windows = DynamoWindowStore(tables["ControlTable"], client)
        if windows.add("churn", obj(n), limits, NOW) is AddOutcome.THRESHOLD_REACHED:
            return windows.close("churn", limits, NOW, owner=f"req-{n}")
        return None

    with ThreadPoolExecutor(max_workers=20) as pool:
        closed = [c for c in pool.map(deliver, range(1, 21)) if c is not None]
    # Whatever arrived after the close is in the next window: close it to account for all 20.
    later = DynamoWindowStore(tables["ControlTable"], client).close(
        "churn", limits, NOW + timedelta(hours=7), owner="sweep"
    )
    return closed, later


def test_unstarted_windows_are_listed_until_marked_started(tables):
    windows = store(tables)
    for n in range(1, 6):
        windows.add("churn", obj(n), LIMITS, NOW)
    closed = windows.close("churn", LIMITS, NOW, owner="req-1")
    assert closed is not None

    before = [w.seq for w in windows.unstarted("churn")]
    windows.mark_started("churn", closed.seq)

    assert before == [1]
    assert windows.unstarted("churn") == []
