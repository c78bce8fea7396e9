"""Everything the deploy capability acts through, travelling as one object."""

from __future__ import annotations

from dataclasses import dataclass

from aiops.deploy.ports import (
    AlarmStates,
    DeployLocks,
    DeployStarter,
    EndpointHistory,
    Endpoints,
    HumanApprovals,
    Packages,
    ShadowTests,
)
from aiops.idempotency import IdempotencyStore
from aiops.ledger import Ledger
from aiops.runs.ports import Alerts
from aiops.runs.rendezvous import RendezvousStore, TaskResumer
from aiops.verdicts import GateVerdicts


@dataclass(frozen=True)
class DeployDependencies:
    endpoints: Endpoints
    packages: Packages
    alarms: AlarmStates
    locks: DeployLocks
    history: EndpointHistory
    rendezvous: RendezvousStore
    resumer: TaskResumer
    starter: DeployStarter
    verdicts: GateVerdicts
    ledger: Ledger
    alerts: Alerts
    shadows: ShadowTests
    approvals: HumanApprovals
    # Claims on events' natural keys, so a redelivered event alerts once.
    claims: IdempotencyStore | None = None
