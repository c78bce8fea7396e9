"""The WindowStore port (aiops.runs.window): MemoryWindows ↔ DynamoWindowStore."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from aiops.runs.window import AddOutcome, ObjectRef, WindowLimits

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
LIMITS = WindowLimits(objects=3, bytes=10_000, max_age=timedelta(hours=6))
MODEL = "churn"


def obj(n: int, size: int = 100, version: str | None = None) -> ObjectRef:
    return ObjectRef(
        bucket="training",
        key=f"raw/churn/part-{n:04d}.csv",
        version_id=version or f"v{n}",
        etag=f"etag{n}",
        size=size,
    )


def keys(objects: list[ObjectRef]) -> list[str]:
    return sorted(o.natural_key for o in objects)


# ------------------------------------------------------------------ add


def test_an_object_version_is_counted_once(windows):
    # Given an object delivered three times
    outcomes = [windows.add(MODEL, obj(1), LIMITS, NOW) for _ in range(3)]

    # When the window is closed
    closed = windows.close(MODEL, LIMITS, NOW, owner="req-1", force_reason="forced")

    # Then only the first delivery counted, and the window holds the object once
    assert outcomes == [AddOutcome.ADDED, AddOutcome.DUPLICATE, AddOutcome.DUPLICATE]
    assert closed is not None and closed.objects == [obj(1)] and closed.bytes == 100


def test_a_new_version_of_the_same_key_is_new_data(windows):
    windows.add(MODEL, obj(1, version="a"), LIMITS, NOW)

    second = windows.add(MODEL, obj(1, version="b"), LIMITS, NOW)

    assert second is AddOutcome.ADDED


def test_an_object_counted_in_a_closed_window_is_still_a_duplicate(windows):
    windows.add(MODEL, obj(1), LIMITS, NOW)
    windows.close(MODEL, LIMITS, NOW, owner="req-1", force_reason="forced")

    again = windows.add(MODEL, obj(1), LIMITS, NOW + timedelta(hours=1))

    assert again is AddOutcome.DUPLICATE


def test_the_same_object_counts_separately_for_each_model(windows):
    windows.add(MODEL, obj(1), LIMITS, NOW)

    assert windows.add("fraud", obj(1), LIMITS, NOW) is AddOutcome.ADDED


def test_the_add_that_reaches_the_object_limit_reports_it(windows):
    outcomes = [windows.add(MODEL, obj(n), LIMITS, NOW) for n in range(1, 5)]

    assert outcomes == [AddOutcome.ADDED, AddOutcome.ADDED] + [AddOutcome.THRESHOLD_REACHED] * 2


def test_the_add_that_reaches_the_byte_limit_reports_it(windows):
    first = windows.add(MODEL, obj(1, size=6_000), LIMITS, NOW)
    second = windows.add(MODEL, obj(2, size=4_000), LIMITS, NOW)

    assert (first, second) == (AddOutcome.ADDED, AddOutcome.THRESHOLD_REACHED)


def test_one_object_as_large_as_the_byte_limit_reaches_it(windows):
    assert windows.add(MODEL, obj(1, size=10_000), LIMITS, NOW) is AddOutcome.THRESHOLD_REACHED


# ------------------------------------------------------------------ close


def test_a_window_below_its_limits_does_not_close(windows):
    windows.add(MODEL, obj(1), LIMITS, NOW)

    assert windows.close(MODEL, LIMITS, NOW, owner="req-1") is None
    assert windows.latest(MODEL) is None


def test_a_full_window_closes_once_with_every_object(windows):
    # Given a window that reached its object limit
    for n in range(1, 4):
        windows.add(MODEL, obj(n), LIMITS, NOW)

    # When two callers close it
    first = windows.close(MODEL, LIMITS, NOW, owner="req-1")
    second = windows.close(MODEL, LIMITS, NOW, owner="req-2")

    # Then the first gets the window with all its objects, the second nothing
    assert first is not None and second is None
    assert first.model == MODEL and first.seq == 1 and first.window_id == "w000001"
    assert keys(first.objects) == keys([obj(1), obj(2), obj(3)])
    assert first.bytes == 300
    assert first.reason == "window reached 3 objects (limit 3)"
    assert first.closed_at == NOW
    assert first.run_started is False


def test_a_window_closes_when_its_oldest_object_reaches_the_max_age(windows):
    windows.add(MODEL, obj(1), LIMITS, NOW)
    windows.add(MODEL, obj(2), LIMITS, NOW + timedelta(hours=1))

    early = windows.close(MODEL, LIMITS, NOW + timedelta(hours=6, seconds=-1), owner="req-1")
    due = windows.close(MODEL, LIMITS, NOW + timedelta(hours=6), owner="req-2")

    assert early is None
    assert due is not None and keys(due.objects) == keys([obj(1), obj(2)])
    assert due.reason == "oldest object is 6h old (max age 6h)"


def test_the_age_clock_restarts_with_the_first_object_after_a_close(windows):
    # Given a window closed at NOW, and an object added five hours later
    windows.add(MODEL, obj(1), LIMITS, NOW)
    windows.close(MODEL, LIMITS, NOW, owner="req-1", force_reason="forced")
    windows.add(MODEL, obj(2), LIMITS, NOW + timedelta(hours=5))

    # When the store is swept six hours after the close, then eleven hours after it
    at_six = windows.close(MODEL, LIMITS, NOW + timedelta(hours=6), owner="req-2")
    at_eleven = windows.close(MODEL, LIMITS, NOW + timedelta(hours=11), owner="req-3")

    # Then the new window's age counts from its own first object
    assert at_six is None
    assert at_eleven is not None and at_eleven.seq == 2 and at_eleven.objects == [obj(2)]


def test_a_forced_close_takes_a_window_below_its_limits(windows):
    windows.add(MODEL, obj(1), LIMITS, NOW)

    closed = windows.close(MODEL, LIMITS, NOW, owner="req-1", force_reason="drift found")

    assert closed is not None and closed.reason == "drift found" and closed.objects == [obj(1)]


@pytest.mark.parametrize("force_reason", [None, "drift found"])
def test_an_empty_window_never_closes(windows, force_reason):
    assert windows.close(MODEL, LIMITS, NOW, owner="req-1", force_reason=force_reason) is None
    windows.add(MODEL, obj(1), LIMITS, NOW)
    windows.close(MODEL, LIMITS, NOW, owner="req-1", force_reason="forced")

    after = windows.close(
        MODEL, LIMITS, NOW + timedelta(days=1), owner="req-2", force_reason=force_reason
    )

    assert after is None


# ------------------------------------------------------------------ closed windows


def test_closed_windows_are_numbered_in_order_and_read_back(windows):
    windows.add(MODEL, obj(1), LIMITS, NOW)
    first = windows.close(MODEL, LIMITS, NOW, owner="req-1", force_reason="one")
    windows.add(MODEL, obj(2), LIMITS, NOW)
    second = windows.close(MODEL, LIMITS, NOW, owner="req-2", force_reason="two")

    assert first is not None and second is not None
    assert (first.seq, second.seq) == (1, 2)
    assert windows.get(MODEL, 1) == first
    assert windows.get(MODEL, 2) == second
    assert windows.latest(MODEL) == second


def test_an_unknown_window_reads_as_none(windows):
    assert windows.get(MODEL, 1) is None
    assert windows.latest(MODEL) is None


def test_windows_are_numbered_per_model(windows):
    windows.add(MODEL, obj(1), LIMITS, NOW)
    windows.close(MODEL, LIMITS, NOW, owner="req-1", force_reason="forced")
    windows.add("fraud", obj(1), LIMITS, NOW)

    fraud = windows.close("fraud", LIMITS, NOW, owner="req-1", force_reason="forced")

    assert fraud is not None and fraud.seq == 1
    assert windows.latest(MODEL) == windows.get(MODEL, 1)


def test_a_closed_window_is_unstarted_until_marked_started(windows):
    for n in (1, 2):
        windows.add(MODEL, obj(n), LIMITS, NOW)
        windows.close(MODEL, LIMITS, NOW, owner=f"req-{n}", force_reason="forced")

    before = [w.seq for w in windows.unstarted(MODEL)]
    windows.mark_started(MODEL, 1)
    after = [w.seq for w in windows.unstarted(MODEL)]

    assert before == [1, 2]
    assert after == [2]


def test_a_window_marked_started_reads_as_started(windows):
    windows.add(MODEL, obj(1), LIMITS, NOW)
    windows.close(MODEL, LIMITS, NOW, owner="req-1", force_reason="forced")

    windows.mark_started(MODEL, 1)

    started = windows.get(MODEL, 1)
    assert started is not None and started.run_started is True
    assert windows.latest(MODEL) == started


def test_marking_an_unknown_window_started_fails(windows):
    with pytest.raises((LookupError, ClientError)):
        windows.mark_started(MODEL, 1)

    assert windows.get(MODEL, 1) is None


# ------------------------------------------------------------------ carried windows


def test_carried_windows_wait_for_the_next_run(windows):
    windows.carry(MODEL, [1, 2])
    windows.carry(MODEL, [2, 3])
    windows.carry(MODEL, [])

    assert windows.carried(MODEL) == [1, 2, 3]
    assert windows.carried("fraud") == []


def test_claim_carried_is_idempotent_per_run(windows):
    # Given two carried windows
    windows.carry(MODEL, [1, 2])

    # When a run claims them, and a retry of the same run claims again
    first = windows.claim_carried(MODEL, "churn-drift-a")
    retry = windows.claim_carried(MODEL, "churn-drift-a")

    # Then both get the same windows, and nothing is left carried
    assert first == retry == [1, 2]
    assert windows.claimed(MODEL, "churn-drift-a") == [1, 2]
    assert windows.carried(MODEL) == []


def test_a_later_run_claims_only_the_windows_carried_since(windows):
    windows.carry(MODEL, [1])
    windows.claim_carried(MODEL, "run-a")
    windows.carry(MODEL, [2])

    assert windows.claim_carried(MODEL, "run-b") == [2]
    assert windows.claim_carried(MODEL, "run-a") == [1]
    assert windows.claimed(MODEL, "run-b") == [2]


def test_a_run_that_found_nothing_carried_claims_nothing_and_records_no_claim(windows):
    # Given a run that claimed when nothing was carried
    empty = windows.claim_carried(MODEL, "run-a")

    # When windows are carried afterwards and the same run claims again
    windows.carry(MODEL, [4])
    later = windows.claim_carried(MODEL, "run-a")

    # Then the first claim got nothing and wrote nothing: the later one takes the window
    assert empty == []
    assert later == [4]


def test_a_run_that_claimed_nothing_has_claimed_nothing(windows):
    assert windows.claimed(MODEL, "run-a") == []


# ------------------------------------------------------------------ labeled data: good records

LABEL_LIMITS = WindowLimits(objects=100, bytes=10**12, max_age=timedelta(days=7), records=1000)


def labeled(n: int, records: int) -> ObjectRef:
    return ObjectRef(
        bucket="labeled",
        key=f"labeled/support/batch-{n}.jsonl",
        version_id=f"v{n}",
        size=records * 400,
        records=records,
    )


def test_a_labeled_window_closes_on_its_good_records_not_its_objects(windows):
    # Given two files of 400 and 550 good records (950: below the 1,000 threshold)
    first = windows.add("support", labeled(1, 400), LABEL_LIMITS, NOW)
    second = windows.add("support", labeled(2, 550), LABEL_LIMITS, NOW)

    # When a third file of 60 good records arrives
    third = windows.add("support", labeled(3, 60), LABEL_LIMITS, NOW)
    closed = windows.close("support", LABEL_LIMITS, NOW, owner="req-1")

    # Then the add that reaches 1,000 records reports it, and the window holds all three files
    assert (first, second, third) == (
        AddOutcome.ADDED,
        AddOutcome.ADDED,
        AddOutcome.THRESHOLD_REACHED,
    )
    assert closed is not None and closed.records == 1010 and len(closed.objects) == 3
    assert "1010 good records" in closed.reason


def test_a_labeled_window_below_its_records_does_not_close(windows):
    windows.add("support", labeled(1, 999), LABEL_LIMITS, NOW)

    assert windows.close("support", LABEL_LIMITS, NOW, owner="req-1") is None


def test_records_counted_in_a_closed_window_start_the_next_one_from_zero(windows):
    windows.add("support", labeled(1, 1200), LABEL_LIMITS, NOW)
    windows.close("support", LABEL_LIMITS, NOW, owner="req-1")

    again = windows.add("support", labeled(2, 900), LABEL_LIMITS, NOW)

    assert again is AddOutcome.ADDED
    assert windows.close("support", LABEL_LIMITS, NOW, owner="req-2") is None


def test_an_object_version_is_counted_once_added_and_only_for_its_model(windows):
    assert not windows.counted(MODEL, obj(1))

    windows.add(MODEL, obj(1), LIMITS, NOW)

    assert windows.counted(MODEL, obj(1))
    assert not windows.counted(MODEL, obj(1, version="other"))
    assert not windows.counted("fraud", obj(1))


def test_failures_are_counted_per_closed_window(windows):
    windows.add(MODEL, obj(1), LIMITS, NOW)
    closed = windows.close(MODEL, LIMITS, NOW, owner="req-1", force_reason="forced")
    assert closed is not None

    counts = [windows.record_failure(MODEL, closed.seq) for _ in range(3)]

    assert counts == [1, 2, 3]
