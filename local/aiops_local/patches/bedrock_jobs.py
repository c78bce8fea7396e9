"""Bedrock model customization and evaluation jobs in moto's Bedrock backend.

moto 5.2.5 keeps customization jobs `InProgress` forever, finds them by name only (a job ARN in
GetModelCustomizationJob is `ResourceNotFoundException`), creates the custom model the moment the
job is created, ignores `clientRequestToken`, and has no evaluation jobs at all
(NotImplementedError). `install` makes the API behave as Bedrock's does; the simulators
(`simulators/bedrock_customization`, `simulators/bedrock_evaluation`) move jobs on in virtual
time through the functions below.

Customization jobs (`CreateModelCustomizationJob`, `GetModelCustomizationJob`,
`StopModelCustomizationJob`):
- every field checked against the API's constraints (botocore's model of the API: required
  members, lengths, patterns, enums), as the service does, with its error wording;
- the job ARN is `model-customization-job/<base model id>/<12 chars>` and the custom model's
  `custom-model/<base model id>/<12 chars>` (the formats of "ModelCustomizationJobSummary");
  `outputModelName` is the `customModelName`; times are the runtime's virtual time;
- a retry with the same `clientRequestToken` and the same request returns the same job; a token
  already used for another request is a ConflictException; a job name already used (jobs are
  never deleted), or a custom model name taken by a model or a running job, is a
  ValidationException ("The provided job name is currently in use.", the wording Bedrock uses
  for its import jobs);
- the custom model exists only once the job completed (`complete_customization_job`), tagged
  with the job's `customModelTags`; `outputModelArn` is set then;
- Get and Stop take the job's name or ARN; Stop turns an `InProgress` job `Stopping` (the
  simulator ends it `Stopped`) and refuses any other (ValidationException).

Evaluation jobs (`CreateEvaluationJob`, `GetEvaluationJob`, `StopEvaluationJob`), automatic
model evaluations only (`applicationType` ModelEvaluation, `evaluationConfig.automated`, one
Bedrock model or one precomputed inference source):
- the API's constraints, as above: job name `[a-z0-9](-*[a-z0-9]){0,62}`, task types
  Summarization | Classification | QuestionAndAnswer | Generation | Custom, at most 5 datasets,
  model identifiers per the API's pattern (a `custom-model/...` ARN is not one: Bedrock evaluates
  a custom model through its Provisioned Throughput, `provisioned-model/<12 chars>`);
- metric names per task type ("Model evaluation task types in Amazon Bedrock"): Builtin.Accuracy,
  Builtin.Robustness, Builtin.Toxicity (no Toxicity for Classification); a dataset is a
  built-in one (`Builtin.<name>`, no location) or a custom one with its `datasetLocation.s3Uri`;
- a job name is unique in the region (ValidationException), `clientRequestToken` as above;
- the job is `InProgress` from creation; Stop turns an `InProgress` job `Stopping`; the
  simulator ends it (`set_evaluation_status`). The 1,000-prompt limit of a custom dataset is
  checked when the job reads it, as the job does: the simulator fails the job.

All state lives on moto's `BedrockBackend` instance of the account and region (moto's own job and
model objects, plus `aiops_evaluation_jobs`), so `moto reset` clears it.
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from moto.bedrock.exceptions import BedrockClientError, ResourceNotFoundException
from moto.bedrock.models import (
    BedrockBackend,
    CustomModel,
    ModelCustomizationJob,
    bedrock_backends,
)
from moto.bedrock.responses import BedrockResponse

from aiops_local.clock import current_clock
from aiops_local.patches import api_constraints
from aiops_local.patches.base import Patcher

CUSTOMIZATION_STATUSES = ("InProgress", "Completed", "Failed", "Stopping", "Stopped")
EVALUATION_STATUSES = ("InProgress", "Completed", "Failed", "Stopping", "Stopped", "Deleting")
ENDED = ("Completed", "Failed", "Stopped")
# "Model evaluation task types in Amazon Bedrock": the built-in metrics of each task type.
METRICS_BY_TASK: dict[str, tuple[str, ...]] = {
    "Generation": ("Builtin.Accuracy", "Builtin.Robustness", "Builtin.Toxicity"),
    "Summarization": ("Builtin.Accuracy", "Builtin.Robustness", "Builtin.Toxicity"),
    "QuestionAndAnswer": ("Builtin.Accuracy", "Builtin.Robustness", "Builtin.Toxicity"),
    "Classification": ("Builtin.Accuracy", "Builtin.Robustness"),
    "Custom": ("Builtin.Accuracy", "Builtin.Robustness", "Builtin.Toxicity"),
}
# "Use built-in prompt datasets for automatic model evaluation in Amazon Bedrock".
BUILTIN_DATASETS = (
    "Builtin.Bold",
    "Builtin.T-REx",
    "Builtin.WikiText2",
    "Builtin.RealToxicityPrompts",
    "Builtin.Gigaword",
    "Builtin.BoolQ",
    "Builtin.NaturalQuestions",
    "Builtin.TriviaQA",
    "Builtin.WomensEcommerceClothingReviews",
)
MAX_CUSTOM_PROMPTS = 1000
_NAME_IN_USE = "The provided job name is currently in use."
_EVALUATIONS = "aiops_evaluation_jobs"  # on the backend instance: moto's reset clears it
# Status changes come from callers' threads (Stop) and from the simulators (the agenda).
_LOCK = threading.RLock()


class ValidationException(BedrockClientError):
    def __init__(self, message: str) -> None:
        super().__init__("ValidationException", message)


class ConflictException(BedrockClientError):
    def __init__(self, message: str) -> None:
        super().__init__("ConflictException", message)


def now() -> datetime:
    """The runtime's virtual time when a LocalCloud runs, else the real time."""
    clock = current_clock()
    return clock.now() if clock is not None else datetime.now(UTC)


def iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _backend(account: str, region: str) -> BedrockBackend:
    return bedrock_backends[account][region]


def _short_id(*parts: str) -> str:
    """12 lowercase letters and digits, as Bedrock's job and model ids, stable for the inputs."""
    digest = hashlib.sha256("\x00".join(parts).encode()).digest()
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(alphabet[b % len(alphabet)] for b in digest[:12])


# ---------------------------------------------------------------------- the API's constraints
def check_against_model(operation: str, params: dict[str, Any]) -> None:
    """The request against the API's constraints, as the service checks them."""
    message = api_constraints.validation_message("bedrock", operation, params)
    if message is not None:
        raise ValidationException(message)


def _body(response: BedrockResponse) -> dict[str, Any]:
    try:
        parsed = json.loads(response.body or "{}")
    except ValueError:
        raise ValidationException("The request body is not JSON.") from None
    if not isinstance(parsed, dict):
        raise ValidationException("The request body is not a JSON object.")
    return parsed


def _identifier(response: BedrockResponse, collection: str, suffix: str = "") -> str:
    """The `{jobIdentifier}` of the request's path: a name, or an ARN (URL-encoded, since an ARN
    holds `/`)."""
    path = response.path.split("?")[0]
    start = path.index(f"/{collection}/") + len(collection) + 2
    end = len(path) - len(suffix) if suffix and path.endswith(suffix) else len(path)
    return unquote(path[start:end])


# ---------------------------------------------------------------------- customization jobs
def _base_model_id(identifier: str) -> str:
    """`amazon.nova-lite-v1:0:300k` from a model id or a foundation-model ARN."""
    return (
        identifier.split("foundation-model/")[-1] if identifier.startswith("arn:") else identifier
    )


def find_customization_job(account: str, region: str, identifier: str) -> ModelCustomizationJob:
    """The job of that name or ARN; KeyError when there is none."""
    backend = _backend(account, region)
    job = backend.model_customization_jobs.get(identifier)
    if job is None:
        job = next(
            (j for j in backend.model_customization_jobs.values() if j.job_arn == identifier), None
        )
    if job is None:
        raise KeyError(identifier)
    return job


def customization_jobs(account: str, region: str) -> list[ModelCustomizationJob]:
    return list(_backend(account, region).model_customization_jobs.values())


def job_id(job: ModelCustomizationJob) -> str:
    """The job's 12-character id, the last part of its ARN."""
    return str(job.job_arn).rsplit("/", 1)[-1]


def set_customization_status(
    account: str,
    region: str,
    identifier: str,
    status: str,
    when: datetime,
    failure_message: str | None = None,
) -> ModelCustomizationJob:
    """A job moves on: `Stopping`, or an end (`Failed` with its message, `Stopped`); a
    `Completed` end goes through `complete_customization_job`."""
    if status not in CUSTOMIZATION_STATUSES:
        raise ValueError(f"unknown customization job status {status!r}")
    with _LOCK:
        # moto types these attributes as always set; Bedrock leaves them unset until they apply.
        job: Any = find_customization_job(account, region, identifier)
        job.status = status
        job.last_modified_time = iso(when)
        job.failure_message = failure_message if status == "Failed" else None
        if status in ENDED:
            job.end_time = iso(when)
        return job


def complete_customization_job(
    account: str,
    region: str,
    identifier: str,
    when: datetime,
    training_loss: float = 0.0,
    validation_loss: float | None = None,
) -> ModelCustomizationJob:
    """The job completed: its custom model exists (with the job's `customModelTags`), and the
    job says so (`Completed`, `outputModelArn`, the last losses)."""
    with _LOCK:
        job: Any = find_customization_job(account, region, identifier)
        backend = _backend(account, region)
        base_id = _base_model_id(job.base_model_identifier)
        model = CustomModel(
            job.output_model_name,
            job.job_name,
            job.job_arn,
            job.base_model_arn,
            job.hyper_parameters,
            job.output_data_config,
            job.training_data_config,
            {"trainingLoss": training_loss},
            base_id,
            region,
            account,
            job.customization_type,
            job.output_model_kms_key_arn,
            job.validation_data_config,
            None if validation_loss is None else [{"validationLoss": validation_loss}],
        )
        model.model_arn = (
            f"arn:aws:bedrock:{region}:{account}:custom-model/{base_id}/"
            f"{_short_id(account, region, job.job_arn, 'model')}"
        )
        model.creation_time = iso(when)
        backend.custom_models[model.model_name] = model
        if job.custom_model_tags:
            backend.tag_resource(model.model_arn, job.custom_model_tags)
        job.output_model_arn = model.model_arn
        job.training_metrics = {"trainingLoss": training_loss}
        job.validation_metrics = (
            None if validation_loss is None else [{"validationLoss": validation_loss}]
        )
        set_customization_status(account, region, job.job_arn, "Completed", when)
        return job


def customization_event_detail(job: ModelCustomizationJob) -> dict[str, Any]:
    """`Model Customization Job State Change`'s detail, as "How EventBridge for Amazon Bedrock
    works" shows it: the job's GetModelCustomizationJob fields, `jobStatus` for `status`, and
    `validationDataConfig.s3Uri` (the first validator)."""
    detail: dict[str, Any] = {
        "version": "0.0",
        "jobName": job.job_name,
        "jobArn": job.job_arn,
        "outputModelName": job.output_model_name,
        "outputModelArn": job.output_model_arn or _planned_model_arn(job),
        "roleArn": job.role_arn,
        "jobStatus": job.status,
    }
    if job.status == "Failed" and job.failure_message:
        detail["failureMessage"] = job.failure_message
    detail["creationTime"] = job.creation_time
    detail["lastModifiedTime"] = job.last_modified_time
    if job.end_time:
        detail["endTime"] = job.end_time
    detail["baseModelArn"] = job.base_model_arn
    detail["hyperParameters"] = dict(job.hyper_parameters or {})
    detail["trainingDataConfig"] = {"s3Uri": job.training_data_config.get("s3Uri")}
    validators = (job.validation_data_config or {}).get("validators") or []
    if validators:
        detail["validationDataConfig"] = {"s3Uri": validators[0].get("s3Uri")}
    detail["outputDataConfig"] = {"s3Uri": job.output_data_config.get("s3Uri")}
    return detail


def _planned_model_arn(job: ModelCustomizationJob) -> str:
    # The documented event carries outputModelArn whatever the status; before the model exists
    # it is the ARN the model gets.
    region, account = job.region_name, job.account_id
    return (
        f"arn:aws:bedrock:{region}:{account}:custom-model/"
        f"{_base_model_id(job.base_model_identifier)}/"
        f"{_short_id(account, region, job.job_arn, 'model')}"
    )


def _request_fingerprint(params: dict[str, Any]) -> str:
    return json.dumps(
        {k: v for k, v in params.items() if k != "clientRequestToken"}, sort_keys=True
    )


def _create_customization(self: BedrockResponse) -> str:
    params = _body(self)
    check_against_model("CreateModelCustomizationJob", params)
    backend = self.bedrock_backend
    account, region = self.current_account, self.region
    token = params.get("clientRequestToken")
    with _LOCK:
        if token:
            for existing in backend.model_customization_jobs.values():
                if existing.client_request_token != token:
                    continue
                if getattr(existing, "aiops_request", None) == _request_fingerprint(params):
                    return json.dumps({"jobArn": existing.job_arn})
                raise ConflictException(
                    f"The clientRequestToken {token} was already used for another request."
                )
        name = params["jobName"]
        if name in backend.model_customization_jobs:
            raise ValidationException(_NAME_IN_USE)
        model_name = params["customModelName"]
        taken = model_name in backend.custom_models or any(
            j.custom_model_name == model_name and j.status not in ENDED
            for j in backend.model_customization_jobs.values()
        )
        if taken:
            raise ValidationException(
                f"The provided custom model name {model_name} is currently in use."
            )
        when = now()
        base_id = _base_model_id(params["baseModelIdentifier"])
        job: Any = ModelCustomizationJob(
            name,
            model_name,
            params["roleArn"],
            params["baseModelIdentifier"],
            params["trainingDataConfig"],
            params["outputDataConfig"],
            params.get("hyperParameters") or {},
            region,
            account,
            token,
            params.get("customizationType") or "FINE_TUNING",
            params.get("customModelKmsKeyId"),
            params.get("jobTags"),
            params.get("customModelTags"),
            params.get("validationDataConfig"),
            params.get("vpcConfig"),
        )
        job.job_arn = (
            f"arn:aws:bedrock:{region}:{account}:model-customization-job/{base_id}/"
            f"{_short_id(account, region, name, iso(when))}"
        )
        job.base_model_arn = f"arn:aws:bedrock:{region}::foundation-model/{base_id}"
        job.output_model_name = model_name
        job.output_model_arn = None
        job.output_model_kms_key_arn = params.get("customModelKmsKeyId")
        job.status = "InProgress"
        job.failure_message = None
        job.creation_time = job.last_modified_time = iso(when)
        job.end_time = None
        job.training_metrics = None
        job.validation_metrics = None
        job.aiops_request = _request_fingerprint(params)
        backend.model_customization_jobs[name] = job
        if job.job_tags:
            backend.tag_resource(job.job_arn, job.job_tags)
        return json.dumps({"jobArn": job.job_arn})


def _get_customization(self: BedrockResponse) -> str:
    identifier = _identifier(self, "model-customization-jobs")
    try:
        job = find_customization_job(self.current_account, self.region, identifier)
    except KeyError:
        raise ResourceNotFoundException(f"Model customization job {identifier} not found") from None
    body = job.to_dict()
    body["status"] = job.status  # to_dict drops falsy values, never the status
    return json.dumps(body)


def _stop_customization(self: BedrockResponse) -> str:
    identifier = _identifier(self, "model-customization-jobs", "/stop")
    with _LOCK:
        try:
            job = find_customization_job(self.current_account, self.region, identifier)
        except KeyError:
            raise ResourceNotFoundException(
                f"Model customization job {identifier} not found"
            ) from None
        if job.status != "InProgress":
            raise ValidationException(
                f"The model customization job {job.job_name} cannot be stopped: its status is "
                f"{job.status}, and only an InProgress job can be stopped."
            )
        set_customization_status(self.current_account, self.region, job.job_arn, "Stopping", now())
    return json.dumps({})


# ---------------------------------------------------------------------- evaluation jobs
@dataclass
class EvaluationJob:
    name: str
    arn: str
    role_arn: str
    description: str | None
    evaluation_config: dict[str, Any]
    inference_config: dict[str, Any]
    output_data_config: dict[str, Any]
    application_type: str
    kms_key: str | None
    tags: list[dict[str, str]]
    client_request_token: str | None
    request: str  # the request's fingerprint, for idempotent retries
    creation_time: datetime
    last_modified_time: datetime
    status: str = "InProgress"
    failure_messages: list[str] = field(default_factory=list)

    @property
    def job_id(self) -> str:
        return self.arn.rsplit("/", 1)[-1]

    @property
    def dataset_metric_configs(self) -> list[dict[str, Any]]:
        return list(self.evaluation_config["automated"]["datasetMetricConfigs"])

    @property
    def model(self) -> dict[str, Any]:
        """The one model evaluated: `{bedrockModel: ...}` or `{precomputedInferenceSource: ...}`."""
        return dict(self.inference_config["models"][0])

    def describe(self) -> dict[str, Any]:
        """The GetEvaluationJob response."""
        body: dict[str, Any] = {
            "jobName": self.name,
            "status": self.status,
            "jobArn": self.arn,
            "roleArn": self.role_arn,
            "jobType": "Automated",
            "applicationType": self.application_type,
            "evaluationConfig": copy.deepcopy(self.evaluation_config),
            "inferenceConfig": copy.deepcopy(self.inference_config),
            "outputDataConfig": copy.deepcopy(self.output_data_config),
            "creationTime": iso(self.creation_time),
            "lastModifiedTime": iso(self.last_modified_time),
        }
        if self.description is not None:
            body["jobDescription"] = self.description
        if self.kms_key is not None:
            body["customerEncryptionKeyId"] = self.kms_key
        if self.failure_messages:
            body["failureMessages"] = list(self.failure_messages)
        return body


def _evaluations(backend: BedrockBackend) -> dict[str, EvaluationJob]:
    store = getattr(backend, _EVALUATIONS, None)
    if store is None:
        store = {}
        setattr(backend, _EVALUATIONS, store)
    return store


def find_evaluation_job(account: str, region: str, identifier: str) -> EvaluationJob:
    """The evaluation job of that name or ARN; KeyError when there is none."""
    store = _evaluations(_backend(account, region))
    job = store.get(identifier) or next((j for j in store.values() if j.arn == identifier), None)
    if job is None:
        raise KeyError(identifier)
    return job


def evaluation_jobs(account: str, region: str) -> list[EvaluationJob]:
    return list(_evaluations(_backend(account, region)).values())


def set_evaluation_status(
    account: str,
    region: str,
    identifier: str,
    status: str,
    when: datetime,
    failure_messages: list[str] | None = None,
) -> EvaluationJob:
    if status not in EVALUATION_STATUSES:
        raise ValueError(f"unknown evaluation job status {status!r}")
    with _LOCK:
        job = find_evaluation_job(account, region, identifier)
        job.status = status
        job.last_modified_time = when
        # At most 20 messages (ErrorMessages), each at most 2,048 characters.
        job.failure_messages = [m[:2048] for m in (failure_messages or [])][:20]
        return job


def _check_evaluation(params: dict[str, Any]) -> None:
    """What the API's shape cannot say: automatic model evaluations of one model, the metrics of
    each task type, built-in or located datasets."""
    application = params.get("applicationType", "ModelEvaluation")
    if application != "ModelEvaluation":
        raise ValidationException(
            f"applicationType {application} is not supported offline: only ModelEvaluation."
        )
    config = params["evaluationConfig"]
    automated = config.get("automated")
    if automated is None or "human" in config:
        raise ValidationException(
            "evaluationConfig must hold exactly one of automated or human; offline, only "
            "automated model evaluations run."
        )
    if automated.get("evaluatorModelConfig") or automated.get("customMetricConfig"):
        raise ValidationException(
            "evaluationConfig.automated: model-as-a-judge evaluations (evaluatorModelConfig, "
            "customMetricConfig) do not run offline; use the built-in metrics."
        )
    for index, item in enumerate(automated["datasetMetricConfigs"], start=1):
        where = f"evaluationConfig.automated.datasetMetricConfigs.{index}"
        task = item["taskType"]
        allowed = METRICS_BY_TASK[task]
        for metric in item["metricNames"]:
            if metric not in allowed:
                raise ValidationException(
                    f"{where}.metricNames: {metric} is not a metric of task type {task} "
                    f"({', '.join(allowed)})."
                )
        if len(set(item["metricNames"])) != len(item["metricNames"]):
            raise ValidationException(f"{where}.metricNames: a metric is named twice.")
        dataset = item["dataset"]
        located = (dataset.get("datasetLocation") or {}).get("s3Uri")
        if dataset["name"].startswith("Builtin."):
            if dataset["name"] not in BUILTIN_DATASETS:
                raise ValidationException(
                    f"{where}.dataset.name: {dataset['name']} is not a built-in dataset "
                    f"({', '.join(BUILTIN_DATASETS)})."
                )
            if located:
                raise ValidationException(
                    f"{where}.dataset: a built-in dataset takes no datasetLocation."
                )
        elif not located:
            raise ValidationException(
                f"{where}.dataset.datasetLocation.s3Uri: a custom dataset needs its S3 location."
            )
    models = params["inferenceConfig"].get("models") or []
    if len(models) != 1:
        raise ValidationException(
            "inferenceConfig.models: an automatic model evaluation evaluates exactly one model."
        )
    model = models[0]
    if ("bedrockModel" in model) == ("precomputedInferenceSource" in model):
        raise ValidationException(
            "inferenceConfig.models.1: exactly one of bedrockModel or precomputedInferenceSource."
        )
    inference_params = (model.get("bedrockModel") or {}).get("inferenceParams")
    if inference_params is not None:
        try:
            json.loads(inference_params)
        except ValueError:
            raise ValidationException(
                "inferenceConfig.models.1.bedrockModel.inferenceParams: not a JSON document."
            ) from None


def _create_evaluation(self: BedrockResponse) -> str:
    params = _body(self)
    check_against_model("CreateEvaluationJob", params)
    _check_evaluation(params)
    backend = self.bedrock_backend
    account, region = self.current_account, self.region
    store = _evaluations(backend)
    token = params.get("clientRequestToken")
    fingerprint = _request_fingerprint(params)
    with _LOCK:
        if token:
            for existing in store.values():
                if existing.client_request_token != token:
                    continue
                if existing.request == fingerprint:
                    return json.dumps({"jobArn": existing.arn})
                raise ConflictException(
                    f"The clientRequestToken {token} was already used for another request."
                )
        name = params["jobName"]
        if name in store:
            raise ValidationException(_NAME_IN_USE)
        when = now()
        job = EvaluationJob(
            name=name,
            arn=(
                f"arn:aws:bedrock:{region}:{account}:evaluation-job/"
                f"{_short_id(account, region, name, iso(when))}"
            ),
            role_arn=params["roleArn"],
            description=params.get("jobDescription"),
            evaluation_config=copy.deepcopy(params["evaluationConfig"]),
            inference_config=copy.deepcopy(params["inferenceConfig"]),
            output_data_config=copy.deepcopy(params["outputDataConfig"]),
            application_type=params.get("applicationType", "ModelEvaluation"),
            kms_key=params.get("customerEncryptionKeyId"),
            tags=list(params.get("jobTags") or []),
            client_request_token=token,
            request=fingerprint,
            creation_time=when,
            last_modified_time=when,
        )
        store[name] = job
    return json.dumps({"jobArn": job.arn})


def _get_evaluation(self: BedrockResponse) -> str:
    identifier = _identifier(self, "evaluation-jobs")
    try:
        job = find_evaluation_job(self.current_account, self.region, identifier)
    except KeyError:
        raise ResourceNotFoundException(f"Evaluation job {identifier} not found") from None
    return json.dumps(job.describe())


def _stop_evaluation(self: BedrockResponse) -> str:
    identifier = _identifier(self, "evaluation-job", "/stop")
    with _LOCK:
        try:
            job = find_evaluation_job(self.current_account, self.region, identifier)
        except KeyError:
            raise ResourceNotFoundException(f"Evaluation job {identifier} not found") from None
        if job.status != "InProgress":
            raise ValidationException(
                f"The evaluation job {job.name} cannot be stopped: its status is {job.status}, "
                "and only an InProgress job can be stopped."
            )
        set_evaluation_status(self.current_account, self.region, job.arn, "Stopping", now())
    return json.dumps({})


# ---------------------------------------------------------------------- the patch
def install(patcher: Patcher) -> None:
    patcher.replace(BedrockResponse, "create_model_customization_job", _create_customization)
    patcher.replace(BedrockResponse, "get_model_customization_job", _get_customization)
    patcher.replace(BedrockResponse, "stop_model_customization_job", _stop_customization)
    patcher.add(BedrockResponse, "create_evaluation_job", _create_evaluation)
    patcher.add(BedrockResponse, "get_evaluation_job", _get_evaluation)
    patcher.add(BedrockResponse, "stop_evaluation_job", _stop_evaluation)
