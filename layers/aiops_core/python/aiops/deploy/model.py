"""What the deploy capability keeps and passes: requests, deployments in flight, what serves an
endpoint and the versions that served it well."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# How an endpoint came to serve what it serves.
How = Literal["created", "canary", "linear", "all_at_once", "rollback", "manual_rollback", "shadow"]


class DeploymentRequest(BaseModel):
    """The deploy workflow's input: one approved package for one endpoint."""

    model_config = ConfigDict(frozen=True)
    model: str
    endpoint: str
    version: int = Field(ge=1)
    package_arn: str
    package_group: str
    requested_at: datetime
    cause: dict[str, Any] = Field(default_factory=dict)
    # "approved": started by the approval; "handover": started when the deployment it waited
    # behind ended (a second execution of the same request needs a name of its own).
    start: Literal["approved", "handover"] = "approved"

    @property
    def deployment_id(self) -> str:
        return f"{self.model}-v{self.version}"

    @property
    def execution_name(self) -> str:
        suffix = "" if self.start == "approved" else "-next"
        return f"deploy-{self.deployment_id}{suffix}"

    @property
    def resource_name(self) -> str:
        """The Model's and EndpointConfig's name: readable, unique per package (a hash of its
        ARN), within SageMaker's 63 characters."""
        digest = hashlib.sha256(self.package_arn.encode()).hexdigest()[:8]
        return f"aiops-{self.model[:30]}-v{self.version}-{digest}"


class Deployment(BaseModel):
    """A deployment in flight on an endpoint (at most one: the endpoint's lock)."""

    model_config = ConfigDict(frozen=True)
    request: DeploymentRequest
    how: How
    model_name: str
    endpoint_config: str
    previous_config: str | None = None
    previous_version: int | None = None
    rollback_alarms: list[str] = Field(default_factory=list)
    started_at: datetime
    # Set once SageMaker accepted the create/update: only then can an endpoint event end it.
    requested_at: datetime | None = None

    @property
    def wait_key(self) -> str:
        # The phase too: a shadow test and the traffic shift after it wait apart.
        return f"deploy/{self.request.endpoint}/{self.request.deployment_id}/{self.how}"


class Deployed(BaseModel):
    """What serves an endpoint now, since when and how it got there."""

    model_config = ConfigDict(frozen=True)
    model: str
    endpoint: str
    version: int
    package_arn: str
    endpoint_config: str
    model_name: str
    since: datetime
    how: How
    # A rollback: the alarm (or person) that caused it and the version it replaced.
    cause: dict[str, Any] = Field(default_factory=dict)
    # A rollback recorded but whose UpdateEndpoint is not confirmed yet (a retry completes it).
    applied: bool = True


class KnownGood(BaseModel):
    """A version that was promoted on the endpoint: a rollback target while not revoked."""

    model_config = ConfigDict(frozen=True)
    version: int
    package_arn: str
    endpoint_config: str
    model_name: str
    promoted_at: datetime
    revoked: str | None = None


class EndpointView(BaseModel):
    """DescribeEndpoint, as the deploy workflow reads it."""

    model_config = ConfigDict(frozen=True)
    status: str
    endpoint_config: str
    pending_config: str | None = None
    failure_reason: str | None = None

    @property
    def settled(self) -> bool:
        """No deployment is running: in service or failed, nothing pending."""
        return self.status in ("InService", "Failed") and self.pending_config is None


class PackageSpec(BaseModel):
    """A model package as deploying it needs it, read again from the registry."""

    model_config = ConfigDict(frozen=True)
    package_arn: str
    package_group: str
    version: int
    approval_status: str
    image: str | None
    model_data_url: str | None
    # Our marks on it (CustomerMetadataProperties aiops:*): e.g. rolled back, in production.
    marks: dict[str, str] = Field(default_factory=dict)
    approved_by: str | None = None
    description: str = ""

    @property
    def rolled_back(self) -> str | None:
        """Why this package must not be deployed again: rolled back, or its shadow test lost."""
        return self.marks.get(MARK_ROLLED_BACK) or self.marks.get(MARK_SHADOW_DISCARDED)


# CustomerMetadataProperties keys the deploy capability writes on a package.
MARK_ROLLED_BACK = "aiops:rolled-back"
MARK_SHADOW_DISCARDED = "aiops:shadow-discarded"
MARK_DEPLOYED = "aiops:deployed"


class ShadowVariants(BaseModel):
    """Production and the candidate, side by side in a shadow test."""

    model_config = ConfigDict(frozen=True)
    production_model: str
    production_variant: str
    shadow_model: str
    shadow_variant: str
    sampling_percent: int
    instance_type: str
    instance_count: int


class VariantStats(BaseModel):
    """A variant's requests over a shadow test (CloudWatch, AWS/SageMaker)."""

    model_config = ConfigDict(frozen=True)
    invocations: float
    error_rate: float | None
    latency_ms: float | None


class ClaimOutcome(BaseModel):
    """The endpoint's lock asked for one request: taken, queued behind the holder, or refused
    because a newer version already waits (that request is `superseded`)."""

    model_config = ConfigDict(frozen=True)
    acquired: bool
    holder: str | None = None
    queued: bool = False
    # A request that lost its place: the older waiting one (replaced by this one), or this one.
    superseded: DeploymentRequest | None = None


class StartDeploymentInput(BaseModel):
    model_config = ConfigDict(frozen=True)
    request: DeploymentRequest
    # The shadow test passed: now shift traffic (the policy's `shadow.then`).
    after_shadow: bool = False


class AwaitDeploymentInput(StartDeploymentInput):
    task_token: str = Field(min_length=1, max_length=1024)


class FinishDeploymentInput(StartDeploymentInput):
    # The Catch's error ({Error, Cause}) when a step failed or the wait timed out.
    error: dict[str, Any] | None = None
