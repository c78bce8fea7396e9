"""The policy file: what the control plane may do for each model, declared, never coded.

A policy is validated whole before anything uses it: a bad field fails with its dotted location
and the reason (`PolicyError`), and nothing is half-applied.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from aiops.units import ByteSize, Duration

# A window's objects are kept in one DynamoDB item while it is open; 2,000 references fit well
# under the 400 KB item limit. Larger batches should close on bytes or max_age instead.
MAX_WINDOW_OBJECTS = 2000
# Where the control plane (and the jobs it starts) write: never training or labeled data, so its
# own outputs can never trigger it (no recursion), whichever bucket they land in.
CONTROL_PLANE_PREFIXES = ("manifests/", "drift/", "model-monitor/", "pipelines/", "datacapture/")
_MODEL_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
_PREFIX = re.compile(r"^[A-Za-z0-9!_.*'()/-]+/$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_prefix(value: str) -> str:
    if not _PREFIX.match(value):
        raise ValueError("must be an S3 key prefix ending in '/', e.g. 'raw/churn/'")
    for reserved in CONTROL_PLANE_PREFIXES:
        if value.startswith(reserved) or reserved.startswith(value):
            raise ValueError(
                f"{value!r} overlaps {reserved!r}, where the control plane writes its own outputs"
            )
    return value


class WindowPolicy(_Strict):
    """When a model's data window closes: whichever limit is reached first."""

    objects: int = Field(default=100, ge=1, le=MAX_WINDOW_OBJECTS)
    bytes: ByteSize = Field(default=10**9)
    max_age: Duration = Field(default=timedelta(hours=24))


class DataPolicy(_Strict):
    prefix: str
    window: WindowPolicy = WindowPolicy()

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        return _check_prefix(value)


class DriftMonitorPolicy(_Strict):
    """Our own scheduled drift check, for endpoints without SageMaker Model Monitor."""

    source: Literal["data_capture", "window"] = Field(
        default="data_capture",
        description="Compare the endpoint's captured requests, or the latest data window.",
    )
    capture_uri: str | None = Field(
        default=None,
        description="Data capture destination down to the variant: s3://bucket/prefix/endpoint/"
        "AllTraffic/ (files are under yyyy/mm/dd/hh/).",
    )
    lookback: Duration = Field(default=timedelta(hours=1))
    label: str | None = Field(
        default=None, description="The training data's target column: not in captured requests."
    )
    max_psi: float = Field(
        default=0.2,
        gt=0,
        description="Population stability index above which a numeric feature has drifted.",
    )
    max_unseen_share: float = Field(
        default=0.1,
        gt=0,
        le=1,
        description="Share of a categorical feature's values never "
        "seen in the baseline above which it has drifted.",
    )
    max_completeness_drop: float = Field(
        default=0.05, gt=0, le=1, description="Drop of the non-missing share against the baseline."
    )
    # Below a few hundred rows, sampling noise alone pushes a 10-bin PSI over 0.2 too often.
    min_rows: int = Field(default=500, ge=1, description="Fewer rows: no verdict.")

    @model_validator(mode="after")
    def _capture_needs_uri(self) -> DriftMonitorPolicy:
        if self.source == "data_capture":
            if self.capture_uri is None:
                raise ValueError("capture_uri: required when source is data_capture")
            if not re.match(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/(\S+/)?$", self.capture_uri):
                raise ValueError(
                    "capture_uri: must be s3://bucket/prefix/ ending in '/', "
                    f"not {self.capture_uri!r}"
                )
        return self


class DriftPolicy(_Strict):
    checks: list[str] = Field(
        default_factory=lambda: ["baseline_drift_check"],
        description="Model Monitor constraint_check_type values that count.",
    )
    features: list[str] | None = Field(default=None, description="Only these features count.")
    min_violations: int = Field(default=1, ge=1)
    cooldown: Duration = Field(
        default=timedelta(hours=24),
        description="Least time between two drift-triggered runs; drift within it only alerts.",
    )
    monitor: DriftMonitorPolicy | None = None


class GatePolicy(_Strict):
    metric: str
    higher_is_better: bool = True
    min_improvement: float = Field(default=0.0, ge=0)
    floor: float | None = None
    safety_min_pass_rate: float | None = Field(default=None, ge=0, le=1)
    fairness_max_gap: float | None = Field(default=None, ge=0)
    human: bool = True
    approvers: list[str] = Field(default_factory=list)
    timeout: Duration = Field(default=timedelta(hours=72))

    @field_validator("approvers")
    @classmethod
    def _emails(cls, value: list[str]) -> list[str]:
        for approver in value:
            if not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", approver):
                raise ValueError(f"{approver!r} is not an e-mail address")
        return value


class SageMakerDeployPolicy(_Strict):
    endpoint: str
    strategy: Literal["canary", "all_at_once"] = "canary"
    canary_percent: int = Field(default=10, ge=1, le=50)
    bake: Duration = Field(default=timedelta(minutes=15))
    rollback_alarms: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _canary_needs_alarms(self) -> SageMakerDeployPolicy:
        if self.strategy == "canary" and not self.rollback_alarms:
            raise ValueError("rollback_alarms: a canary needs at least one alarm to roll back on")
        return self


class BedrockDeployPolicy(_Strict):
    serving_parameter: str = Field(pattern=r"^/[A-Za-z0-9_./-]+$")


CostAction = Literal["notify", "pause_triggers", "scale_to_min", "stop_jobs"]


class BudgetPolicy(_Strict):
    anomaly_min_usd: float = Field(default=0, ge=0)
    actions: list[CostAction] = Field(default_factory=lambda: list[CostAction](["notify"]))


class LabelsPolicy(_Strict):
    prefix: str
    format: Literal["conversation", "prompt_completion"] = "conversation"
    min_records: int = Field(default=1000, ge=1)

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        return _check_prefix(value)


class _ModelBase(_Strict):
    dry_run: bool = False
    budget: BudgetPolicy = BudgetPolicy()
    run_timeout: Duration = Field(
        default=timedelta(hours=24),
        description="Longest a run may hold the model's lock; an expired lock can be taken over.",
    )


class SageMakerModelPolicy(_ModelBase):
    kind: Literal["sagemaker"]
    data: DataPolicy
    pipeline: str = Field(pattern=r"^[A-Za-z0-9](-*[A-Za-z0-9]){0,255}$")
    package_group: str = Field(pattern=r"^[A-Za-z0-9](-*[A-Za-z0-9]){0,62}$")
    drift: DriftPolicy = DriftPolicy()
    gate: GatePolicy
    deploy: SageMakerDeployPolicy


class BedrockModelPolicy(_ModelBase):
    kind: Literal["bedrock"]
    labels: LabelsPolicy
    base_model: str
    package_group: str | None = Field(default=None, pattern=r"^[A-Za-z0-9](-*[A-Za-z0-9]){0,62}$")
    gate: GatePolicy
    deploy: BedrockDeployPolicy


ModelPolicy = Annotated[SageMakerModelPolicy | BedrockModelPolicy, Field(discriminator="kind")]


class Policy(_Strict):
    version: Literal[1] = 1
    models: dict[str, ModelPolicy]

    @field_validator("models")
    @classmethod
    def _names_and_prefixes(cls, models: dict[str, ModelPolicy]) -> dict[str, ModelPolicy]:
        if not models:
            raise ValueError("declare at least one model")
        for name in models:
            if not _MODEL_NAME.match(name):
                raise ValueError(
                    f"model name {name!r}: lowercase letters, digits and '-', at most 40"
                )
        seen: dict[str, str] = {}
        for name, model in models.items():
            prefix = (
                model.data.prefix
                if isinstance(model, SageMakerModelPolicy)
                else model.labels.prefix
            )
            for other_prefix, other in seen.items():
                if prefix.startswith(other_prefix) or other_prefix.startswith(prefix):
                    raise ValueError(
                        f"{name}: prefix {prefix!r} overlaps {other}'s {other_prefix!r}; "
                        "an object must belong to one model"
                    )
            seen[prefix] = name
        return models

    def sagemaker_model_for_key(self, key: str) -> tuple[str, SageMakerModelPolicy] | None:
        """The SageMaker model whose training-data prefix holds `key`, if any."""
        for name, model in self.models.items():
            if isinstance(model, SageMakerModelPolicy) and key.startswith(model.data.prefix):
                return name, model
        return None

    def sagemaker_model_for_endpoint(
        self, endpoint: str
    ) -> tuple[str, SageMakerModelPolicy] | None:
        """The SageMaker model served by `endpoint`, if any."""
        for name, model in self.sagemaker_models().items():
            if model.deploy.endpoint == endpoint:
                return name, model
        return None

    def sagemaker_models(self) -> dict[str, SageMakerModelPolicy]:
        return {n: m for n, m in self.models.items() if isinstance(m, SageMakerModelPolicy)}

    def sagemaker_model(self, name: str) -> SageMakerModelPolicy:
        model = self.models.get(name)
        if not isinstance(model, SageMakerModelPolicy):
            raise UnknownModel(name)
        return model


class UnknownModel(LookupError):
    def __init__(self, name: str) -> None:
        super().__init__(f"model {name!r} is not a SageMaker model of the policy")
        self.name = name


class FieldProblem(BaseModel):
    model_config = ConfigDict(frozen=True)
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}"


class PolicyError(ValueError):
    """A policy that cannot be used, with every bad field and why."""

    def __init__(self, source: str, problems: list[FieldProblem]) -> None:
        self.source = source
        self.problems = problems
        listing = "; ".join(str(p) for p in problems)
        super().__init__(f"invalid policy {source}: {listing}")


def _location(loc: tuple[int | str, ...]) -> str:
    # Drop pydantic's discriminator tags ("sagemaker", "function-after[...]") from the path.
    parts = [str(p) for p in loc if not (isinstance(p, str) and ("[" in p or p in _KINDS))]
    return ".".join(parts) or "(root)"


_KINDS = {"sagemaker", "bedrock"}


def parse_policy(text: str, source: str = "<policy>") -> Policy:
    """Parse and validate a policy document, or raise `PolicyError` naming every bad field."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(document)"
        raise PolicyError(source, [FieldProblem(field=where, reason=f"not YAML: {exc}")]) from exc
    if not isinstance(raw, dict):
        raise PolicyError(source, [FieldProblem(field="(root)", reason="expected a mapping")])
    try:
        return Policy.model_validate(raw)
    except ValidationError as exc:
        problems = [
            FieldProblem(field=_location(err["loc"]), reason=err["msg"]) for err in exc.errors()
        ]
        raise PolicyError(source, problems) from exc
