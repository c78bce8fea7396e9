"""Everything the deploy capability acts through, travelling as one object."""

from __future__ import annotations

from dataclasses import dataclass

from aiops.deploy.ports import (
    AlarmStates,
    CustomModelDeployments,
    DeployLocks,
    DeployStarter,
    EndpointHistory,
    Endpoints,
    HumanApprovals,
    Packages,
    ServingHistory,
    ServingParameters,
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
    # Bedrock custom models: serving them (only the functions that do are given these).
    bedrock: BedrockServing | None = None


@dataclass(frozen=True)
class BedrockServing:
    """What serving Bedrock custom models acts through."""

    deployments: CustomModelDeployments
    parameters: ServingParameters
    history: ServingHistory
    # One serving change per model: the same lock as an endpoint's, keyed by the model's name.
    locks: DeployLocks
    # The stack's ServingParameterPrefix: IAM lets the functions write parameters under it only.
    parameter_prefix: str = "/aiops/"
    # Parameters never written as a serving switch (the control plane's own policy).
    reserved_parameters: tuple[str, ...] = ()
