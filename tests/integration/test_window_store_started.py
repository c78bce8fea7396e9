"""Unstarted windows on DynamoDB (moto): every sweep asks for them, so the question reads only the
windows past the started watermark, and the watermark never passes a window whose run may still
have to start."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aiops.adapters.window_store import CLOSE_LEASE, DynamoWindowStore
from aiops.runs.window import ObjectRef, WindowLimits

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
LIMITS = WindowLimits(objects=50, bytes=10**9, max_age=timedelta(hours=6))
MODEL = "churn"


def obj(n: int) -> ObjectRef:
    return ObjectRef(
        bucket="training", key=f"raw/churn/part-{n:04d}.csv", version_id=f"v{n}", size=10
    )


class SnapshotReads:
    """The DynamoDB client, counting the items each Query reads (its ScannedCount: a filter
    changes what a query returns, not what it reads and is billed for)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.reads: list[int] = []

    def query(self, **kwargs: Any) -> Any:
        response = self._client.query(**kwargs)
        self.reads.append(int(response.get("ScannedCount", 0)))
        return response

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


class CrashOnSettle(SnapshotReads):
    """A client whose process dies when the close starts clearing the window's objects."""

    def batch_write_item(self, **kwargs: Any) -> Any:
        raise RuntimeError("the function was killed")


def close_one(windows: DynamoWindowStore, n: int, started: bool = True) -> int:
    windows.add(MODEL, obj(n), LIMITS, NOW)
    closed = windows.close(MODEL, LIMITS, NOW, owner=f"req-{n}", force_reason="forced")
    assert closed is not None
    if started:
        windows.mark_started(MODEL, closed.seq)
    return closed.seq


@pytest.fixture
def reads(tables: dict[str, str], dynamodb: Any) -> SnapshotReads:
    return SnapshotReads(dynamodb)


@pytest.fixture
def windows(tables: dict[str, str], reads: SnapshotReads) -> DynamoWindowStore:
    return DynamoWindowStore(tables["ControlTable"], reads)


def sweep(windows: DynamoWindowStore, reads: SnapshotReads) -> tuple[list[int], int]:
    """What one sweep asking for unstarted windows gets, and how many snapshots it read."""
    reads.reads.clear()
    seqs = [w.seq for w in windows.unstarted(MODEL)]
    return seqs, sum(reads.reads)


def test_windows_whose_runs_started_are_not_read_again(windows, reads):
    # Given three closed windows whose runs started, and a sweep that already asked once
    for n in (1, 2, 3):
        close_one(windows, n)
    first = sweep(windows, reads)

    # When a fourth window closes and its run has not started yet
    close_one(windows, 4, started=False)
    second = sweep(windows, reads)

    # Then the first sweep read the three, the next one reads only the new window and gets it
    assert first == ([], 3)
    assert second == ([4], 1)


def test_a_model_with_no_closed_window_has_nothing_unstarted(windows, reads):
    assert sweep(windows, reads) == ([], 0)


def test_an_earlier_window_not_started_holds_the_later_ones_in_view(windows, reads):
    # Given windows 1 and 2 closed, and only the later one's run started (window 1 held)
    close_one(windows, 1, started=False)
    close_one(windows, 2)

    # When sweeps ask before and after window 1's run starts
    held = [sweep(windows, reads) for _ in range(2)]
    windows.mark_started(MODEL, 1)
    after = [sweep(windows, reads) for _ in range(2)]

    # Then window 1 is found every time until it starts; then neither is read again
    assert held == [([1], 2), ([1], 2)]
    assert after == [([], 2), ([], 0)]


def test_a_window_a_crashed_close_left_unsettled_is_found_once_recovered(tables, dynamodb):
    # Given window 1 started, and the close of window 2 killed before it settled its window
    reads = SnapshotReads(dynamodb)
    windows = DynamoWindowStore(tables["ControlTable"], reads)
    close_one(windows, 1)
    killed = DynamoWindowStore(tables["ControlTable"], CrashOnSettle(dynamodb))
    killed.add(MODEL, obj(2), LIMITS, NOW)
    with pytest.raises(RuntimeError):
        killed.close(MODEL, LIMITS, NOW, owner="killed", force_reason="forced")

    # When sweeps ask while it is unsettled, and after a later close recovers it
    while_unsettled = [sweep(windows, reads) for _ in range(2)]
    later = NOW + CLOSE_LEASE + timedelta(minutes=1)
    recovered = windows.close(MODEL, LIMITS, later, owner="next", force_reason="forced")
    once_settled = sweep(windows, reads)

    # Then the unsettled window is not offered, yet stays in view until it is settled and
    # offered to the sweep (the watermark passed only the started window 1)
    assert while_unsettled == [([], 2), ([], 1)]
    assert recovered is None  # window 2 was settled; nothing else was waiting
    assert once_settled == ([2], 1)


def test_a_sweep_that_saw_fewer_started_windows_never_moves_the_watermark_back(windows, reads):
    # Given three started windows a sweep has passed
    for n in (1, 2, 3):
        close_one(windows, n)
    sweep(windows, reads)

    # When a slower sweep, which had seen only window 1 started, records what it saw
    windows._advance_started(MODEL, 1)

    # Then the windows already passed are still not read again
    assert sweep(windows, reads) == ([], 0)
