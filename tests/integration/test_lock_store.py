"""The per-model run lock on DynamoDB (moto): one run at a time, nothing dropped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiops.adapters.lock_store import DynamoLockStore
from aiops.runs.requests import RunTrigger, follow_up_run

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
TTL = timedelta(hours=12)


def trigger(n: int, windows: list[int] | None = None) -> RunTrigger:
    return RunTrigger(
        kind="new_data",
        trigger_id=f"window:w{n:06d}",
        reason=f"window {n} full",
        windows=windows if windows is not None else [n],
    )


def test_a_lock_taken_twice_is_refused_and_records_one_coalesced_trigger(tables):
    locks = DynamoLockStore(tables["ControlTable"])

    first = locks.acquire("churn", "churn-w000001", trigger(1), NOW, TTL)
    second = locks.acquire("churn", "churn-w000002", trigger(2), NOW, TTL)
    retried = locks.acquire("churn", "churn-w000002", trigger(2), NOW, TTL)
    follow_up = locks.release("churn", "churn-w000001", NOW, TTL)

    assert first.acquired and first.holder == "churn-w000001"
    assert not second.acquired and second.coalesced and second.holder == "churn-w000001"
    assert not retried.acquired and retried.coalesced
    assert follow_up == follow_up_run("churn", [trigger(2)])
    assert follow_up is not None and follow_up.trigger.windows == [2]


def test_acquire_is_reentrant_for_the_same_run(tables):
    locks = DynamoLockStore(tables["ControlTable"])
    locks.acquire("churn", "run-a", trigger(1), NOW, TTL)

    again = locks.acquire("churn", "run-a", trigger(1), NOW, TTL)

    assert again.acquired


def test_release_without_pending_frees_the_lock(tables):
    locks = DynamoLockStore(tables["ControlTable"])
    locks.acquire("churn", "run-a", trigger(1), NOW, TTL)

    assert locks.release("churn", "run-a", NOW, TTL) is None
    assert locks.acquire("churn", "run-b", trigger(2), NOW, TTL).acquired


def test_many_triggers_during_a_run_become_exactly_one_follow_up_that_holds_the_lock(tables):
    locks = DynamoLockStore(tables["ControlTable"])
    locks.acquire("churn", "run-a", trigger(1), NOW, TTL)
    for n in range(2, 6):
        locks.acquire("churn", f"run-{n}", trigger(n), NOW, TTL)

    follow_up = locks.release("churn", "run-a", NOW, TTL)
    retried_release = locks.release("churn", "run-a", NOW, TTL)

    assert follow_up is not None
    assert follow_up.trigger.windows == [2, 3, 4, 5]
    assert retried_release == follow_up, "a retried release hands over the same follow-up"
    assert locks.acquire("churn", follow_up.run_id, follow_up.trigger, NOW, TTL).acquired
    assert not locks.acquire("churn", "run-6", trigger(6), NOW, TTL).acquired


def test_an_expired_lock_can_be_taken_over_and_keeps_its_pending_triggers(tables):
    locks = DynamoLockStore(tables["ControlTable"])
    locks.acquire("churn", "run-a", trigger(1), NOW, TTL)
    locks.acquire("churn", "run-b", trigger(2), NOW, TTL)

    later = NOW + TTL + timedelta(seconds=1)
    taken = locks.acquire("churn", "run-c", trigger(3), later, TTL)
    follow_up = locks.release("churn", "run-c", later, TTL)

    assert taken.acquired
    assert follow_up is not None and follow_up.trigger.windows == [2]


def test_release_by_a_run_that_does_not_hold_the_lock_changes_nothing(tables):
    locks = DynamoLockStore(tables["ControlTable"])
    locks.acquire("churn", "run-a", trigger(1), NOW, TTL)

    assert locks.release("churn", "run-x", NOW, TTL) is None
    assert not locks.acquire("churn", "run-b", trigger(2), NOW, TTL).acquired
