"""The control-plane watch's ports (aiops.health.ports): MemoryHeldLocks ↔ DynamoHeldLocks,
MemoryOpenApprovals ↔ DynamoOpenApprovals. On moto, state is written by the stores that own it
(run locks, deployment and serving locks, approvals), so the watch reads what they really write."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import pytest

from aiops.adapters.approval_store import DynamoApprovalStore
from aiops.adapters.bedrock_serving import DynamoServingLocks
from aiops.adapters.control_plane_state import DynamoHeldLocks, DynamoOpenApprovals
from aiops.adapters.deploy_store import DynamoDeployStore
from aiops.adapters.lock_store import DynamoLockStore
from aiops.approval.model import ApprovalStatus, ApprovalSummary, Decision
from aiops.approval.ports import Approval
from aiops.deploy.model import DeploymentRequest
from aiops.health.ports import HeldLock, HeldLocks, LockKind, LockTarget, OpenApprovals
from aiops.runs.requests import RunTrigger
from tests.contracts.conftest import SIDES
from tests.unit.health.fakes import MemoryHeldLocks, MemoryOpenApprovals

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
LEASE = timedelta(hours=12)
RUN = LockTarget(kind=LockKind.RUN, name="churn", model="churn")
ENDPOINT = LockTarget(kind=LockKind.DEPLOY, name="churn-prod", model="churn")
SERVING = LockTarget(kind=LockKind.SERVING, name="support-assistant", model="support-assistant")


class Writers(Protocol):
    """Arranges what the capabilities write (the ports under test only read)."""

    def take(self, target: LockTarget, holder: str, now: datetime) -> None: ...
    def release(self, target: LockTarget, holder: str, now: datetime) -> None: ...
    def open(self, model: str, version: int, created: datetime, expires: datetime) -> None: ...
    def decide(self, model: str, version: int) -> None: ...


@dataclass
class Side:
    locks: HeldLocks
    approvals: OpenApprovals
    write: Writers


class FakeWriters:
    def __init__(self, locks: MemoryHeldLocks, approvals: MemoryOpenApprovals) -> None:
        self.locks, self.approvals = locks, approvals

    def take(self, target: LockTarget, holder: str, now: datetime) -> None:
        # Run locks say when they were taken; a deployment's lock does not.
        acquired = now if target.kind == LockKind.RUN else None
        self.locks.take(target.kind, target.name, holder, now + LEASE, acquired)

    def release(self, target: LockTarget, holder: str, now: datetime) -> None:
        self.locks.release(target.kind, target.name)

    def open(self, model: str, version: int, created: datetime, expires: datetime) -> None:
        self.approvals.open(model, version, created, expires)

    def decide(self, model: str, version: int) -> None:
        self.approvals.close(model, version)


def _request(target: LockTarget, holder: str) -> DeploymentRequest:
    model, version = holder.rsplit("-v", 1)
    return DeploymentRequest(
        model=model,
        endpoint=target.name,
        version=int(version),
        package_arn=f"arn:aws:sagemaker:us-east-1:123456789012:model-package/{model}/{version}",
        package_group=model,
        requested_at=NOW,
        kind="sagemaker" if target.kind == LockKind.DEPLOY else "bedrock",
    )


class DynamoWriters:
    def __init__(self, table: str) -> None:
        self.runs = DynamoLockStore(table)
        self.deploys = DynamoDeployStore(table)
        self.serving = DynamoServingLocks(table)
        self.approvals = DynamoApprovalStore(table)

    def take(self, target: LockTarget, holder: str, now: datetime) -> None:
        if target.kind == LockKind.RUN:
            trigger = RunTrigger(kind="new_data", trigger_id=f"t-{holder}", reason="window full")
            assert self.runs.acquire(target.name, holder, trigger, now, LEASE).acquired
            return
        store = self.deploys if target.kind == LockKind.DEPLOY else self.serving
        assert store.claim(_request(target, holder), now, LEASE).acquired

    def release(self, target: LockTarget, holder: str, now: datetime) -> None:
        if target.kind == LockKind.RUN:
            self.runs.release(target.name, holder, now, LEASE)
            return
        store = self.deploys if target.kind == LockKind.DEPLOY else self.serving
        store.release(target.name, holder, now, LEASE)

    def open(self, model: str, version: int, created: datetime, expires: datetime) -> None:
        arn = f"arn:aws:sagemaker:us-east-1:123456789012:model-package/{model}/{version}"
        approval = Approval(
            model=model,
            version=version,
            package_arn=arn,
            status=ApprovalStatus.PENDING,
            created_at=created,
            expires_at=expires,
            summary=ApprovalSummary(
                model=model,
                version=version,
                package_arn=arn,
                package_group=model,
                run_id=f"{model}-w{version:06d}",
                metric="auc",
            ),
        )
        self.approvals.create(approval, task_token="token-never-read-by-the-watch")

    def decide(self, model: str, version: int) -> None:
        decision = Decision(
            status=ApprovalStatus.APPROVED, by="ml-lead@example.com", via="page", at=NOW
        )
        assert self.approvals.decide(model, version, decision, NOW, None)


@pytest.fixture(params=SIDES)
def side(request: pytest.FixtureRequest) -> Iterator[Side]:
    if request.param == "fake":
        locks, approvals = MemoryHeldLocks(), MemoryOpenApprovals()
        yield Side(locks, approvals, FakeWriters(locks, approvals))
        return
    tables: dict[str, Any] = request.getfixturevalue("moto_tables")
    table = tables["ControlTable"]
    yield Side(DynamoHeldLocks(table), DynamoOpenApprovals(table), DynamoWriters(table))


def test_a_lock_never_taken_is_not_held(side):
    assert side.locks.held([RUN, ENDPOINT, SERVING]) == []


def test_a_run_lock_is_held_by_its_run_with_its_lease_and_when_it_was_taken(side):
    side.write.take(RUN, "churn-w000001", NOW)

    assert side.locks.held([RUN]) == [
        HeldLock(target=RUN, holder="churn-w000001", expires_at=NOW + LEASE, acquired_at=NOW)
    ]


@pytest.mark.parametrize("target", [ENDPOINT, SERVING], ids=["endpoint", "serving"])
def test_a_deployment_lock_is_held_by_its_deployment_until_its_lease(side, target):
    holder = f"{target.model}-v3"
    side.write.take(target, holder, NOW)

    assert side.locks.held([target]) == [
        HeldLock(target=target, holder=holder, expires_at=NOW + LEASE)
    ]


@pytest.mark.parametrize("target", [RUN, ENDPOINT, SERVING], ids=["run", "endpoint", "serving"])
def test_a_released_lock_is_not_held(side, target):
    holder = "churn-w000001" if target.kind == LockKind.RUN else f"{target.model}-v3"
    side.write.take(target, holder, NOW)
    side.write.release(target, holder, NOW + timedelta(hours=1))

    assert side.locks.held([target]) == []


def test_a_lock_past_its_lease_is_still_held_by_its_holder(side):
    side.write.take(RUN, "churn-w000001", NOW - 2 * LEASE)

    (lock,) = side.locks.held([RUN])

    assert (lock.holder, lock.expires_at) == ("churn-w000001", NOW - LEASE)


def test_only_the_locks_asked_for_are_read_and_kinds_of_the_same_name_are_distinct(side):
    # A Bedrock model's serving lock and a run lock share the model's name.
    side.write.take(SERVING, "support-assistant-v2", NOW)
    side.write.take(RUN, "churn-w000001", NOW)
    run_of_the_same_name = LockTarget(
        kind=LockKind.RUN, name="support-assistant", model="support-assistant"
    )

    assert side.locks.held([run_of_the_same_name, ENDPOINT]) == []
    assert [lock.target for lock in side.locks.held([SERVING])] == [SERVING]


def test_more_locks_than_one_read_returns_are_all_read(side):
    targets = [
        LockTarget(kind=LockKind.RUN, name=f"m{n:03d}", model=f"m{n:03d}") for n in range(150)
    ]
    for target in targets[::3]:
        side.write.take(target, f"{target.name}-w000001", NOW)

    held = side.locks.held(targets)

    assert sorted(lock.target.name for lock in held) == [t.name for t in targets[::3]]


def test_an_open_approval_is_pending_with_its_wait(side):
    side.write.open("churn", 4, NOW, NOW + timedelta(hours=72))

    (approval,) = side.approvals.pending(["churn"])

    assert (approval.model, approval.version) == ("churn", 4)
    assert (approval.created_at, approval.expires_at) == (NOW, NOW + timedelta(hours=72))


def test_a_decided_approval_is_no_longer_pending_and_other_models_are_not_read(side):
    side.write.open("churn", 4, NOW, NOW + timedelta(hours=72))
    side.write.open("churn", 5, NOW, NOW + timedelta(hours=72))
    side.write.open("support-assistant", 1, NOW, NOW + timedelta(hours=72))
    side.write.decide("churn", 4)

    assert [(a.model, a.version) for a in side.approvals.pending(["churn"])] == [("churn", 5)]
    assert side.approvals.pending([]) == []


def test_an_approval_past_its_expiry_that_nobody_closed_is_still_pending(side):
    side.write.open("churn", 4, NOW - timedelta(hours=80), NOW - timedelta(hours=8))

    assert [a.version for a in side.approvals.pending(["churn"])] == [4]
