"""SageMaker Ground Truth labeling jobs in moto's SageMaker backend.

moto 5.2.5 has no labeling jobs at all (CreateLabelingJob raises NotImplementedError); botocore
knows the API, so only moto's side is missing. `install` adds to moto's SageMaker backend
(`SageMakerModelBackend`) and its response handler (`SageMakerResponse`, which moto dispatches to
by the operation's snake_case name):

  CreateLabelingJob    checked against the API's constraints (botocore's model: required
                       members, lengths, patterns, enums; SageMaker's wording "1 validation error
                       detected: Value '...' at 'labelingJobName' failed to satisfy constraint:
                       ..."), plus what the developer guide says of the label attribute (no
                       `-metadata` in it, no `-ref` at its end but for segmentation jobs, which do
                       not run offline) and of the UI (exactly one of UiTemplateS3Uri or
                       HumanTaskUiArn). A name already used in the account and region, whatever
                       its case (jobs are never deleted, and SageMaker's ARNs lowercase the name),
                       is `ResourceInUse`. The job is `InProgress`, its counters zero; `Tags` are
                       kept and DescribeLabelingJob returns them.
  DescribeLabelingJob  the API reference's response: LabelingJobStatus, LabelCounters,
                       FailureReason, CreationTime, LastModifiedTime, JobReferenceCode,
                       LabelingJobName, LabelingJobArn, LabelAttributeName, InputConfig,
                       OutputConfig, RoleArn, LabelCategoryConfigS3Uri, StoppingConditions,
                       HumanTaskConfig, Tags, and LabelingJobOutput once the job completed. An
                       unknown name is `ResourceNotFound`.
  ListLabelingJobs     filters, sort and pages as the API reference lists them.
  StopLabelingJob      an `InProgress` job turns `Stopping` (the simulator ends it `Stopped`);
                       an unknown name is `ResourceNotFound`, a job that is not running a
                       ValidationException.

The ARN is `arn:aws:sagemaker:<region>:<account>:labeling-job/<name, lowercased>`.

Nothing here moves a job on: the Ground Truth simulator (`simulators/ground_truth`) watches the
Create and Stop calls and calls `complete` / `set_status` in virtual time.

All state lives on moto's `SageMakerModelBackend` instance of the account and region
(`aiops_labeling_jobs`), so `moto reset` clears it. The error messages are ours where AWS
documents the condition and not its wording.
"""

from __future__ import annotations

import copy
import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from moto.core.responses import ActionResult
from moto.sagemaker.exceptions import (
    ResourceInUseException,
    ResourceNotFound,
    ValidationError,
)
from moto.sagemaker.models import SageMakerModelBackend, sagemaker_backends
from moto.sagemaker.responses import SageMakerResponse
from moto.sagemaker.utils import arn_formatter

from aiops_local.patches import api_constraints
from aiops_local.patches.base import Patcher
from aiops_local.patches.sagemaker_operations import add_operations, operation_time, utc

STATUSES = ("Initializing", "InProgress", "Completed", "Failed", "Stopping", "Stopped")
ENDED = ("Completed", "Failed", "Stopped")
COUNTERS = (
    "TotalLabeled",
    "HumanLabeled",
    "MachineLabeled",
    "FailedNonRetryableError",
    "Unlabeled",
)
_STORE = "aiops_labeling_jobs"  # on the backend instance: moto's reset clears it
# Status changes come from callers' threads (Stop) and from the simulator (the agenda).
_LOCK = threading.RLock()
_CREATE_MEMBERS = (
    "LabelingJobName",
    "LabelAttributeName",
    "InputConfig",
    "OutputConfig",
    "RoleArn",
    "LabelCategoryConfigS3Uri",
    "StoppingConditions",
    "LabelingJobAlgorithmsConfig",
    "HumanTaskConfig",
    "Tags",
)


@dataclass
class LabelingJob:
    name: str
    arn: str
    label_attribute_name: str
    input_config: dict[str, Any]
    output_config: dict[str, Any]
    role_arn: str
    human_task_config: dict[str, Any]
    tags: list[dict[str, str]]
    job_reference_code: str
    creation_time: datetime
    last_modified_time: datetime
    label_category_config_s3_uri: str | None = None
    stopping_conditions: dict[str, Any] | None = None
    algorithms_config: dict[str, Any] | None = None
    status: str = "InProgress"
    failure_reason: str | None = None
    counters: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0))
    output_dataset_s3_uri: str | None = None

    @property
    def manifest_s3_uri(self) -> str | None:
        """The input manifest (an S3 data source); None for a streaming (SNS) job."""
        source = self.input_config.get("DataSource", {}).get("S3DataSource") or {}
        uri = source.get("ManifestS3Uri")
        return str(uri) if uri else None

    @property
    def output_manifest_s3_uri(self) -> str:
        """Where Ground Truth writes the output manifest ("Output directories"):
        `<S3OutputPath>/<job name>/manifests/output/output.manifest`."""
        root = str(self.output_config["S3OutputPath"]).rstrip("/")
        return f"{root}/{self.name}/manifests/output/output.manifest"

    def summary(self) -> dict[str, Any]:
        """A `LabelingJobSummary` (ListLabelingJobs)."""
        task = self.human_task_config
        body: dict[str, Any] = {
            "LabelingJobName": self.name,
            "LabelingJobArn": self.arn,
            "CreationTime": self.creation_time,
            "LastModifiedTime": self.last_modified_time,
            "LabelingJobStatus": self.status,
            "LabelCounters": dict(self.counters),
            "WorkteamArn": task["WorkteamArn"],
            "InputConfig": copy.deepcopy(self.input_config),
        }
        if task.get("PreHumanTaskLambdaArn"):
            body["PreHumanTaskLambdaArn"] = task["PreHumanTaskLambdaArn"]
        consolidation = (task.get("AnnotationConsolidationConfig") or {}).get(
            "AnnotationConsolidationLambdaArn"
        )
        if consolidation:
            body["AnnotationConsolidationLambdaArn"] = consolidation
        if self.failure_reason:
            body["FailureReason"] = self.failure_reason
        if self.output_dataset_s3_uri:
            body["LabelingJobOutput"] = {"OutputDatasetS3Uri": self.output_dataset_s3_uri}
        return body

    def describe(self) -> dict[str, Any]:
        """The DescribeLabelingJob response."""
        body: dict[str, Any] = {
            "LabelingJobStatus": self.status,
            "LabelCounters": dict(self.counters),
            "CreationTime": self.creation_time,
            "LastModifiedTime": self.last_modified_time,
            "JobReferenceCode": self.job_reference_code,
            "LabelingJobName": self.name,
            "LabelingJobArn": self.arn,
            "LabelAttributeName": self.label_attribute_name,
            "InputConfig": copy.deepcopy(self.input_config),
            "OutputConfig": copy.deepcopy(self.output_config),
            "RoleArn": self.role_arn,
            "HumanTaskConfig": copy.deepcopy(self.human_task_config),
            "Tags": [dict(t) for t in self.tags],
        }
        if self.failure_reason:
            body["FailureReason"] = self.failure_reason
        if self.label_category_config_s3_uri:
            body["LabelCategoryConfigS3Uri"] = self.label_category_config_s3_uri
        if self.stopping_conditions:
            body["StoppingConditions"] = copy.deepcopy(self.stopping_conditions)
        if self.algorithms_config:
            body["LabelingJobAlgorithmsConfig"] = copy.deepcopy(self.algorithms_config)
        if self.output_dataset_s3_uri:
            body["LabelingJobOutput"] = {"OutputDatasetS3Uri": self.output_dataset_s3_uri}
        return body


# ---------------------------------------------------------------------- the simulator's side
def jobs(backend: SageMakerModelBackend) -> dict[str, LabelingJob]:
    store: dict[str, LabelingJob] = backend.__dict__.setdefault(_STORE, {})
    return store


def find(account: str, region: str, name: str) -> LabelingJob:
    """The job of that name; KeyError when there is none."""
    return jobs(sagemaker_backends[account][region])[name]


def set_status(
    account: str,
    region: str,
    name: str,
    status: str,
    when: datetime,
    failure_reason: str | None = None,
    only_from: tuple[str, ...] = ("InProgress", "Stopping"),
) -> LabelingJob | None:
    """Move the job to `status` at `when`, only from one of `only_from` (else None, nothing
    changes): a stop that came first wins over the simulator's end, and an ended job stays."""
    if status not in STATUSES:
        raise ValueError(f"unknown labeling job status {status!r}")
    with _LOCK:
        job = find(account, region, name)
        if job.status not in only_from:
            return None
        job.status = status
        job.last_modified_time = when
        if failure_reason is not None:
            job.failure_reason = failure_reason[:1024]  # FailureReason: at most 1,024
        return job


def complete(
    account: str, region: str, name: str, when: datetime, labeled: int
) -> LabelingJob | None:
    """The job `Completed` with `labeled` objects labeled by people and its output manifest
    (`LabelingJobOutput.OutputDatasetS3Uri`); None when it is no longer running."""
    with _LOCK:
        job = set_status(account, region, name, "Completed", when, only_from=("InProgress",))
        if job is None:
            return None
        job.counters = {
            "TotalLabeled": labeled,
            "HumanLabeled": labeled,
            "MachineLabeled": 0,
            "FailedNonRetryableError": 0,
            "Unlabeled": 0,
        }
        job.output_dataset_s3_uri = job.output_manifest_s3_uri
        return job


# ---------------------------------------------------------------------- the API's constraints
def check_against_model(operation: str, params: dict[str, Any]) -> None:
    """The request against the API's constraints, as SageMaker checks them."""
    message = api_constraints.validation_message("sagemaker", operation, params)
    if message is not None:
        raise ValidationError(message=message)


def _check_labeling_job(params: dict[str, Any]) -> None:
    """What the API's shape cannot say (developer guide "Labeling job output data", API
    reference "UiConfig", "LabelingJobDataSource")."""
    attribute = params["LabelAttributeName"]
    if "-metadata" in attribute:
        raise ValidationError(
            message=f"LabelAttributeName {attribute}: a label attribute name cannot contain "
            "'-metadata'."
        )
    if attribute.endswith("-ref"):
        raise ValidationError(
            message=f"LabelAttributeName {attribute}: only semantic segmentation and 3D point "
            "cloud segmentation or tracking jobs take a label attribute ending in '-ref', and "
            "those task types do not run offline."
        )
    source = params["InputConfig"]["DataSource"]
    if ("S3DataSource" in source) == ("SnsDataSource" in source):
        raise ValidationError(
            message="InputConfig.DataSource must hold exactly one of S3DataSource or SnsDataSource."
        )
    ui = params["HumanTaskConfig"]["UiConfig"]
    if ("UiTemplateS3Uri" in ui) == ("HumanTaskUiArn" in ui):
        raise ValidationError(
            message="HumanTaskConfig.UiConfig must hold exactly one of UiTemplateS3Uri or "
            "HumanTaskUiArn."
        )


# ---------------------------------------------------------------------- backend
def _create(self: SageMakerModelBackend, params: dict[str, Any]) -> LabelingJob:
    check_against_model("CreateLabelingJob", params)
    _check_labeling_job(params)
    name = str(params["LabelingJobName"])
    when = operation_time()
    with _LOCK:
        store = jobs(self)
        if any(existing.casefold() == name.casefold() for existing in store):
            raise ResourceInUseException(
                message=f"A labeling job named {name} already exists in this account and Region: "
                "labeling job names are unique, and a name cannot be used again."
            )
        job = LabelingJob(
            name=name,
            arn=arn_formatter("labeling-job", name.lower(), self.account_id, self.region_name),
            label_attribute_name=str(params["LabelAttributeName"]),
            input_config=copy.deepcopy(params["InputConfig"]),
            output_config=copy.deepcopy(params["OutputConfig"]),
            role_arn=str(params["RoleArn"]),
            human_task_config=copy.deepcopy(params["HumanTaskConfig"]),
            tags=[dict(t) for t in params.get("Tags") or []],
            job_reference_code=hashlib.sha256(
                f"{self.account_id}/{self.region_name}/{name}/{when.isoformat()}".encode()
            ).hexdigest()[:32],
            creation_time=when,
            last_modified_time=when,
            label_category_config_s3_uri=params.get("LabelCategoryConfigS3Uri"),
            stopping_conditions=copy.deepcopy(params.get("StoppingConditions")),
            algorithms_config=copy.deepcopy(params.get("LabelingJobAlgorithmsConfig")),
        )
        store[name] = job
    return job


def _get(backend: SageMakerModelBackend, name: str) -> LabelingJob:
    job = jobs(backend).get(name)
    if job is None:
        arn = arn_formatter("labeling-job", name.lower(), backend.account_id, backend.region_name)
        raise ResourceNotFound(message=f"Could not find labeling job {arn}.")
    return job


def _describe(self: SageMakerModelBackend, name: str) -> dict[str, Any]:
    check_against_model("DescribeLabelingJob", {"LabelingJobName": name})
    return _get(self, name).describe()


def _stop(self: SageMakerModelBackend, name: str) -> None:
    check_against_model("StopLabelingJob", {"LabelingJobName": name})
    with _LOCK:
        job = _get(self, name)
        if job.status != "InProgress":
            raise ValidationError(
                message=f"The labeling job {name} cannot be stopped: its status is {job.status}, "
                "and only an InProgress job can be stopped."
            )
        job.status = "Stopping"
        job.last_modified_time = operation_time()


_SORT_KEYS: dict[str, Callable[[LabelingJob], Any]] = {
    "Name": lambda j: j.name,
    "CreationTime": lambda j: j.creation_time,
    "Status": lambda j: j.status,
}


def _list(self: SageMakerModelBackend, params: dict[str, Any]) -> dict[str, Any]:
    check_against_model(
        "ListLabelingJobs",
        {k: v for k, v in params.items() if v is not None and not isinstance(v, datetime)},
    )
    sort_by = params.get("SortBy") or "CreationTime"
    descending = (params.get("SortOrder") or "Ascending") == "Descending"
    max_results = int(params.get("MaxResults") or 10)
    found = list(jobs(self).values())
    if params.get("NameContains"):
        needle = str(params["NameContains"]).casefold()
        found = [j for j in found if needle in j.name.casefold()]
    if params.get("StatusEquals"):
        found = [j for j in found if j.status == params["StatusEquals"]]
    bounds: tuple[tuple[str, Callable[[LabelingJob], datetime], bool], ...] = (
        ("CreationTimeAfter", lambda j: j.creation_time, True),
        ("CreationTimeBefore", lambda j: j.creation_time, False),
        ("LastModifiedTimeAfter", lambda j: j.last_modified_time, True),
        ("LastModifiedTimeBefore", lambda j: j.last_modified_time, False),
    )
    for key, moment, after in bounds:
        if params.get(key):
            bound = utc(params[key])
            found = [j for j in found if (moment(j) > bound if after else moment(j) < bound)]
    found.sort(key=_SORT_KEYS[sort_by], reverse=descending)
    token = params.get("NextToken")
    if token and not str(token).isdigit():
        raise ValidationError(message=f"Invalid NextToken {token}.")
    offset = int(token or 0)
    page = found[offset : offset + max_results]
    body: dict[str, Any] = {"LabelingJobSummaryList": [j.summary() for j in page]}
    if offset + max_results < len(found):
        body["NextToken"] = str(offset + max_results)
    return body


# ---------------------------------------------------------------------- responses
def _create_response(self: SageMakerResponse) -> ActionResult:
    params = {m: self._get_param(m) for m in _CREATE_MEMBERS if self._get_param(m) is not None}
    job = _create(self.sagemaker_backend, params)
    return ActionResult({"LabelingJobArn": job.arn})


def _describe_response(self: SageMakerResponse) -> ActionResult:
    return ActionResult(_describe(self.sagemaker_backend, self._get_param("LabelingJobName")))


def _stop_response(self: SageMakerResponse) -> ActionResult:
    _stop(self.sagemaker_backend, self._get_param("LabelingJobName"))
    return ActionResult({})


def _list_response(self: SageMakerResponse) -> ActionResult:
    params = {
        key: self._get_param(key)
        for key in (
            "CreationTimeAfter",
            "CreationTimeBefore",
            "LastModifiedTimeAfter",
            "LastModifiedTimeBefore",
            "MaxResults",
            "NextToken",
            "NameContains",
            "SortBy",
            "SortOrder",
            "StatusEquals",
        )
    }
    return ActionResult(_list(self.sagemaker_backend, params))


BACKEND_METHODS: dict[str, Callable[..., Any]] = {
    "create_labeling_job": _create,
    "describe_labeling_job": _describe,
    "stop_labeling_job": _stop,
    "list_labeling_jobs": _list,
}
RESPONSE_METHODS: dict[str, Callable[[SageMakerResponse], ActionResult]] = {
    "create_labeling_job": _create_response,
    "describe_labeling_job": _describe_response,
    "stop_labeling_job": _stop_response,
    "list_labeling_jobs": _list_response,
}


def install(patcher: Patcher) -> None:
    """Add the four operations to moto's SageMaker backend and response handler; refuses
    (PatchError) once moto has any of them."""
    add_operations(patcher, BACKEND_METHODS, RESPONSE_METHODS)
