"""What the deploy capability acts through (adapters implement these)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Protocol

from aiops.deploy.model import (
    ClaimOutcome,
    CustomModelDeploymentView,
    Deployed,
    Deployment,
    DeploymentRequest,
    EndpointView,
    KnownGood,
    PackageSpec,
    Served,
    ServedGood,
    ServingChange,
    ShadowVariants,
    VariantStats,
)


class Endpoints(Protocol):
    """SageMaker endpoints, their configs and models."""

    def describe(self, endpoint: str) -> EndpointView | None:
        """None when the endpoint does not exist."""
        ...

    def ensure_model(
        self, name: str, image: str, model_data_url: str, tags: dict[str, str]
    ) -> None:
        """Create the Model (with the stack's model execution role) unless it exists."""
        ...

    def ensure_endpoint_config(
        self,
        name: str,
        model_name: str,
        variant: str,
        instance_type: str,
        instance_count: int,
        tags: dict[str, str],
    ) -> None:
        """Create the EndpointConfig unless it exists."""
        ...

    def config_exists(self, name: str) -> bool: ...

    def production_model(self, endpoint_config: str, variant: str) -> str | None:
        """The Model behind `variant` of an EndpointConfig (what a shadow test compares with)."""
        ...

    def create(self, endpoint: str, endpoint_config: str, tags: dict[str, str]) -> None: ...

    def update(
        self, endpoint: str, endpoint_config: str, deployment_config: dict[str, Any] | None
    ) -> None:
        """UpdateEndpoint; `deployment_config` None shifts all traffic at once, no bake."""
        ...


class Packages(Protocol):
    """The registry, as deploying reads and marks it."""

    def spec(self, package_arn: str) -> PackageSpec | None: ...

    def mark(self, package_arn: str, marks: dict[str, str]) -> None:
        """Add our marks (CustomerMetadataProperties) to the package, keeping the others."""
        ...


class ShadowTests(Protocol):
    """SageMaker inference experiments in shadow mode, and the variants' metrics."""

    def start(self, name: str, endpoint: str, variants: ShadowVariants, ends: datetime) -> None:
        """CreateInferenceExperiment (ShadowMode) until `ends`; a retried start is a no-op."""
        ...

    def stop(self, name: str) -> None:
        """End the experiment and remove its shadow variant (production keeps serving)."""
        ...

    def stats(
        self, endpoint: str, variant: str, start: datetime, end: datetime
    ) -> VariantStats: ...


class AlarmStates(Protocol):
    def firing(self, names: list[str]) -> list[str]:
        """Those of `names` in ALARM now."""
        ...


class DeployLocks(Protocol):
    """One deployment per endpoint; the newest approved version waits, older ones give way."""

    def claim(
        self, request: DeploymentRequest, now: datetime, lease: timedelta
    ) -> ClaimOutcome: ...

    def release(
        self, endpoint: str, deployment_id: str, now: datetime, lease: timedelta
    ) -> DeploymentRequest | None:
        """Release `deployment_id`'s hold; a waiting request inherits the lock and is returned
        to be started (a retried release returns it again)."""
        ...

    def holder(self, endpoint: str, now: datetime) -> str | None:
        """The deployment holding the endpoint now (an expired lease holds nothing)."""
        ...

    def waiting(self, endpoint: str) -> DeploymentRequest | None: ...


class EndpointHistory(Protocol):
    """What serves each endpoint, the versions that served it well, the deployment in flight."""

    def deployed(self, endpoint: str) -> Deployed | None: ...

    def known_goods(self, endpoint: str) -> list[KnownGood]:
        """Newest promotion first."""
        ...

    def begin(self, deployment: Deployment) -> None:
        """Record the deployment in flight (replacing a retried step's record)."""
        ...

    def in_flight(self, endpoint: str) -> Deployment | None: ...

    def promote(self, deployed: Deployed, good: KnownGood) -> None:
        """The deployment ended well: it serves, and is the newest known good."""
        ...

    def end(self, endpoint: str, deployment_id: str) -> None:
        """Forget the deployment in flight (if it is still this one)."""
        ...

    def roll_back(
        self, current: Deployed | None, to: Deployed, revoke_version: int, reason: str
    ) -> bool:
        """Serve `to` instead of `current` — only if `current` still serves (as recorded) —
        and revoke the rolled-back version as a known good. False when it no longer serves
        (someone rolled back first)."""
        ...

    def applied(self, endpoint: str, version: int) -> None:
        """The rollback to `version` was sent to SageMaker."""
        ...

    def hold_rollbacks(self, endpoint: str, until: datetime, reason: str) -> None:
        """Alarms until then belong to an incident already handled (SageMaker rolled back)."""
        ...

    def rollbacks_held(self, endpoint: str, now: datetime) -> str | None:
        """Why alarms are held now, if they are."""
        ...


class DeployStarter(Protocol):
    def start(self, request: DeploymentRequest) -> str | None:
        """Start the deploy workflow for `request`: its execution's ARN, or None when that
        execution exists already (its name is the request's: a repeat starts nothing)."""
        ...


class HumanApprovals(Protocol):
    def outcome(self, model: str, version: int) -> str | None:
        """How the candidate's human approval stands: pending, approved, rejected, superseded,
        expired, failed — None when it never had one."""
        ...


class CustomModelDeployments(Protocol):
    """Bedrock on-demand custom model deployments (no event tells their end: they are read)."""

    def get(self, name: str) -> CustomModelDeploymentView | None:
        """None when no deployment has that name."""
        ...

    def create(self, name: str, model_arn: str, tags: dict[str, str], token: str) -> str:
        """CreateCustomModelDeployment; its ARN. The same `token` again creates nothing new."""
        ...

    def update(self, identifier: str, model_arn: str) -> None:
        """UpdateCustomModelDeployment: `model_arn` serves behind the same ARN once done."""
        ...


class ServingParameters(Protocol):
    """SSM String parameters naming the custom model an application calls."""

    def get(self, name: str) -> str | None: ...

    def put(self, name: str, value: str) -> None:
        """Overwrite (or create) the parameter with `value`."""
        ...


class ServingHistory(Protocol):
    """What serves each Bedrock model, the versions that served it well, the change in
    flight."""

    def served(self, model: str) -> Served | None: ...

    def known_goods(self, model: str) -> list[ServedGood]:
        """Newest promotion first."""
        ...

    def begin(self, change: ServingChange) -> None:
        """Record the change in flight (replacing a retried step's record)."""
        ...

    def in_flight(self, model: str) -> ServingChange | None: ...

    def promote(self, served: Served, good: ServedGood) -> None: ...

    def end(self, model: str, deployment_id: str) -> None:
        """Forget the change in flight (if it is still this one)."""
        ...

    def roll_back(
        self, current: Served | None, to: Served, revoke_version: int, reason: str
    ) -> bool:
        """Serve `to` instead of `current` — only if `current` still serves (as recorded) —
        and revoke the rolled-back version as a known good; False when it no longer serves."""
        ...

    def applied(self, model: str, version: int) -> None:
        """The rollback to `version` was sent to Bedrock (or written to the parameter)."""
        ...
