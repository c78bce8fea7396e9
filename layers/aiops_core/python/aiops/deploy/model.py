"""What the deploy capability keeps and passes: requests, deployments in flight, what serves an
endpoint and the versions that served it well."""

import hashlib
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# How an endpoint came to serve what it serves.
How = Literal["created", "canary", "linear", "all_at_once", "rollback", "manual_rollback", "shadow"]


class DeploymentRequest(BaseModel):
    """The deploy workflow's input: one approved package for one endpoint."""

    model_config = ConfigDict(frozen=True, defer_build=True)
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
    # "sagemaker": onto an endpoint; "bedrock": a Bedrock custom model served (custom model
    # deployment or SSM parameter). For Bedrock, `endpoint` is the lock's target: the model's
    # name (one serving change per model at a time).
    kind: Literal["sagemaker", "bedrock"] = "sagemaker"
    # Bedrock: the custom model the package holds (its `aiops:custom-model-arn`).
    custom_model_arn: str | None = Field(default=None, min_length=20, max_length=1011)

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

    model_config = ConfigDict(frozen=True, defer_build=True)
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

    model_config = ConfigDict(frozen=True, defer_build=True)
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

    model_config = ConfigDict(frozen=True, defer_build=True)
    version: int
    package_arn: str
    endpoint_config: str
    model_name: str
    promoted_at: datetime
    revoked: str | None = None


class EndpointView(BaseModel):
    """DescribeEndpoint, as the deploy workflow reads it."""

    model_config = ConfigDict(frozen=True, defer_build=True)
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

    model_config = ConfigDict(frozen=True, defer_build=True)
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

    model_config = ConfigDict(frozen=True, defer_build=True)
    production_model: str
    production_variant: str
    shadow_model: str
    shadow_variant: str
    sampling_percent: int
    instance_type: str
    instance_count: int


class VariantStats(BaseModel):
    """A variant's requests over a shadow test (CloudWatch, AWS/SageMaker)."""

    model_config = ConfigDict(frozen=True, defer_build=True)
    invocations: float
    error_rate: float | None
    latency_ms: float | None


class ClaimOutcome(BaseModel):
    """The endpoint's lock asked for one request: taken, queued behind the holder, or refused
    because a newer version already waits (that request is `superseded`)."""

    model_config = ConfigDict(frozen=True, defer_build=True)
    acquired: bool
    holder: str | None = None
    queued: bool = False
    # A request that lost its place: the older waiting one (replaced by this one), or this one.
    superseded: DeploymentRequest | None = None


class StartDeploymentInput(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)
    request: DeploymentRequest
    # The shadow test passed: now shift traffic (the policy's `shadow.then`).
    after_shadow: bool = False


class AwaitDeploymentInput(StartDeploymentInput):
    task_token: str = Field(min_length=1, max_length=1024)


class FinishDeploymentInput(StartDeploymentInput):
    # The Catch's error ({Error, Cause}) when a step failed or the wait timed out.
    error: dict[str, Any] | None = None


# ------------------------------------------------------------------ Bedrock custom models
# The package's Bedrock custom model (written by the fine-tune workflow when it registers it).
MARK_CUSTOM_MODEL = "aiops:custom-model-arn"

Serving = Literal["custom_model_deployment", "parameter"]
# How a Bedrock model came to be served: a deployment created or updated, a parameter written,
# or a rollback.
ServingHow = Literal["created", "updated", "parameter", "rollback", "manual_rollback"]


class CustomModelDeploymentView(BaseModel):
    """GetCustomModelDeployment, as the Bedrock branch reads it."""

    model_config = ConfigDict(frozen=True, defer_build=True)
    arn: str
    name: str
    # The custom model serving requests now.
    model_arn: str
    status: str  # Creating | Active | Failed
    # An UpdateCustomModelDeployment in progress or ended: its model and status
    # (Updating | UpdateCompleted | UpdateFailed).
    update_model_arn: str | None = None
    update_status: str | None = None
    failure_message: str | None = None

    def outcome(self, model_arn: str) -> Literal["serving", "failed", "in_progress", "other"]:
        """Where serving `model_arn` stands: it serves, its create or update failed, it is
        under way, or another model serves (and nothing moves towards this one)."""
        if self.update_model_arn == model_arn:
            if self.update_status == "Updating":
                return "in_progress"
            if self.update_status == "UpdateFailed":
                return "failed"
            if self.update_status == "UpdateCompleted" and self.status == "Active":
                return "serving"
        if self.status == "Creating" or self.update_status == "Updating":
            return "in_progress" if self.model_arn == model_arn else "other"
        if self.status == "Failed":
            return "failed" if self.model_arn == model_arn else "other"
        return "serving" if self.model_arn == model_arn else "other"

    @property
    def busy(self) -> bool:
        """A creation or an update runs: no other update is accepted until it ends."""
        return self.status == "Creating" or self.update_status == "Updating"


class Served(BaseModel):
    """What serves a Bedrock model now, since when and how."""

    model_config = ConfigDict(frozen=True, defer_build=True)
    model: str
    version: int
    package_arn: str
    custom_model_arn: str
    serving: Serving
    # The custom model deployment's name, or the SSM parameter's name.
    target: str
    deployment_arn: str | None = None
    since: datetime
    how: ServingHow
    cause: dict[str, Any] = Field(default_factory=dict)
    # A rollback recorded whose swap is not confirmed yet (a retry completes it).
    applied: bool = True


class ServedGood(BaseModel):
    """A version that was promoted for a Bedrock model: a rollback target while not revoked."""

    model_config = ConfigDict(frozen=True, defer_build=True)
    version: int
    package_arn: str
    custom_model_arn: str
    promoted_at: datetime
    revoked: str | None = None


class ServingChange(BaseModel):
    """A Bedrock serving change in flight (at most one per model: the model's lock)."""

    model_config = ConfigDict(frozen=True, defer_build=True)
    request: DeploymentRequest
    serving: Serving
    target: str
    how: ServingHow
    previous_version: int | None = None
    # The custom model served before the change: put back if the change fails.
    previous_model_arn: str | None = None
    started_at: datetime
    # Set once Bedrock accepted the create or update.
    requested_at: datetime | None = None
    deployment_arn: str | None = None


class CheckServingInput(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)
    request: DeploymentRequest
    # How many times the workflow has read the deployment (its loop's bound).
    polls: int = Field(default=0, ge=0, le=10_000)
    # The Catch's error ({Error, Cause}) when a step failed.
    error: dict[str, Any] | None = None
