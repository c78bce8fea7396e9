"""SageMaker inference experiments (shadow tests) in moto's SageMaker backend.

moto 5.2.5 has no inference experiments: CreateInferenceExperiment raises NotImplementedError.
botocore knows the API, so only moto's side is missing. `install` adds to moto's SageMaker
backend (`SageMakerModelBackend`) and to its response handler (`SageMakerResponse`, which moto
dispatches to by the operation's snake_case name):

  CreateInferenceExperiment    validates as SageMaker does (below) and keeps the experiment,
                               `Creating`;
  DescribeInferenceExperiment  the API reference's response shape;
  StopInferenceExperiment      the experiment turns `Stopping`, with the variant actions, the
                               desired state (`Cancelled` when not given: "when you conclude
                               your experiment early using the StopInferenceExperiment API ...
                               it shows as cancelled") and the reason kept for the simulator;
  ListInferenceExperiments     filters, sort and pages as the API reference lists them.

The handlers call the same functions the backend gets, as moto's own handlers call its backend.

Nothing here moves an experiment on: the shadow test simulator (`simulators/sagemaker_shadow`)
watches the Create and Stop calls and calls `set_status` — Running, Completed, Cancelled — on
virtual time, as the pipeline simulator does for pipeline executions.

What Create checks (API reference "CreateInferenceExperiment", developer guide "Create a shadow
test"): Type is `ShadowMode`; the name is new (ResourceInUse); the endpoint exists; exactly one
shadow variant, sampling 1-100 %, with a name other than the production variant's; each variant
in ModelVariants names a model that exists and runs on `RealTimeInference`, and the shadow
variant is one of them; the schedule lasts at most 30 days (7 days when not given) and ends in
the future; an endpoint has at most one shadow variant, so at most one experiment not yet ended.
The error messages are ours: AWS documents the conditions, not their wording.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from moto.core.responses import ActionResult
from moto.sagemaker.exceptions import (
    ConflictException,
    ResourceInUseException,
    ResourceNotFound,
    ValidationError,
)
from moto.sagemaker.models import SageMakerModelBackend, sagemaker_backends
from moto.sagemaker.responses import SageMakerResponse
from moto.sagemaker.utils import arn_formatter

from aiops_local.patches.base import Patcher
from aiops_local.patches.sagemaker_operations import add_operations, operation_time, utc

TYPES = ("ShadowMode",)
INFRASTRUCTURE_TYPES = ("RealTimeInference",)
ACTIONS = ("Promote", "Remove", "Retain")
DESIRED_STATES = ("Completed", "Cancelled")
# Ended: nothing moves it any more (DescribeInferenceExperiment, "Status").
ENDED = ("Completed", "Cancelled")
DEFAULT_DURATION = timedelta(days=7)
MAX_DURATION = timedelta(days=30)
_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,119}")
_STORE = "aiops_inference_experiments"  # on the backend instance: moto's reset clears it
# Status changes come from callers' threads (Stop) and from the simulator (the agenda).
_LOCK = threading.RLock()


@dataclass
class StopRequest:
    actions: dict[str, str]
    desired_state: str
    reason: str | None
    desired_model_variants: list[dict[str, Any]] | None
    requested: datetime


@dataclass
class InferenceExperiment:
    name: str
    arn: str
    type: str
    role_arn: str
    endpoint_name: str
    description: str | None
    start: datetime
    end: datetime
    model_variants: list[dict[str, Any]]
    shadow_mode_config: dict[str, Any]
    data_storage_config: dict[str, Any] | None
    kms_key: str | None
    tags: list[dict[str, str]]
    creation_time: datetime
    last_modified_time: datetime
    status: str = "Creating"
    status_reason: str | None = None
    completion_time: datetime | None = None
    variant_status: dict[str, str] = field(default_factory=dict)
    stop: StopRequest | None = None
    promoted_model: str | None = None  # the shadow's model, once a stop promoted it

    @property
    def source_variant(self) -> str:
        return str(self.shadow_mode_config["SourceModelVariantName"])

    @property
    def shadow_variant(self) -> str:
        return str(self.shadow_mode_config["ShadowModelVariants"][0]["ShadowModelVariantName"])

    @property
    def sampling_percentage(self) -> int:
        return int(self.shadow_mode_config["ShadowModelVariants"][0]["SamplingPercentage"])

    def model_of(self, variant: str) -> str | None:
        return next(
            (str(v["ModelName"]) for v in self.model_variants if v["VariantName"] == variant),
            None,
        )

    def summary(self) -> dict[str, Any]:
        """An `InferenceExperimentSummary` (ListInferenceExperiments)."""
        body: dict[str, Any] = {
            "Name": self.name,
            "Type": self.type,
            "Schedule": {"StartTime": self.start, "EndTime": self.end},
            "Status": self.status,
            "CreationTime": self.creation_time,
            "LastModifiedTime": self.last_modified_time,
            "RoleArn": self.role_arn,
        }
        if self.status_reason:
            body["StatusReason"] = self.status_reason
        if self.description is not None:
            body["Description"] = self.description
        if self.completion_time is not None:
            body["CompletionTime"] = self.completion_time
        return body

    def describe(self, backend: SageMakerModelBackend) -> dict[str, Any]:
        """The DescribeInferenceExperiment response."""
        metadata: dict[str, Any] = {"EndpointName": self.endpoint_name}
        endpoint = backend.endpoints.get(self.endpoint_name)
        if endpoint is not None:
            metadata["EndpointConfigName"] = endpoint.endpoint_config_name
            metadata["EndpointStatus"] = endpoint.endpoint_status
            if endpoint.failure_reason:
                metadata["FailureReason"] = endpoint.failure_reason
        body = self.summary()
        body.pop("StatusReason", None)
        body.update(
            {
                "Arn": self.arn,
                "EndpointMetadata": metadata,
                "ModelVariants": [
                    {
                        "ModelName": v["ModelName"],
                        "VariantName": v["VariantName"],
                        "InfrastructureConfig": v["InfrastructureConfig"],
                        "Status": self.variant_status.get(v["VariantName"], "Creating"),
                    }
                    for v in self.model_variants
                ],
                "ShadowModeConfig": self.shadow_mode_config,
            }
        )
        if self.status_reason:
            body["StatusReason"] = self.status_reason
        if self.data_storage_config is not None:
            body["DataStorageConfig"] = self.data_storage_config
        if self.kms_key is not None:
            body["KmsKey"] = self.kms_key
        return body


# ---------------------------------------------------------------------- the simulator's side
def experiments(backend: SageMakerModelBackend) -> dict[str, InferenceExperiment]:
    store: dict[str, InferenceExperiment] = backend.__dict__.setdefault(_STORE, {})
    return store


def find(account: str, region: str, name: str) -> InferenceExperiment:
    return experiments(sagemaker_backends[account][region])[name]


def set_status(
    account: str,
    region: str,
    name: str,
    status: str,
    when: datetime,
    reason: str | None = None,
    only_from: Iterable[str] | None = None,
) -> InferenceExperiment | None:
    """Move the experiment to `status` at `when`; its variants follow (`variant_statuses`).
    With `only_from`, only from one of those statuses (else None, and nothing changes): a stop
    that came first wins over the simulator's next step."""
    with _LOCK:
        experiment = find(account, region, name)
        if only_from is not None and experiment.status not in set(only_from):
            return None
        _move(experiment, status, when, reason)
        return experiment


def _move(experiment: InferenceExperiment, status: str, when: datetime, reason: str | None) -> None:
    experiment.status = status
    experiment.last_modified_time = when
    if reason is not None:
        experiment.status_reason = reason
    if status in ENDED:
        experiment.completion_time = when
        stop = experiment.stop
        if stop is not None and stop.actions.get(experiment.shadow_variant) == "Promote":
            experiment.promoted_model = experiment.model_of(experiment.shadow_variant)
    experiment.variant_status = variant_statuses(experiment)


def variant_statuses(experiment: InferenceExperiment) -> dict[str, str]:
    """Each variant's `ModelVariantConfigSummary.Status` in the experiment's present status.

    The shadow variant exists while the experiment runs; a completed test leaves the endpoint as
    it was before ("Create a shadow test"), so the shadow is `Deleted` unless a stop promoted or
    retained it. `Deleted` "can only happen after stopping the experiment" (API reference)."""
    shadow = experiment.shadow_variant
    status = experiment.status
    actions = experiment.stop.actions if experiment.stop is not None else {}
    result: dict[str, str] = {}
    for variant in (v["VariantName"] for v in experiment.model_variants):
        default = "Remove" if variant == shadow else "Retain"
        action = actions.get(variant, default)
        if status == "Creating":
            result[variant] = "Creating" if variant == shadow else "InService"
        elif status == "Stopping":
            result[variant] = {"Promote": "Updating", "Remove": "Deleting"}.get(action, "InService")
        elif status in ENDED:
            result[variant] = "Deleted" if action == "Remove" else "InService"
        else:  # Created, Starting, Running, Updating
            result[variant] = "InService"
    return result


def _constraint(value: Any, member: str, constraint: str) -> ValidationError:
    return ValidationError(
        message=f"1 validation error detected: Value '{value}' at '{member}' "
        f"failed to satisfy constraint: Member must {constraint}"
    )


def _enum(value: Any, member: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise _constraint(value, member, f"satisfy enum value set: [{', '.join(allowed)}]")


# ---------------------------------------------------------------------- backend
def _create(
    self: SageMakerModelBackend,
    name: str,
    experiment_type: str,
    role_arn: str,
    endpoint_name: str,
    model_variants: list[dict[str, Any]],
    shadow_mode_config: dict[str, Any],
    schedule: dict[str, Any] | None = None,
    description: str | None = None,
    data_storage_config: dict[str, Any] | None = None,
    kms_key: str | None = None,
    tags: list[dict[str, str]] | None = None,
) -> InferenceExperiment:
    store = experiments(self)
    if not _NAME.fullmatch(name or ""):
        raise _constraint(name, "name", f"satisfy regular expression pattern: {_NAME.pattern}")
    _enum(experiment_type, "type", TYPES)
    if name in store:
        raise ResourceInUseException(message=f"Inference experiment {name} already exists.")
    if endpoint_name not in self.endpoints:
        arn = arn_formatter("endpoint", endpoint_name, self.account_id, self.region_name)
        raise ValidationError(message=f"Could not find endpoint '{arn}'.")
    source, shadow, _ = _check_shadow_mode(shadow_mode_config)
    _check_variants(self, endpoint_name, model_variants, source, shadow, "modelVariants")
    now = operation_time()
    start, end = _schedule(schedule, now)
    busy = next(
        (e for e in store.values() if e.endpoint_name == endpoint_name and e.status not in ENDED),
        None,
    )
    if busy is not None:
        raise ResourceInUseException(
            message=f"Endpoint {endpoint_name} already has a shadow variant: inference "
            f"experiment {busy.name} is {busy.status}. An endpoint has at most one."
        )
    experiment = InferenceExperiment(
        name=name,
        arn=arn_formatter("inference-experiment", name, self.account_id, self.region_name),
        type=experiment_type,
        role_arn=role_arn,
        endpoint_name=endpoint_name,
        description=description,
        start=start,
        end=end,
        model_variants=[dict(v) for v in model_variants],
        shadow_mode_config=shadow_mode_config,
        data_storage_config=data_storage_config,
        kms_key=kms_key,
        tags=list(tags or []),
        creation_time=now,
        last_modified_time=now,
    )
    experiment.variant_status = variant_statuses(experiment)
    store[name] = experiment
    return experiment


def _check_shadow_mode(config: dict[str, Any]) -> tuple[str, str, int]:
    shadows = config.get("ShadowModelVariants") or []
    if len(shadows) != 1:
        raise ValidationError(
            message=f"ShadowModeConfig.ShadowModelVariants has {len(shadows)} variants: "
            "a shadow test has exactly one shadow variant."
        )
    source = str(config.get("SourceModelVariantName", ""))
    shadow = str(shadows[0].get("ShadowModelVariantName", ""))
    percentage = shadows[0].get("SamplingPercentage")
    if not isinstance(percentage, int) or not 1 <= percentage <= 100:
        raise _constraint(
            percentage,
            "shadowModeConfig.shadowModelVariants.1.member.samplingPercentage",
            "have value between 1 and 100",
        )
    if shadow == source:
        raise ValidationError(
            message=f"The shadow variant {shadow} must not be the production variant "
            "(SourceModelVariantName)."
        )
    return source, shadow, percentage


def _check_variants(
    backend: SageMakerModelBackend,
    endpoint_name: str,
    variants: list[dict[str, Any]],
    source: str,
    shadow: str,
    member: str,
) -> None:
    names = [str(v.get("VariantName")) for v in variants]
    if not 1 <= len(variants) <= 2 or len(set(names)) != len(names):
        raise ValidationError(
            message=f"ModelVariants names {names}: one or two variants, each once."
        )
    for index, variant in enumerate(variants, start=1):
        infrastructure = variant.get("InfrastructureConfig") or {}
        _enum(
            infrastructure.get("InfrastructureType"),
            f"{member}.{index}.member.infrastructureConfig.infrastructureType",
            INFRASTRUCTURE_TYPES,
        )
        if variant["VariantName"] not in (source, shadow):
            raise ValidationError(
                message=f"Variant {variant['VariantName']} in ModelVariants is neither the "
                f"production variant {source} nor the shadow variant {shadow}."
            )
        if variant.get("ModelName") not in backend._models:
            arn = arn_formatter(
                "model", str(variant.get("ModelName")), backend.account_id, backend.region_name
            )
            raise ValidationError(message=f"Could not find model '{arn}'.")
    if shadow not in names:
        raise ValidationError(
            message=f"The shadow variant {shadow} needs its ModelVariants entry (its model and "
            "infrastructure)."
        )
    endpoint_variants = {
        v.get("VariantName") for v in backend.endpoints[endpoint_name].production_variants
    }
    if source not in names and source not in endpoint_variants:
        raise ValidationError(
            message=f"The production variant {source} is not a variant of endpoint "
            f"{endpoint_name} and has no ModelVariants entry."
        )


def _schedule(schedule: dict[str, Any] | None, now: datetime) -> tuple[datetime, datetime]:
    schedule = schedule or {}
    start = utc(schedule["StartTime"]) if schedule.get("StartTime") else now
    end = utc(schedule["EndTime"]) if schedule.get("EndTime") else start + DEFAULT_DURATION
    if end <= start:
        raise ValidationError(message="Schedule.EndTime must be after Schedule.StartTime.")
    if end <= now:
        raise ValidationError(message="Schedule.EndTime must be in the future.")
    if end - start > MAX_DURATION:
        raise ValidationError(
            message=f"The schedule lasts {end - start}; an inference experiment lasts at most "
            "30 days."
        )
    return start, end


def _describe(self: SageMakerModelBackend, name: str) -> dict[str, Any]:
    return _get(self, name).describe(self)


def _get(backend: SageMakerModelBackend, name: str) -> InferenceExperiment:
    experiment = experiments(backend).get(name)
    if experiment is None:
        arn = arn_formatter("inference-experiment", name, backend.account_id, backend.region_name)
        raise ResourceNotFound(message=f"Inference experiment {arn} does not exist.")
    return experiment


def _stop(
    self: SageMakerModelBackend,
    name: str,
    model_variant_actions: dict[str, str],
    desired_model_variants: list[dict[str, Any]] | None = None,
    desired_state: str | None = None,
    reason: str | None = None,
) -> InferenceExperiment:
    experiment = _get(self, name)
    variants = {experiment.source_variant, experiment.shadow_variant}
    actions = dict(model_variant_actions or {})
    if not actions:
        raise ValidationError(message="ModelVariantActions must name at least one variant.")
    for variant, action in actions.items():
        _enum(action, f"modelVariantActions.{variant}", ACTIONS)
        if variant not in variants:
            raise ValidationError(
                message=f"Variant {variant} is not a variant of inference experiment {name}."
            )
        if action == "Promote" and variant != experiment.shadow_variant:
            raise ValidationError(
                message=f"Only the shadow variant ({experiment.shadow_variant}) can be promoted."
            )
    state = desired_state or "Cancelled"
    _enum(state, "desiredState", DESIRED_STATES)
    if desired_model_variants:
        for index, desired in enumerate(desired_model_variants, start=1):
            _enum(
                (desired.get("InfrastructureConfig") or {}).get("InfrastructureType"),
                f"desiredModelVariants.{index}.member.infrastructureConfig.infrastructureType",
                INFRASTRUCTURE_TYPES,
            )
    now = operation_time()
    with _LOCK:
        if experiment.status in ENDED or experiment.status == "Stopping":
            raise ConflictException(
                f"Inference experiment {name} is {experiment.status}: only an experiment that "
                "has not ended can be stopped."
            )
        experiment.stop = StopRequest(actions, state, reason, desired_model_variants, now)
        _move(experiment, "Stopping", now, reason)
    return experiment


_SORT_KEYS: dict[str, Callable[[InferenceExperiment], Any]] = {
    "Name": lambda e: e.name,
    "CreationTime": lambda e: e.creation_time,
    "Status": lambda e: e.status,
}


def _list(self: SageMakerModelBackend, params: dict[str, Any]) -> dict[str, Any]:
    sort_by = params.get("SortBy") or "CreationTime"
    sort_order = params.get("SortOrder") or "Descending"
    _enum(sort_by, "sortBy", tuple(_SORT_KEYS))
    _enum(sort_order, "sortOrder", ("Ascending", "Descending"))
    max_results = int(params.get("MaxResults") or 100)
    if not 1 <= max_results <= 100:
        raise _constraint(max_results, "maxResults", "have value between 1 and 100")
    found = list(experiments(self).values())
    if params.get("NameContains"):
        found = [e for e in found if params["NameContains"] in e.name]
    if params.get("Type"):
        found = [e for e in found if e.type == params["Type"]]
    if params.get("StatusEquals"):
        found = [e for e in found if e.status == params["StatusEquals"]]
    bounds = (
        ("CreationTimeAfter", lambda e: e.creation_time, True),
        ("CreationTimeBefore", lambda e: e.creation_time, False),
        ("LastModifiedTimeAfter", lambda e: e.last_modified_time, True),
        ("LastModifiedTimeBefore", lambda e: e.last_modified_time, False),
    )
    for key, moment, after in bounds:
        if params.get(key):
            bound = utc(params[key])
            found = [e for e in found if (moment(e) > bound if after else moment(e) < bound)]
    found.sort(key=_SORT_KEYS[sort_by], reverse=sort_order == "Descending")
    offset = int(params.get("NextToken") or 0)
    page = found[offset : offset + max_results]
    body: dict[str, Any] = {"InferenceExperiments": [e.summary() for e in page]}
    if offset + max_results < len(found):
        body["NextToken"] = str(offset + max_results)
    return body


# ---------------------------------------------------------------------- responses
def _create_response(self: SageMakerResponse) -> ActionResult:
    experiment = _create(
        self.sagemaker_backend,
        name=self._get_param("Name"),
        experiment_type=self._get_param("Type"),
        role_arn=self._get_param("RoleArn"),
        endpoint_name=self._get_param("EndpointName"),
        model_variants=self._get_param("ModelVariants") or [],
        shadow_mode_config=self._get_param("ShadowModeConfig") or {},
        schedule=self._get_param("Schedule"),
        description=self._get_param("Description"),
        data_storage_config=self._get_param("DataStorageConfig"),
        kms_key=self._get_param("KmsKey"),
        tags=self._get_param("Tags"),
    )
    return ActionResult({"InferenceExperimentArn": experiment.arn})


def _describe_response(self: SageMakerResponse) -> ActionResult:
    return ActionResult(_describe(self.sagemaker_backend, self._get_param("Name")))


def _stop_response(self: SageMakerResponse) -> ActionResult:
    experiment = _stop(
        self.sagemaker_backend,
        name=self._get_param("Name"),
        model_variant_actions=self._get_param("ModelVariantActions") or {},
        desired_model_variants=self._get_param("DesiredModelVariants"),
        desired_state=self._get_param("DesiredState"),
        reason=self._get_param("Reason"),
    )
    return ActionResult({"InferenceExperimentArn": experiment.arn})


def _list_response(self: SageMakerResponse) -> ActionResult:
    params = {
        key: self._get_param(key)
        for key in (
            "NameContains",
            "Type",
            "StatusEquals",
            "CreationTimeAfter",
            "CreationTimeBefore",
            "LastModifiedTimeAfter",
            "LastModifiedTimeBefore",
            "SortBy",
            "SortOrder",
            "NextToken",
            "MaxResults",
        )
    }
    return ActionResult(_list(self.sagemaker_backend, params))


BACKEND_METHODS: dict[str, Callable[..., Any]] = {
    "create_inference_experiment": _create,
    "describe_inference_experiment": _describe,
    "stop_inference_experiment": _stop,
    "list_inference_experiments": _list,
}
RESPONSE_METHODS: dict[str, Callable[[SageMakerResponse], ActionResult]] = {
    "create_inference_experiment": _create_response,
    "describe_inference_experiment": _describe_response,
    "stop_inference_experiment": _stop_response,
    "list_inference_experiments": _list_response,
}


def install(patcher: Patcher) -> None:
    """Add the four operations to moto's SageMaker backend and response handler; refuses
    (PatchError) once moto has any of them."""
    add_operations(patcher, BACKEND_METHODS, RESPONSE_METHODS)
