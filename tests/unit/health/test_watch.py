"""The control-plane watch: locks held past their lease, approvals waiting and near their
timeout, read from the policy's models (in-memory ports, held to the adapters' contract)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from aiops.health.ports import LockKind, LockTarget
from aiops.health.watch import (
    NEAR_TIMEOUT_FLOOR,
    HealthDependencies,
    lock_targets,
    near_timeout_window,
    watch_control_plane,
)
from aiops.policy import Policy, parse_policy
from tests.support.template import ROOT
from tests.unit.health.fakes import MemoryHeldLocks, MemoryOpenApprovals

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def policy() -> Policy:
    return parse_policy((ROOT / "policies" / "default.yaml").read_text())


@pytest.fixture
def locks() -> MemoryHeldLocks:
    return MemoryHeldLocks()


@pytest.fixture
def approvals() -> MemoryOpenApprovals:
    return MemoryOpenApprovals()


def watch(policy: Policy, locks: MemoryHeldLocks, approvals: MemoryOpenApprovals):
    return watch_control_plane(policy, HealthDependencies(locks=locks, approvals=approvals), NOW)


def test_given_the_default_policy_then_each_models_run_lock_and_its_deploy_lock_are_watched(policy):
    assert lock_targets(policy) == [
        LockTarget(kind=LockKind.RUN, name="churn", model="churn"),
        LockTarget(kind=LockKind.RUN, name="support-assistant", model="support-assistant"),
        LockTarget(kind=LockKind.DEPLOY, name="churn-prod", model="churn"),
        LockTarget(kind=LockKind.SERVING, name="support-assistant", model="support-assistant"),
    ]


def test_given_nothing_held_or_waiting_when_watched_then_every_count_is_zero(
    policy, locks, approvals
):
    report = watch(policy, locks, approvals)

    assert (report.locks_checked, report.locks_held, report.pending_approvals) == (4, 0, 0)
    assert report.locks_past_lease == [] and report.approvals_near_timeout == []


def test_given_a_run_lock_within_its_lease_when_watched_then_it_is_held_not_past_its_lease(
    policy, locks, approvals
):
    locks.take(LockKind.RUN, "churn", "churn-w000001", NOW + timedelta(hours=1), NOW)

    report = watch(policy, locks, approvals)

    assert report.locks_held == 1
    assert report.locks_past_lease == []


def test_given_a_lock_whose_lease_ends_now_when_watched_then_it_is_still_held(
    policy, locks, approvals
):
    # The lock stores take over a lock whose expiry is strictly before now.
    locks.take(LockKind.RUN, "churn", "churn-w000001", NOW, NOW - timedelta(hours=12))

    assert watch(policy, locks, approvals).locks_past_lease == []


def test_given_locks_past_their_lease_when_watched_then_each_is_reported_with_model_and_age(
    policy, locks, approvals
):
    locks.take(
        LockKind.RUN,
        "churn",
        "churn-w000003",
        expires_at=NOW - timedelta(minutes=30),
        acquired_at=NOW - timedelta(hours=12, minutes=30),
    )
    locks.take(LockKind.DEPLOY, "churn-prod", "churn-v7", expires_at=NOW - timedelta(hours=2))

    report = watch(policy, locks, approvals)

    older, newer = report.locks_past_lease
    assert (older.kind, older.target, older.model, older.holder) == (
        LockKind.DEPLOY,
        "churn-prod",
        "churn",
        "churn-v7",
    )
    assert (older.past_lease_s, older.held_for_s) == (7200, None)
    assert (newer.kind, newer.target, newer.holder) == (LockKind.RUN, "churn", "churn-w000003")
    assert (newer.past_lease_s, newer.held_for_s) == (1800, 45000)


@pytest.mark.parametrize(
    ("wait", "window"),
    [
        (timedelta(hours=72), timedelta(hours=14, minutes=24)),  # 20% of the default
        (timedelta(hours=4), timedelta(hours=1)),  # 20% is 48 min: the hour floor
        (timedelta(hours=5), timedelta(hours=1)),  # exactly both
        (timedelta(minutes=30), timedelta(minutes=30)),  # never more than the wait
        (timedelta(0), timedelta(0)),
        (timedelta(hours=-1), timedelta(0)),
    ],
)
def test_the_near_timeout_window_is_a_fifth_of_the_wait_or_an_hour_at_most_the_wait(wait, window):
    assert near_timeout_window(wait) == window


def test_given_approvals_at_different_points_of_their_wait_then_those_near_their_timeout_count(
    policy, locks, approvals
):
    wait = timedelta(hours=72)
    # Opened 50 h ago (22 h left): waiting, not yet near.
    approvals.open("churn", 3, NOW - timedelta(hours=50), NOW + timedelta(hours=22))
    # 10 h left of 72 h: in its last 20% (14.4 h).
    approvals.open("churn", 4, NOW - (wait - timedelta(hours=10)), NOW + timedelta(hours=10))
    # Past its expiry, still pending (the workflow has not closed it yet): due.
    approvals.open(
        "support-assistant", 2, NOW - wait - timedelta(minutes=5), NOW - timedelta(minutes=5)
    )
    # A model the policy no longer names is not the watch's.
    approvals.open("retired", 1, NOW - wait, NOW + timedelta(minutes=1))

    report = watch(policy, locks, approvals)

    assert report.pending_approvals == 3
    due, near = report.approvals_near_timeout
    assert (due.model, due.version, due.left_s) == ("support-assistant", 2, 0)
    assert (near.model, near.version, near.left_s) == ("churn", 4, 36000)
    assert near.waiting_s == 62 * 3600


def test_given_a_short_wait_when_it_opens_then_it_is_near_its_timeout_at_once(
    policy, locks, approvals
):
    # A 45-minute wait is shorter than the hour the warning needs: near from the start.
    approvals.open("churn", 5, NOW, NOW + timedelta(minutes=45))

    (near,) = watch(policy, locks, approvals).approvals_near_timeout

    assert near.left_s == 45 * 60
    assert timedelta(minutes=45) < NEAR_TIMEOUT_FLOOR
