"""The control-plane watch: every few minutes, what in the control plane's own state needs a person.

- a lock held past its lease: its holder (a run, a deployment) ended without releasing it, or is
  stuck; triggers coalesced on it wait, and the next run or deployment takes it over only when
  one comes;
- approvals waiting, and those near their timeout: a timeout rejects the candidate, so someone
  should decide while there is time.

What it looks at comes from the policy (each model's run lock, its endpoint's or serving lock,
its approvals): a bounded number of reads per model, however large the table grows.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from aiops.health.ports import (
    HeldLock,
    HeldLocks,
    LockKind,
    LockTarget,
    OpenApproval,
    OpenApprovals,
)
from aiops.policy import Policy

# An approval is near its timeout in the last 20% of its wait or its last hour, whichever is
# longer (never more than the whole wait). One rule for every model, whatever its policy's
# timeout: 20% of the default 72 h is about 14 h, a working day to reach an approver; the hour
# keeps a short wait's warning longer than the alarm takes to arrive (a 5-minute watch, a
# 5-minute period) and a person to act.
NEAR_TIMEOUT_SHARE = 0.2
NEAR_TIMEOUT_FLOOR = timedelta(hours=1)


def near_timeout_window(wait: timedelta) -> timedelta:
    """How long before its timeout an approval of this `wait` counts as near it."""
    if wait <= timedelta(0):
        return timedelta(0)
    return min(wait, max(wait * NEAR_TIMEOUT_SHARE, NEAR_TIMEOUT_FLOOR))


@dataclass(frozen=True)
class HealthDependencies:
    """What the watch reads (the control table, read only)."""

    locks: HeldLocks
    approvals: OpenApprovals


class LockPastLease(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)
    kind: LockKind
    target: str
    model: str
    holder: str
    expires_at: datetime
    # How long ago the lease ended, and (when the lock says) how long it has been held.
    past_lease_s: int = Field(ge=0)
    held_for_s: int | None = Field(default=None, ge=0)


class ApprovalNearTimeout(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)
    model: str
    version: int
    expires_at: datetime
    # Time left before the timeout rejects the candidate (0: due, the workflow closes it).
    left_s: int = Field(ge=0)
    waiting_s: int = Field(ge=0)


class WatchReport(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)
    at: datetime
    locks_checked: int
    locks_held: int
    locks_past_lease: list[LockPastLease]
    pending_approvals: int
    approvals_near_timeout: list[ApprovalNearTimeout]


def lock_targets(policy: Policy) -> list[LockTarget]:
    """Every lock the policy's models can hold: each model's run lock, each SageMaker endpoint's
    deployment lock and each Bedrock model's serving lock."""
    targets = [LockTarget(kind=LockKind.RUN, name=name, model=name) for name in policy.models]
    endpoints: set[str] = set()
    for name, sagemaker in policy.sagemaker_models().items():
        if sagemaker.deploy.endpoint not in endpoints:
            endpoints.add(sagemaker.deploy.endpoint)
            targets.append(
                LockTarget(kind=LockKind.DEPLOY, name=sagemaker.deploy.endpoint, model=name)
            )
    targets += [
        LockTarget(kind=LockKind.SERVING, name=name, model=name) for name in policy.bedrock_models()
    ]
    return targets


def _seconds(span: timedelta) -> int:
    return max(0, int(span.total_seconds()))


def _past_lease(lock: HeldLock, now: datetime) -> LockPastLease:
    return LockPastLease(
        kind=lock.target.kind,
        target=lock.target.name,
        model=lock.target.model,
        holder=lock.holder,
        expires_at=lock.expires_at,
        past_lease_s=_seconds(now - lock.expires_at),
        held_for_s=_seconds(now - lock.acquired_at) if lock.acquired_at is not None else None,
    )


def _near_timeout(approval: OpenApproval, now: datetime) -> ApprovalNearTimeout | None:
    window = near_timeout_window(approval.expires_at - approval.created_at)
    if now < approval.expires_at - window:
        return None
    return ApprovalNearTimeout(
        model=approval.model,
        version=approval.version,
        expires_at=approval.expires_at,
        left_s=_seconds(approval.expires_at - now),
        waiting_s=_seconds(now - approval.created_at),
    )


def watch_control_plane(policy: Policy, deps: HealthDependencies, now: datetime) -> WatchReport:
    """Read the policy's locks and approvals once; report what is past its lease or near its
    timeout (oldest first)."""
    targets = lock_targets(policy)
    held = deps.locks.held(targets)
    # Expired when its lease ended strictly before now, as the lock stores decide a take-over.
    stale = [_past_lease(lock, now) for lock in held if lock.expires_at < now]
    pending = deps.approvals.pending(sorted(policy.models))
    near = [n for n in (_near_timeout(a, now) for a in pending) if n is not None]
    return WatchReport(
        at=now,
        locks_checked=len(targets),
        locks_held=len(held),
        locks_past_lease=sorted(stale, key=lambda s: (s.expires_at, s.kind, s.target)),
        pending_approvals=len(pending),
        approvals_near_timeout=sorted(near, key=lambda n: (n.expires_at, n.model, n.version)),
    )
