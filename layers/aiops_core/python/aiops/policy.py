"""The policy file: what the control plane may do for each model, declared, never coded.

A policy is validated whole before anything uses it: a bad field fails with its dotted location
and the reason (`PolicyError`), and nothing is half-applied.
"""

import itertools
import math
import re
from collections.abc import Iterator
from datetime import timedelta
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from aiops.base_models import BaseModelSpec, base_model, base_models
from aiops.units import ByteSize, Duration, FiniteFloat, format_duration

if TYPE_CHECKING:
    import yaml

# A window's objects are kept in one DynamoDB item while it is open; 2,000 references fit well
# under the 400 KB item limit. Larger batches should close on bytes or max_age instead.
MAX_WINDOW_OBJECTS = 2000
# S3's largest object is 5 TiB: a window of MAX_WINDOW_OBJECTS of them is the most bytes a window
# can ever hold, so a larger `bytes` limit could never be the one that closes it.
S3_MAX_OBJECT_BYTES = 5 * 2**40
MAX_WINDOW_BYTES = MAX_WINDOW_OBJECTS * S3_MAX_OBJECT_BYTES
# Gate metrics may be unbounded (RMSE, log loss), but a floor or margin beyond 10^12 is a typo
# that makes the check impossible (or switches it off), not a threshold.
MAX_METRIC = 1e12
# Cost anomalies are reported in dollars; a billion-dollar threshold is no threshold.
MAX_ANOMALY_USD = 1e9
# Population stability index: 0.1-0.25 is the usual alarm; with the drift check's bin floor
# (PSI_EPSILON, 1e-4) the PSI never exceeds 2·ln(10^4) ≈ 18.4, so a threshold near it never fires.
MAX_PSI = 10.0
# Counts (rows, records, violations) above a billion are typos: no drift check or fine-tuning
# job sees that many in one go, and such a minimum would switch its check off for good.
MAX_COUNT = 10**9
# A policy is a few KB (an SSM Advanced parameter holds 8 KB); larger files are refused before
# parsing, so a mistaken path or a generated monster cannot tie up the parser.
MAX_POLICY_BYTES = 2**20
# Deeper YAML nesting than any policy needs; Python's recursion would give out near 1,000.
MAX_YAML_DEPTH = 64
# Values in the document once aliases are expanded: bounds "billion laughs" alias bombs, which
# are tiny as text and exponential once read.
MAX_YAML_VALUES = 100_000
# Where the control plane (and the jobs it starts) write: never training or labeled data, so its
# own outputs can never trigger it (no recursion), whichever bucket they land in.
CONTROL_PLANE_PREFIXES = (
    "manifests/",
    "drift/",
    "model-monitor/",
    "pipelines/",
    "datacapture/",
    "quarantine/",
    "finetune/",
)
_MODEL_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
# One name of a key prefix: S3's safe characters without '*' (a prefix is literal, not a glob).
_PREFIX_PART = re.compile(r"[A-Za-z0-9!_.'()-]+")
_S3_MAX_KEY_BYTES = 1024


def _between(
    value: timedelta, low: tuple[timedelta, str], high: tuple[timedelta, str]
) -> timedelta:
    """`value` within [low, high], else an error saying both bounds and why each is there."""
    if low[0] <= value <= high[0]:
        return value

    def bound(limit: tuple[timedelta, str]) -> str:
        return f"{format_duration(limit[0])}{f' ({limit[1]})' if limit[1] else ''}"

    raise ValueError(f"must be between {bound(low)} and {bound(high)}")


class _Strict(BaseModel):
    # strict: a value of the wrong YAML type is an error, not coerced ("yes" is no bool, 5.0 no
    # int, "0.5" no float); ints are still accepted where a float is expected.
    # Built on first use (the first policy read), not at every function's cold start.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, defer_build=True)


def _is_key_prefix(value: str) -> bool:
    """`raw/churn/`: names between single slashes, ending in one; no '.', '..' or wildcard."""
    names = value.split("/")
    return (
        len(value) <= _S3_MAX_KEY_BYTES
        and len(names) >= 2
        and names[-1] == ""
        and all(_PREFIX_PART.fullmatch(name) and name not in {".", ".."} for name in names[:-1])
    )


def _check_prefix(value: str) -> str:
    if not _is_key_prefix(value):
        raise ValueError(
            "must be an S3 key prefix ending in '/', e.g. 'raw/churn/': names of letters, digits "
            "and !_.'()- between single slashes; no leading '/', no '.' or '..', no wildcards"
        )
    for reserved in CONTROL_PLANE_PREFIXES:
        if value.startswith(reserved) or reserved.startswith(value):
            raise ValueError(
                f"{value!r} overlaps {reserved!r}, where the control plane writes its own outputs"
            )
    return value


class WindowPolicy(_Strict):
    """When a model's data window closes: whichever limit is reached first."""

    objects: int = Field(default=100, ge=1, le=MAX_WINDOW_OBJECTS)
    bytes: ByteSize = Field(default=10**9, le=MAX_WINDOW_BYTES)
    max_age: Duration = Field(default=timedelta(hours=24))


class DataPolicy(_Strict):
    prefix: str
    # Defaults by factory here and below: a default instance would build its schema at import.
    window: WindowPolicy = Field(default_factory=WindowPolicy)

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
    max_psi: FiniteFloat = Field(
        default=0.2,
        gt=0,
        le=MAX_PSI,
        description="Population stability index above which a numeric feature has drifted.",
    )
    max_unseen_share: FiniteFloat = Field(
        default=0.1,
        gt=0,
        le=1,
        description="Share of a categorical feature's values never "
        "seen in the baseline above which it has drifted.",
    )
    max_completeness_drop: FiniteFloat = Field(
        default=0.05, gt=0, le=1, description="Drop of the non-missing share against the baseline."
    )
    # Below a few hundred rows, sampling noise alone pushes a 10-bin PSI over 0.2 too often.
    min_rows: int = Field(default=500, ge=1, le=MAX_COUNT, description="Fewer rows: no verdict.")

    @model_validator(mode="after")
    def _capture_needs_uri(self) -> "DriftMonitorPolicy":
        if self.source == "data_capture":
            if self.capture_uri is None:
                raise ValueError("capture_uri: required when source is data_capture")
            match = re.fullmatch(r"s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/(.*)", self.capture_uri)
            if match is None or (match.group(1) and not _is_key_prefix(match.group(1))):
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
    min_violations: int = Field(default=1, ge=1, le=MAX_COUNT)
    cooldown: Duration = Field(
        default=timedelta(hours=24),
        description="Least time between two drift-triggered runs; drift within it only alerts.",
    )
    monitor: DriftMonitorPolicy | None = None


MIN_APPROVAL_TIMEOUT = timedelta(minutes=5)
MAX_APPROVAL_TIMEOUT = timedelta(days=360)


class GatePolicy(_Strict):
    metric: str = Field(min_length=1)
    higher_is_better: bool = True
    min_improvement: FiniteFloat = Field(default=0.0, ge=0, le=MAX_METRIC)
    floor: FiniteFloat | None = Field(default=None, ge=-MAX_METRIC, le=MAX_METRIC)
    safety_min_pass_rate: FiniteFloat | None = Field(default=None, ge=0, le=1)
    fairness_max_gap: FiniteFloat | None = Field(default=None, ge=0, le=MAX_METRIC)
    human: bool = True
    # Each approver gets a notice and a link of their own (one SNS publish each).
    approvers: list[str] = Field(default_factory=list, max_length=20)
    # A person needs minutes at least; the approval workflow must end inside Step Functions'
    # one-year limit on a standard execution.
    timeout: Duration = Field(default=timedelta(hours=72))

    @field_validator("timeout")
    @classmethod
    def _approval_window(cls, value: timedelta) -> timedelta:
        return _between(
            value,
            (MIN_APPROVAL_TIMEOUT, "time for a person"),
            (MAX_APPROVAL_TIMEOUT, "a workflow lasts at most a year"),
        )

    @field_validator("approvers")
    @classmethod
    def _emails(cls, value: list[str]) -> list[str]:
        for approver in value:
            # 254: the longest address SMTP carries.
            if len(approver) > 254 or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", approver):
                raise ValueError(f"{approver[:60]!r} is not an e-mail address")
        seen = [a.casefold() for a in value]
        repeated = sorted({a for a in seen if seen.count(a) > 1})
        if repeated:
            raise ValueError(f"{', '.join(repeated)} named more than once")
        return value


# SageMaker's bounds on a blue/green deployment (BlueGreenUpdatePolicy, TrafficRoutingConfig).
MAX_BAKE = timedelta(hours=1)  # WaitIntervalInSeconds, TerminationWaitInSeconds: 0-3600 s
MIN_DEPLOY_TIMEOUT = timedelta(minutes=10)  # MaximumExecutionTimeoutInSeconds: 600-28800 s
MAX_DEPLOY_TIMEOUT = timedelta(hours=8)
MAX_ROLLBACK_ALARMS = 10  # AutoRollbackConfiguration.Alarms: 1-10
# Instances an endpoint variant may ask for: far above any account's default quota.
MAX_INSTANCE_COUNT = 100
# Shadow tests: SageMaker runs an inference experiment for at most 30 days.
MIN_SHADOW_DURATION = timedelta(hours=1)
MAX_SHADOW_DURATION = timedelta(days=30)
_ALARM_NAME = re.compile(r"[^\x00-\x1f]{1,255}")


class ShadowPolicy(_Strict):
    """A shadow test: the candidate answers a copy of production's requests, unseen by callers;
    at the end its error rate and latency against production's decide."""

    sampling_percent: int = Field(default=10, ge=1, le=100)
    duration: Duration = Field(default=timedelta(hours=24))
    # Promote when the shadow's 5xx rate is at most production's plus this (absolute, 0-1) ...
    max_error_rate_increase: FiniteFloat = Field(default=0.001, ge=0, le=1)
    # ... and its average model latency at most production's times (1 + this).
    max_latency_increase: FiniteFloat = Field(default=0.2, ge=0, le=100)
    # Fewer shadow requests than this decide nothing: the candidate is discarded, not trusted.
    min_invocations: int = Field(default=100, ge=1, le=MAX_COUNT)
    # After a good shadow test, how the candidate replaces production.
    then: Literal["canary", "linear", "all_at_once"] = "canary"

    @field_validator("duration")
    @classmethod
    def _experiment_length(cls, value: timedelta) -> timedelta:
        return _between(
            value,
            (MIN_SHADOW_DURATION, ""),
            (MAX_SHADOW_DURATION, "SageMaker's longest inference experiment"),
        )


class SageMakerDeployPolicy(_Strict):
    # SageMaker's own rule for endpoint names: a typo here would never match an endpoint.
    endpoint: str = Field(pattern=r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
    strategy: Literal["canary", "linear", "all_at_once", "shadow"] = "canary"
    # canary: the first share of capacity; linear: each step's share (SageMaker: at most 50%).
    canary_percent: int = Field(default=10, ge=1, le=50)
    # How long each traffic step bakes before the next (WaitIntervalInSeconds).
    bake: Duration = Field(default=timedelta(minutes=15))
    # How long the old fleet stays after all traffic moved: alarms still roll back within it.
    termination_wait: Duration = Field(default=timedelta(minutes=10))
    # The longest a deployment may take before SageMaker itself rolls it back.
    timeout: Duration = Field(default=timedelta(hours=2))
    rollback_alarms: list[str] = Field(default_factory=list, max_length=MAX_ROLLBACK_ALARMS)
    instance_type: str = Field(default="ml.m5.large", pattern=r"^ml\.[a-z0-9]+[a-z0-9.-]*$")
    instance_count: int = Field(default=2, ge=1, le=MAX_INSTANCE_COUNT)
    # The production variant's name: blue/green keeps it across every deployment.
    variant: str = Field(default="AllTraffic", pattern=r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
    shadow: ShadowPolicy | None = None

    @field_validator("bake", "termination_wait")
    @classmethod
    def _sagemaker_wait(cls, value: timedelta) -> timedelta:
        return _between(value, (timedelta(0), ""), (MAX_BAKE, "SageMaker"))

    @field_validator("timeout")
    @classmethod
    def _sagemaker_timeout(cls, value: timedelta) -> timedelta:
        return _between(
            value,
            (MIN_DEPLOY_TIMEOUT, ""),
            (MAX_DEPLOY_TIMEOUT, "SageMaker's deployment timeout"),
        )

    @field_validator("rollback_alarms")
    @classmethod
    def _alarm_names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not _ALARM_NAME.fullmatch(name):
                raise ValueError(f"{name[:60]!r} is not a CloudWatch alarm name (1-255 characters)")
        if len(set(value)) != len(value):
            raise ValueError("an alarm is named more than once")
        return value

    @model_validator(mode="after")
    def _strategy_is_complete(self) -> "SageMakerDeployPolicy":
        shifts = self.shadow.then if self.strategy == "shadow" and self.shadow else self.strategy
        if shifts in ("canary", "linear") and not self.rollback_alarms:
            raise ValueError(
                f"rollback_alarms: a {shifts} deployment needs at least one alarm to roll back on"
            )
        if self.strategy == "shadow" and self.shadow is None:
            raise ValueError("shadow: strategy shadow needs a shadow section")
        if self.strategy != "shadow" and self.shadow is not None:
            raise ValueError("shadow: only strategy shadow runs a shadow test")
        steps = 1 if shifts in ("canary", "all_at_once") else math.ceil(100 / self.canary_percent)
        waits = (self.bake * steps if shifts != "all_at_once" else timedelta(0)) + (
            self.termination_wait
        )
        if waits >= self.timeout:
            raise ValueError(
                f"timeout: {format_duration(self.timeout)} leaves no time to deploy after "
                f"{format_duration(waits)} of bake and termination wait"
            )
        return self

    @property
    def shifts_traffic_by(self) -> Literal["canary", "linear", "all_at_once"]:
        """How traffic moves to the new version (a shadow test's `then`)."""
        if self.strategy == "shadow":
            return self.shadow.then if self.shadow else "canary"
        return self.strategy


class BedrockDeployPolicy(_Strict):
    """How applications reach the approved custom model: an on-demand custom model deployment
    whose model is swapped (one ARN for every version), or an SSM parameter naming the model."""

    # Default: a parameter when `serving_parameter` is set, else a custom model deployment.
    serving: Literal["custom_model_deployment", "parameter"] | None = None
    # Bedrock's rule for deployment names; default aiops-<model>.
    deployment_name: str | None = Field(
        default=None, pattern=r"^([0-9a-zA-Z][_-]?){1,63}$", max_length=63
    )
    serving_parameter: str | None = Field(
        default=None, pattern=r"^/[A-Za-z0-9_./-]+$", max_length=2048
    )
    # Alarms (latency, errors, token spend) that roll the serving model back to the last good.
    rollback_alarms: list[str] = Field(default_factory=list, max_length=MAX_ROLLBACK_ALARMS)

    @field_validator("rollback_alarms")
    @classmethod
    def _alarm_names(cls, value: list[str]) -> list[str]:
        return SageMakerDeployPolicy._alarm_names(value)

    @model_validator(mode="after")
    def _serving_is_complete(self) -> "BedrockDeployPolicy":
        if self.serving_mode == "parameter" and self.serving_parameter is None:
            raise ValueError("serving_parameter: serving by parameter needs the parameter's name")
        if self.serving_mode == "custom_model_deployment" and self.serving_parameter is not None:
            raise ValueError("serving_parameter: only with serving: parameter")
        if self.serving_mode == "parameter" and self.deployment_name is not None:
            raise ValueError("deployment_name: only with serving: custom_model_deployment")
        return self

    @property
    def serving_mode(self) -> Literal["custom_model_deployment", "parameter"]:
        if self.serving is not None:
            return self.serving
        return "parameter" if self.serving_parameter is not None else "custom_model_deployment"


CostAction = Literal["notify", "pause_triggers", "scale_to_min", "stop_jobs", "rollback"]
MAX_PAUSE = timedelta(days=90)
MAX_ROLLBACK_WITHIN = timedelta(days=14)
# Cost Explorer usage types: letters, digits and a few separators ("USE1-NovaLite-output-tokens",
# "USE1-Host:ml.m5.large"); `*` matches any run of characters.
_USAGE_TYPE = re.compile(r"[A-Za-z0-9*][A-Za-z0-9*:._/()-]{0,199}")
_MONITOR = re.compile(r"[^\x00-\x1f]{1,1024}")


class BudgetPolicy(_Strict):
    """What a cost anomaly or spend alarm attributed to the model does. Actions run in the
    order notify, pause_triggers, stop_jobs, scale_to_min, rollback, only those listed."""

    # An anomaly's impact (USD) on the model below this is recorded, nothing else.
    anomaly_min_usd: FiniteFloat = Field(default=0, ge=0, le=MAX_ANOMALY_USD)
    actions: list[CostAction] = Field(default_factory=lambda: list[CostAction](["notify"]))
    # CloudWatch alarms on the model's own spend (token counts, invocations, instance hours).
    spend_alarms: list[str] = Field(default_factory=list, max_length=50)
    # Cost Explorer usage types that are the model's ("USE1-NovaLite-*-tokens"): a root cause
    # with one of them is attributed to the model.
    usage_types: list[str] = Field(default_factory=list, max_length=50)
    # Anomaly monitors (name or ARN) that watch only this model, e.g. one on aiops:model.
    monitors: list[str] = Field(default_factory=list, max_length=20)
    # A pause lifts itself after this long (none: until `aiops resume`).
    pause_for: Duration | None = None
    # The spend alarm that paused or scaled the model, back to OK, resumes it.
    resume_on_ok: bool = False
    # `rollback` only when the serving version was deployed this long before the anomaly
    # started, or after: an anomaly that predates the deployment is not the deployment's.
    rollback_within: Duration = Field(default=timedelta(days=1))

    @field_validator("actions")
    @classmethod
    def _actions_once(cls, value: list[CostAction]) -> list[CostAction]:
        if len(set(value)) != len(value):
            raise ValueError("an action is named more than once")
        return value

    @field_validator("spend_alarms")
    @classmethod
    def _alarm_names(cls, value: list[str]) -> list[str]:
        return SageMakerDeployPolicy._alarm_names(value)

    @field_validator("usage_types")
    @classmethod
    def _usage_types(cls, value: list[str]) -> list[str]:
        for pattern in value:
            if not _USAGE_TYPE.fullmatch(pattern) or pattern.strip("*") == "":
                raise ValueError(
                    f"{pattern[:60]!r} is not a usage type pattern (letters, digits, :._/()- "
                    "and *, not only *)"
                )
        return value

    @field_validator("monitors")
    @classmethod
    def _monitor_names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not _MONITOR.fullmatch(name):
                raise ValueError(f"{name[:60]!r} is not a monitor name or ARN")
        return value

    @field_validator("pause_for")
    @classmethod
    def _pause_length(cls, value: timedelta | None) -> timedelta | None:
        if value is None:
            return value
        return _between(value, (timedelta(minutes=5), ""), (MAX_PAUSE, ""))

    @field_validator("rollback_within")
    @classmethod
    def _rollback_window(cls, value: timedelta) -> timedelta:
        return _between(value, (timedelta(minutes=5), ""), (MAX_ROLLBACK_WITHIN, ""))


RecordFormatName = Literal["bedrock-conversation-2024", "claude-messages", "prompt-completion"]
# Bedrock's automatic evaluation jobs read at most 1,000 prompts from a custom dataset.
MAX_EVALUATION_PROMPTS = 1000
# Looks at an evaluation before its timeout (each a few of a workflow's 25,000 history events).
MAX_EVALUATION_POLLS = 1000


class GroundTruthPolicy(_Strict):
    """Labeling jobs tagged `aiops:model` with this model: their output manifest's lines
    become records of the base model's format (question from `prompt_field`, the labelers'
    answer from the label attribute, or its `answer_field` when it is an object)."""

    prompt_field: str = Field(default="source", min_length=1, max_length=128)
    answer_field: str = Field(default="answer", min_length=1, max_length=128)


class LabelsPolicy(_Strict):
    prefix: str
    # Default: the base model's format (base_models.json); naming another one is an error.
    format: RecordFormatName | None = None
    min_records: int = Field(default=1000, ge=1, le=MAX_COUNT)
    # Fine-tune on what there is once the oldest counted record is this old.
    max_age: Duration = Field(default=timedelta(days=7))
    # A file with bad records: quarantine it whole (none of it counts), or only its bad records.
    quarantine: Literal["file", "records"] = "records"
    # The report lists every kind of problem with its count, and this many examples in full.
    max_examples: int = Field(default=20, ge=1, le=1000)
    # Ground Truth labeling jobs for this model (their completion imports their output).
    ground_truth: GroundTruthPolicy | None = None

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        return _check_prefix(value)


class EvaluationPolicy(_Strict):
    """How a fine-tuned candidate is evaluated: it answers a held-out share of its good records
    through an evaluation deployment of its own; its answers are scored for the gate's metric
    (`rougeL`, `exact_match`) and, by a Bedrock evaluation job, for toxicity (the safety check)."""

    task_type: Literal["Generation", "Summarization", "QuestionAndAnswer", "Classification"] = (
        "Generation"
    )
    holdout_percent: int = Field(default=10, ge=1, le=50)
    max_holdout_records: int = Field(default=500, ge=10, le=MAX_EVALUATION_PROMPTS)
    # The longest answer the candidate may give to a held-out prompt.
    max_answer_tokens: int = Field(default=512, ge=1, le=8192)
    # A response whose toxicity score is above this fails the safety check.
    max_toxicity: FiniteFloat = Field(default=0.5, gt=0, le=1)
    timeout: Duration = Field(default=timedelta(hours=4))
    # How often the workflow reads the evaluation job (Bedrock sends no event when it ends).
    poll: Duration = Field(default=timedelta(minutes=5))

    @field_validator("timeout")
    @classmethod
    def _evaluation_window(cls, value: timedelta) -> timedelta:
        return _between(value, (timedelta(minutes=15), ""), (timedelta(hours=24), ""))

    @field_validator("poll")
    @classmethod
    def _poll_interval(cls, value: timedelta) -> timedelta:
        return _between(value, (timedelta(seconds=30), ""), (timedelta(hours=1), ""))

    @model_validator(mode="after")
    def _bounded_polls(self) -> "EvaluationPolicy":
        # Each look is a few state transitions: a standard workflow holds 25,000 events.
        if self.timeout / self.poll > MAX_EVALUATION_POLLS:
            raise ValueError(
                f"poll: {format_duration(self.poll)} over a {format_duration(self.timeout)} "
                f"timeout is more than {MAX_EVALUATION_POLLS} looks; poll less often"
            )
        return self


class FineTunePolicy(_Strict):
    # Named as Bedrock names them (epochCount, learningRate…); bounds per base model.
    # Numbers as written: an integer stays one (epochCount: 2), so `2.0` for an integer
    # parameter is an error, like `2.5`; the bounds are the base model's (checked below).
    hyper_parameters: dict[str, int | float] = Field(default_factory=dict, max_length=20)
    evaluation: EvaluationPolicy = Field(default_factory=EvaluationPolicy)

    @field_validator("hyper_parameters", mode="before")
    @classmethod
    def _numbers(cls, value: object) -> object:
        if not isinstance(value, dict):
            raise ValueError("must be a mapping of hyper-parameter names to numbers")
        for name, number in value.items():
            if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9]{0,63}", name):
                raise ValueError(f"{str(name)[:40]!r} is not a hyper-parameter name")
            if isinstance(number, bool) or not isinstance(number, int | float):
                raise ValueError(f"{name}: must be a number, not {str(number)[:40]!r}")
            if isinstance(number, float) and not math.isfinite(number):
                raise ValueError(f"{name}: must be a finite number")
        return value


# Time a run's lease keeps for the steps around its one wait (start, read, gate, release: each
# up to ~2 minutes of Lambda retries and 7 attempts of 30 s). The wait for the pipeline ends this
# much before the lease does, so a run never holds its lock after the lease.
RUN_STEPS_MARGIN = timedelta(minutes=25)
# A fine-tune's own steps around its waits: the dataset (up to 15 minutes) and the candidate's
# answers to the held-out prompts (a batch of a few minutes at a time). Its job waits that much
# less again, and its evaluation's timeout and one
# poll less, so a run never holds the lock past its lease.
FINETUNE_STEPS_MARGIN = timedelta(minutes=30)
# The least a fine-tune's job may be waited for: a shorter wait stops every job it starts.
MIN_JOB_WAIT = timedelta(hours=1)
# A lease long enough for the steps' margin and a pipeline worth waiting for.
MIN_RUN_TIMEOUT = timedelta(hours=1)


class _ModelBase(_Strict):
    dry_run: bool = False
    budget: BudgetPolicy = Field(default_factory=BudgetPolicy)
    run_timeout: Duration = Field(
        default=timedelta(hours=24),
        description="Longest a run may hold the model's lock; an expired lock can be taken over. "
        "Its wait for the pipeline ends RUN_STEPS_MARGIN (25 minutes) earlier.",
    )

    @field_validator("run_timeout")
    @classmethod
    def _lease_fits_a_run(cls, value: timedelta) -> timedelta:
        if value < MIN_RUN_TIMEOUT:
            raise ValueError(f"must be at least {format_duration(MIN_RUN_TIMEOUT)}")
        return value


class SageMakerModelPolicy(_ModelBase):
    kind: Literal["sagemaker"]
    data: DataPolicy
    pipeline: str = Field(pattern=r"^[A-Za-z0-9](-*[A-Za-z0-9]){0,255}$")
    package_group: str = Field(pattern=r"^[A-Za-z0-9](-*[A-Za-z0-9]){0,62}$")
    drift: DriftPolicy = Field(default_factory=DriftPolicy)
    gate: GatePolicy
    deploy: SageMakerDeployPolicy


class BedrockModelPolicy(_ModelBase):
    kind: Literal["bedrock"]
    labels: LabelsPolicy
    base_model: str
    package_group: str = Field(pattern=r"^[A-Za-z0-9](-*[A-Za-z0-9]){0,62}$")
    fine_tune: FineTunePolicy = Field(default_factory=FineTunePolicy)
    gate: GatePolicy
    deploy: BedrockDeployPolicy

    @field_validator("base_model")
    @classmethod
    def _known_base_model(cls, value: str) -> str:
        if base_model(value) is None:
            known = ", ".join(sorted(base_models()))
            raise ValueError(f"{value[:80]!r} is not a base model we can fine-tune ({known})")
        return value

    @model_validator(mode="after")
    def _fits_the_base_model(self) -> "BedrockModelPolicy":
        if "scale_to_min" in self.budget.actions:
            raise ValueError(
                "budget.actions: scale_to_min scales an endpoint's instances; a Bedrock model "
                "is served on demand and has none (use pause_triggers, stop_jobs or rollback)"
            )
        spec = self.base_model_spec
        if self.labels.format is not None and self.labels.format != spec.format:
            raise ValueError(
                f"labels.format: {self.base_model} is fine-tuned on {spec.format.value} records, "
                f"not {self.labels.format}"
            )
        for name, value in self.fine_tune.hyper_parameters.items():
            bounds = spec.hyper_parameters.get(name)
            if bounds is None:
                known = ", ".join(sorted(spec.hyper_parameters)) or "none"
                raise ValueError(
                    f"fine_tune.hyper_parameters.{name}: not a hyper-parameter of "
                    f"{self.base_model} ({known})"
                )
            if not bounds.min <= value <= bounds.max or (
                bounds.integer and not isinstance(value, int)
            ):
                kind = "an integer" if bounds.integer else "a number"
                raise ValueError(
                    f"fine_tune.hyper_parameters.{name}: must be {kind} between {bounds.min:g} "
                    f"and {bounds.max:g} for {self.base_model}"
                )
        job_wait = (
            self.run_timeout
            - RUN_STEPS_MARGIN
            - FINETUNE_STEPS_MARGIN
            - self.fine_tune.evaluation.timeout
            - self.fine_tune.evaluation.poll
        )
        if job_wait < MIN_JOB_WAIT:
            needed = self.run_timeout - job_wait + MIN_JOB_WAIT
            left = format_duration(job_wait) if job_wait > timedelta(0) else "no time"
            raise ValueError(
                f"run_timeout: {format_duration(self.run_timeout)} leaves {left} for the "
                "customization job after the steps (55m) and the evaluation (its timeout and "
                f"one poll); at least {format_duration(needed)} gives it "
                f"{format_duration(MIN_JOB_WAIT)}"
            )
        if self.labels.min_records < spec.min_training_records:
            raise ValueError(
                f"labels.min_records: {self.base_model} needs at least "
                f"{spec.min_training_records} training records"
            )
        if not spec.custom_model_deployment:
            # The candidate answers its held-out prompts through an on-demand deployment.
            raise ValueError(
                f"base_model: {self.base_model}'s custom models cannot be served on demand "
                "(custom model deployment), so the control plane cannot evaluate them"
            )
        return self

    @property
    def base_model_spec(self) -> BaseModelSpec:
        spec = base_model(self.base_model)
        if spec is None:  # the field validator refuses unknown base models
            raise LookupError(self.base_model)
        return spec


ModelPolicy = Annotated[SageMakerModelPolicy | BedrockModelPolicy, Field(discriminator="kind")]


class Policy(_Strict):
    version: Literal[1] = 1
    models: dict[str, ModelPolicy]

    @field_validator("version", mode="before")
    @classmethod
    def _version_is_a_number(cls, value: object) -> object:
        # Literal[1] takes `true` (True == 1), even strict.
        if type(value) is not int:
            raise ValueError("the policy format version is the number 1")
        return value

    @field_validator("models")
    @classmethod
    def _names_and_prefixes(cls, models: dict[str, ModelPolicy]) -> dict[str, ModelPolicy]:
        if not models:
            raise ValueError("declare at least one model")
        for name in models:
            if not _MODEL_NAME.fullmatch(name):
                raise ValueError(
                    f"model name {name!r}: lowercase letters, digits and '-', at most 40"
                )
        prefixes = {
            name: model.data.prefix
            if isinstance(model, SageMakerModelPolicy)
            else model.labels.prefix
            for name, model in models.items()
        }
        # Sorted, a prefix of another is followed by one it is a prefix of: overlaps are seen
        # in n log n (a policy of a thousand models), then found in order to name them.
        ordered = sorted(prefixes.values())
        if any(b.startswith(a) for a, b in itertools.pairwise(ordered)):
            seen: dict[str, str] = {}
            for name, prefix in prefixes.items():
                for other_prefix, other in seen.items():
                    if prefix.startswith(other_prefix) or other_prefix.startswith(prefix):
                        raise ValueError(
                            f"{name}: prefix {prefix!r} overlaps {other}'s {other_prefix!r}; "
                            "an object must belong to one model"
                        )
                seen[prefix] = name
        owners: dict[str, str] = {}
        for name, model in models.items():
            for thing in [*model.budget.spend_alarms, *model.budget.monitors]:
                other = owners.setdefault(thing, name)
                if other != name:
                    raise ValueError(
                        f"{name}: budget names {thing[:60]!r}, which {other}'s budget names too; "
                        "a spend alarm or monitor belongs to one model"
                    )
        endpoints: dict[str, str] = {}
        for name, model in models.items():
            if isinstance(model, SageMakerModelPolicy):
                other = endpoints.setdefault(model.deploy.endpoint, name)
                if other != name:
                    raise ValueError(
                        f"{name}: endpoint {model.deploy.endpoint!r} is also {other}'s; "
                        "an endpoint serves one model"
                    )
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

    def sagemaker_model_for_group(
        self, package_group: str
    ) -> tuple[str, SageMakerModelPolicy] | None:
        """The SageMaker model whose candidates `package_group` holds, if any."""
        for name, model in self.sagemaker_models().items():
            if model.package_group == package_group:
                return name, model
        return None

    def sagemaker_models_for_alarm(self, alarm: str) -> dict[str, SageMakerModelPolicy]:
        """The SageMaker models that roll back on `alarm`."""
        return {
            n: m for n, m in self.sagemaker_models().items() if alarm in m.deploy.rollback_alarms
        }

    def sagemaker_models(self) -> dict[str, SageMakerModelPolicy]:
        return {n: m for n, m in self.models.items() if isinstance(m, SageMakerModelPolicy)}

    def sagemaker_model(self, name: str) -> SageMakerModelPolicy:
        model = self.models.get(name)
        if not isinstance(model, SageMakerModelPolicy):
            raise UnknownModel(name, "SageMaker")
        return model

    def bedrock_models(self) -> dict[str, BedrockModelPolicy]:
        return {n: m for n, m in self.models.items() if isinstance(m, BedrockModelPolicy)}

    def bedrock_model(self, name: str) -> BedrockModelPolicy:
        model = self.models.get(name)
        if not isinstance(model, BedrockModelPolicy):
            raise UnknownModel(name, "Bedrock")
        return model

    def bedrock_model_for_key(self, key: str) -> tuple[str, BedrockModelPolicy] | None:
        """The Bedrock model whose labeled-data prefix holds `key`, if any."""
        for name, model in self.bedrock_models().items():
            if key.startswith(model.labels.prefix):
                return name, model
        return None

    def bedrock_model_for_group(self, package_group: str) -> tuple[str, BedrockModelPolicy] | None:
        """The Bedrock model whose candidates `package_group` holds, if any."""
        for name, model in self.bedrock_models().items():
            if model.package_group == package_group:
                return name, model
        return None

    def bedrock_models_for_alarm(self, alarm: str) -> dict[str, BedrockModelPolicy]:
        """The Bedrock models that roll back on `alarm`."""
        return {n: m for n, m in self.bedrock_models().items() if alarm in m.deploy.rollback_alarms}

    def model_for_spend_alarm(
        self, alarm: str
    ) -> tuple[str, SageMakerModelPolicy | BedrockModelPolicy] | None:
        """The model whose budget names `alarm` as a spend alarm, if any (at most one)."""
        for name, model in self.models.items():
            if alarm in model.budget.spend_alarms:
                return name, model
        return None

    def model(self, name: str) -> SageMakerModelPolicy | BedrockModelPolicy:
        """Any model of the policy (both kinds have a package group, a gate, a run timeout)."""
        model = self.models.get(name)
        if model is None:
            raise UnknownModel(name)
        return model


class UnknownModel(LookupError):
    def __init__(self, name: str, kind: str = "") -> None:
        super().__init__(f"model {name!r} is not a {kind + ' ' if kind else ''}model of the policy")
        self.name = name


class FieldProblem(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)
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
    parts = [str(p) for p in loc]
    # Drop pydantic's discriminator tag after a model's name ("models.churn.sagemaker.gate"),
    # but not a model that happens to be named "sagemaker".
    if len(parts) > 2 and parts[0] == "models" and parts[2] in _KINDS:
        del parts[2]
    # …and its validator tags ("function-after[...]", "[key]").
    parts = [p for p in parts if not (p.endswith("]") and "[" in p)]
    return ".".join(parts) or "(root)"


_KINDS = {"sagemaker", "bedrock"}


# --- Reading YAML: the YAML 1.2 core schema, bounded -------------------------------------------
#
# PyYAML implements YAML 1.1, which reads `1:30` as the integer 90 (sexagesimal), `yes`/`on` as
# true, `2024-01-01` as a date and `010` as 8. A policy is read with YAML 1.2's core schema
# instead: true/false, decimal/0o/0x integers, ordinary floats; everything else is a string,
# which the policy's types then accept or reject by name.

_INT = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)
_TRUE, _FALSE = ("true", "True", "TRUE"), ("false", "False", "FALSE")
_TAG = "tag:yaml.org,2002:"


@cache
def _policy_loader() -> type[Any]:
    """The policy's YAML loader, built on the first policy read: PyYAML is imported there, not
    at every function's cold start."""
    import yaml

    class _PolicyLoader(yaml.SafeLoader):
        # Own tables, never the inherited ones (add_* would mutate SafeLoader's lists in place).
        yaml_implicit_resolvers: dict[Any, Any] = {}  # noqa: RUF012 - PyYAML reads it off the class
        yaml_constructors: ClassVar[dict[str | None, Any]] = {}

        def __init__(self, stream: str) -> None:
            super().__init__(stream)
            self._depth = 0
            self._values: dict[int, int] = {}  # node id -> values once aliases are expanded

        def _error(self, problem: str, mark: Any) -> yaml.composer.ComposerError:
            return yaml.composer.ComposerError(None, None, problem, mark)

        def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
            event = self.peek_event()
            if isinstance(event, yaml.AliasEvent):
                node = super().compose_node(parent, index)
                if id(node) not in self._values:  # `&a [*a]`: the alias is inside its own anchor
                    raise self._error(
                        "an alias refers to a value that contains it", event.start_mark
                    )
                return node
            self._depth += 1
            try:
                if self._depth > MAX_YAML_DEPTH:
                    raise self._error(
                        f"nested deeper than {MAX_YAML_DEPTH} levels", event.start_mark
                    )
                node = super().compose_node(parent, index)
            finally:
                self._depth -= 1
            if isinstance(node, yaml.MappingNode):
                children = [child for pair in node.value for child in pair]
            elif isinstance(node, yaml.SequenceNode):
                children = node.value
            else:
                children = []
            values = 1 + sum(self._values[id(child)] for child in children)
            if node is not None and values > MAX_YAML_VALUES:
                raise self._error(
                    f"more than {MAX_YAML_VALUES} values once aliases are expanded", node.start_mark
                )
            self._values[id(node)] = values
            return node

        def compose_mapping_node(self, anchor: Any) -> yaml.MappingNode:
            # PyYAML keeps the last of two equal keys silently; a policy names each field once.
            node = super().compose_mapping_node(anchor)
            seen: set[tuple[str, str]] = set()
            for key, _ in node.value:
                if not isinstance(key, yaml.ScalarNode) or key.tag == _TAG + "merge":
                    continue
                if (key.tag, key.value) in seen:
                    raise yaml.constructor.ConstructorError(
                        "while reading a mapping",
                        node.start_mark,
                        f"found the key {key.value!r} twice",
                        key.start_mark,
                    )
                seen.add((key.tag, key.value))
            return node

        def construct_core_bool(self, node: yaml.ScalarNode) -> bool:
            value = self.construct_scalar(node)
            if value not in _TRUE + _FALSE:
                raise yaml.constructor.ConstructorError(
                    None, None, f"{value!r} is not true or false", node.start_mark
                )
            return value in _TRUE

        def construct_core_int(self, node: yaml.ScalarNode) -> int:
            value = self.construct_scalar(node)
            try:
                if not _INT.fullmatch(value):
                    raise ValueError(value)
                if value.startswith(("0o", "0x")):
                    return int(value[2:], 8 if value[1] == "o" else 16)
                return int(value, 10)
            except ValueError:  # not an integer, or too many digits to convert
                raise yaml.constructor.ConstructorError(
                    None, None, f"{value[:40]!r} is not an integer", node.start_mark
                ) from None

        def construct_core_float(self, node: yaml.ScalarNode) -> float:
            value = self.construct_scalar(node)
            if not (_FLOAT.fullmatch(value) or _INT.fullmatch(value)):
                raise yaml.constructor.ConstructorError(
                    None, None, f"{value[:40]!r} is not a number", node.start_mark
                )
            return float(self.construct_yaml_float(node))

    for _tag, _pattern, _first in (
        ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
        ("bool", "^(?:" + "|".join(_TRUE + _FALSE) + ")$", list("tTfF")),
        ("int", _INT.pattern, list("-+0123456789")),
        ("float", _FLOAT.pattern, list("-+.0123456789")),
        ("merge", r"^(?:<<)$", ["<"]),
    ):
        _PolicyLoader.add_implicit_resolver(_TAG + _tag, re.compile(_pattern), _first)
    for _tag, _construct in (
        ("null", yaml.SafeLoader.construct_yaml_null),
        ("bool", _PolicyLoader.construct_core_bool),
        ("int", _PolicyLoader.construct_core_int),
        ("float", _PolicyLoader.construct_core_float),
        ("str", yaml.SafeLoader.construct_yaml_str),
        ("seq", yaml.SafeLoader.construct_yaml_seq),
        ("map", yaml.SafeLoader.construct_yaml_map),
    ):
        _PolicyLoader.add_constructor(_TAG + _tag, _construct)

    def _unsupported_tag(loader: _PolicyLoader, node: yaml.Node) -> None:
        raise yaml.constructor.ConstructorError(
            None, None, f"the tag {node.tag!r} has no place in a policy", node.start_mark
        )

    # Any other tag (!!binary, !!timestamp, !!set, !!python/…, !custom) is an error.
    _PolicyLoader.add_constructor(None, _unsupported_tag)

    return _PolicyLoader


def _line(text: str | bytes, position: int) -> int:
    if isinstance(text, bytes):
        return text.count(b"\n", 0, position) + 1
    return text.count("\n", 0, position) + 1


def _not_yaml(text: str, exc: "yaml.YAMLError") -> FieldProblem:
    import yaml

    if isinstance(exc, yaml.reader.ReaderError):
        return FieldProblem(
            field=f"line {_line(text, exc.position)}",
            reason=f"not YAML: unacceptable character #x{exc.character:04x}: {exc.reason}",
        )
    mark = getattr(exc, "problem_mark", None)
    # One line: PyYAML's own message quotes the offending text over several lines.
    problem = "; ".join(
        str(part) for part in (getattr(exc, "context", None), getattr(exc, "problem", None)) if part
    )
    if mark is None:
        return FieldProblem(field="(document)", reason=f"not YAML: {problem or exc}")
    return FieldProblem(
        field=f"line {mark.line + 1}", reason=f"not YAML: {problem} (column {mark.column + 1})"
    )


def _decode(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise PolicyError(
            source,
            [
                FieldProblem(
                    field=f"line {_line(data, exc.start)}",
                    reason=f"not UTF-8 text: byte 0x{data[exc.start]:02x} at column {column}",
                )
            ],
        ) from None


_NOT_JSON = object()


class _RereadAsYaml(Exception):
    """A JSON document the YAML reader should judge (a duplicate key, NaN)."""


def _json_document(text: str) -> object:
    """`text` as JSON, within the YAML reader's bounds (depth, values); `_NOT_JSON` when it is
    not strict JSON or is out of bounds, for the YAML reader to refuse naming the line."""
    import json

    def unique(pairs: list[tuple[str, object]]) -> dict[str, object]:
        mapping = dict(pairs)
        if len(mapping) != len(pairs):
            raise _RereadAsYaml
        return mapping

    def not_a_number(name: str) -> object:
        raise _RereadAsYaml

    try:
        document: object = json.loads(text, object_pairs_hook=unique, parse_constant=not_a_number)
    except (ValueError, RecursionError, _RereadAsYaml):
        return _NOT_JSON
    # Counted as the YAML reader counts: every mapping, sequence, key and value.
    values, pending = 0, [(document, 1)]
    while pending:
        node, depth = pending.pop()
        values += 1
        if depth > MAX_YAML_DEPTH or values > MAX_YAML_VALUES:
            return _NOT_JSON
        if isinstance(node, dict):
            values += len(node)
            pending.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            pending.extend((child, depth + 1) for child in node)
    return document


def published_form(text: str | bytes, source: str = "<policy>") -> bytes:
    """The policy as it is published (SSM or AppConfig): the same document as compact JSON, which
    the functions read without a YAML parser (about 50 ms less per cold start, and a policy of a
    thousand models in 0.1 s instead of seconds) and which takes fewer bytes than its YAML. A
    document JSON cannot hold (a non-finite number) is returned as it is, for the check to
    refuse with its line. Raises `PolicyError` for a document that cannot be read."""
    import json

    document = load_yaml(text, source)
    # JSON keys are strings: a YAML key that is not (`123:`, `true:`) would be published as one
    # and accepted there although the check refuses it here.
    for field, key in _non_string_keys(document, ""):
        raise PolicyError(
            source, [FieldProblem(field=field or "(file)", reason=f"key {key!r} is not a string")]
        )
    try:
        return json.dumps(
            document, ensure_ascii=False, separators=(",", ":"), allow_nan=False
        ).encode("utf-8")
    except ValueError:
        return text if isinstance(text, bytes) else text.encode("utf-8")


def _non_string_keys(node: object, path: str) -> Iterator[tuple[str, object]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if not isinstance(key, str):
                yield path, key
            else:
                yield from _non_string_keys(value, f"{path}.{key}" if path else key)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _non_string_keys(item, f"{path}[{index}]")


def load_yaml(text: str | bytes, source: str = "<policy>") -> object:
    """A policy document as Python values (YAML 1.2 core schema, bounded), or `PolicyError`
    naming the line. Whatever reads a policy file should read it with this."""
    size = len(text) if isinstance(text, bytes) else len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_POLICY_BYTES:
        raise PolicyError(
            source,
            [
                FieldProblem(
                    field="(file)",
                    reason=f"{size} bytes; a policy may be at most {MAX_POLICY_BYTES} (1 MiB)",
                )
            ],
        )
    if isinstance(text, bytes):
        text = _decode(text, source)
    if text.lstrip(" \t\r\n").startswith("{"):
        # JSON is YAML 1.2 with the same values, and read a hundred times faster: what
        # `aiops policy publish` sends AppConfig, for policies of a thousand models. Anything
        # the JSON reader refuses is read as YAML, whose errors name the line.
        document = _json_document(text)
        if document is not _NOT_JSON:
            return document
    import yaml  # here, not at import: only a policy read needs it

    try:
        loader = _policy_loader()(text)  # checks every character first
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        raise PolicyError(source, [_not_yaml(text, exc)]) from None


def parse_policy(text: str | bytes, source: str = "<policy>") -> Policy:
    """Parse and validate a policy document, or raise `PolicyError` naming every bad field.

    `text` may be the file's bytes: they must be UTF-8. A document larger than
    `MAX_POLICY_BYTES` is refused unread; one nested deeper than `MAX_YAML_DEPTH` or expanding
    past `MAX_YAML_VALUES` values is refused at the line where it does.
    """
    raw = load_yaml(text, source)
    if not isinstance(raw, dict):
        raise PolicyError(source, [FieldProblem(field="(root)", reason="expected a mapping")])
    try:
        return Policy.model_validate(raw)
    except ValidationError as exc:
        problems = [
            FieldProblem(field=_location(err["loc"]), reason=err["msg"]) for err in exc.errors()
        ]
        raise PolicyError(source, problems) from exc


# --- Fields nothing acts on yet ----------------------------------------------------------------
#
# Declared so a policy can be written whole, but no handler reads them yet: a user who sets them
# must not believe canaries or budgets are active. Each entry is a path under a model; the
# capability that starts reading a field removes its entry.
NOT_YET_ACTED_ON: dict[str, str] = {}


def inactive_fields(policy: Policy) -> list[FieldProblem]:
    """Each field of `NOT_YET_ACTED_ON` the policy sets (defaults are not named): model by
    model, in the table's order."""
    found: list[FieldProblem] = []
    for name, model in policy.models.items():
        for path, why in NOT_YET_ACTED_ON.items():
            value: object = model
            for part in path.split("."):
                if not isinstance(value, BaseModel) or part not in value.model_fields_set:
                    break
                value = getattr(value, part)
            else:
                found.append(
                    FieldProblem(field=f"models.{name}.{path}", reason=f"not acted on yet: {why}")
                )
    return found
