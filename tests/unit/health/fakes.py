"""In-memory stand-ins for the control-plane watch's ports, held to the adapters' contract
(tests/contracts/test_control_plane_state_contract.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from aiops.health.ports import HeldLock, LockKind, LockTarget, OpenApproval


class MemoryHeldLocks:
    def __init__(self) -> None:
        # (kind, target) → (holder, expires_at, acquired_at)
        self.locks: dict[tuple[LockKind, str], tuple[str, datetime, datetime | None]] = {}

    def take(
        self,
        kind: LockKind,
        name: str,
        holder: str,
        expires_at: datetime,
        acquired_at: datetime | None = None,
    ) -> None:
        self.locks[(kind, name)] = (holder, expires_at, acquired_at)

    def release(self, kind: LockKind, name: str) -> None:
        self.locks.pop((kind, name), None)

    def held(self, targets: Sequence[LockTarget]) -> list[HeldLock]:
        found: list[HeldLock] = []
        for target in targets:
            lock = self.locks.get((target.kind, target.name))
            if lock is not None:
                holder, expires_at, acquired_at = lock
                found.append(
                    HeldLock(
                        target=target,
                        holder=holder,
                        expires_at=expires_at,
                        acquired_at=acquired_at,
                    )
                )
        return found


class MemoryOpenApprovals:
    def __init__(self) -> None:
        self.approvals: dict[tuple[str, int], OpenApproval] = {}

    def open(self, model: str, version: int, created_at: datetime, expires_at: datetime) -> None:
        self.approvals[(model, version)] = OpenApproval(
            model=model, version=version, created_at=created_at, expires_at=expires_at
        )

    def close(self, model: str, version: int) -> None:
        self.approvals.pop((model, version), None)

    def pending(self, models: Sequence[str]) -> list[OpenApproval]:
        wanted = set(models)
        return [a for (model, _), a in sorted(self.approvals.items()) if model in wanted]
