"""The cost capability's vocabulary: a signal, its attribution, what was done about it."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from aiops.pauses import Pause

# One endpoint variant's capacity: SageMaker allows up to a few hundred instances a variant.
MAX_INSTANCES = 10_000


class RootCause(BaseModel):
    """Where Cost Anomaly Detection saw the extra spend (any field may be missing)."""

    model_config = ConfigDict(frozen=True, defer_build=True)
    service: str | None = None
    usage_type: str | None = None
    region: str | None = None
    linked_account: str | None = None
    contribution_usd: float | None = None


class CostSignal(BaseModel):
    """One anomaly (`anomaly:<id>`) or one spend alarm's state change (`alarm:<name>@<time>`)."""

    model_config = ConfigDict(frozen=True, defer_build=True)
    key: str
    source: Literal["anomaly", "alarm"]
    event_id: str
    started_at: datetime
    # Anomalies: what Cost Anomaly Detection says the anomaly cost (totalImpact), in USD.
    impact_usd: float | None = None
    anomaly_id: str | None = None
    monitor_name: str | None = None
    monitor_arn: str | None = None
    dimension_value: str | None = None
    link: str | None = None
    root_causes: list[RootCause] = Field(default_factory=list)
    # Spend alarms.
    alarm_name: str | None = None
    alarm_state: Literal["ALARM", "OK", "INSUFFICIENT_DATA"] | None = None
    alarm_previous: Literal["ALARM", "OK", "INSUFFICIENT_DATA"] | None = None
    alarm_reason: str = ""

    @property
    def delivery_key(self) -> str:
        """What one decision covers: an anomaly is decided again when its impact grows (Cost
        Anomaly Detection alerts again as it does: one below `anomaly_min_usd` at first may
        not be later); its actions still run once per anomaly."""
        if self.source == "anomaly" and self.impact_usd is not None:
            return f"{self.key}@{self.impact_usd:.2f}"
        return self.key

    @property
    def origin(self) -> str:
        if self.source == "anomaly":
            return f"cost anomaly {self.anomaly_id}"
        return f"spend alarm {self.alarm_name}"


class Attribution(BaseModel):
    """A model the signal belongs to, how we know, and the spend that is its."""

    model_config = ConfigDict(frozen=True, defer_build=True)
    model: str
    # specific: a tag, a monitor, a usage type or an alarm the policy names — enough to act on.
    # service: only the service matched — told, never acted on beyond notify.
    strength: Literal["specific", "service"]
    how: str
    impact_usd: float | None = None


class VariantCapacity(BaseModel):
    """An endpoint variant's instances, and its Application Auto Scaling bounds when it has a
    scalable target."""

    model_config = ConfigDict(frozen=True, defer_build=True)
    endpoint: str
    variant: str
    instances: int = Field(ge=0, le=MAX_INSTANCES)
    scaling_min: int | None = Field(default=None, ge=0, le=MAX_INSTANCES)
    scaling_max: int | None = Field(default=None, ge=0, le=MAX_INSTANCES)
    # A saved capacity: the signal whose scale-down saved it (a spend alarm back to OK restores
    # only what it scaled down).
    saved_by: str | None = None

    @property
    def scaled(self) -> bool:
        return self.scaling_min is not None and self.scaling_max is not None

    @property
    def minimum(self) -> int:
        """The fewest instances the variant may run: its scaling minimum, else 1 (a real-time
        endpoint's variant cannot run on none)."""
        return max(self.scaling_min or 1, 1)

    def describe(self) -> str:
        bounds = f" (auto scaling {self.scaling_min}-{self.scaling_max})" if self.scaled else ""
        return f"{self.endpoint}/{self.variant}: {self.instances} instance(s){bounds}"


class EndpointState(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)
    endpoint: str
    status: str
    # The endpoint's `aiops:model` tag ("" when untagged): only a policy model's is ours.
    model_tag: str
    # Variants with instances (serverless variants have none to scale).
    variants: list[VariantCapacity]


CostActionName = Literal["notify", "pause_triggers", "stop_jobs", "scale_to_min", "rollback"]


class ActionOutcome(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)
    model: str
    action: CostActionName
    outcome: Literal["done", "skipped", "failed", "already_done"]
    detail: str


class CostDecision(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)
    action: Literal[
        "ignored", "duplicate", "unattributed", "below_threshold", "remediated", "resumed"
    ]
    key: str
    reason: str
    models: list[str] = Field(default_factory=list)
    outcomes: list[ActionOutcome] = Field(default_factory=list)


class ResumeResult(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)
    model: str
    # The pause lifted, as it was.
    pause: Pause | None = None
    restored: list[VariantCapacity] = Field(default_factory=list)
    # Saved capacity left for a later resume (its endpoint not in service).
    still_scaled_down: list[VariantCapacity] = Field(default_factory=list)
    # Saved capacity of endpoints that are gone: forgotten, nothing to restore.
    dropped: list[VariantCapacity] = Field(default_factory=list)
    reason: str

    @property
    def lifted(self) -> bool:
        return self.pause is not None
