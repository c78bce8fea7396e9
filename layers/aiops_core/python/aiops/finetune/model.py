"""The fine-tune workflow's values: what it asks Bedrock for, what Bedrock answers, what the
steps pass each other through the state machine."""

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from aiops.registry import Candidate
from aiops.runs.steps import StepInput

# The tag every resource the control plane creates carries (cost allocation, IAM conditions).
MODEL_TAG = "aiops:model"
# The candidate package's lineage, in its CustomerMetadataProperties.
CUSTOM_MODEL_KEY = "aiops:custom-model-arn"
JOB_KEY = "aiops:customization-job-arn"
MANIFEST_KEY = "aiops:dataset-manifest"
RUN_KEY = "aiops:run-id"
EVALUATION_KEY = "aiops:evaluation-job-arn"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)


class Dataset(_Frozen):
    """The files a fine-tune run trains and evaluates on, written before its job starts."""

    manifest_uri: str
    training_uri: str
    validation_uri: str | None = None
    holdout_uri: str
    training_records: int = Field(ge=0)
    validation_records: int = Field(ge=0)
    holdout_records: int = Field(ge=0)
    bad_records: int = Field(ge=0, description="Records of the files no longer valid: left out.")
    over_limit: int = Field(ge=0, description="Good records beyond the base model's maximum.")


class LabelingJob(_Frozen):
    """A Ground Truth labeling job, as DescribeLabelingJob reports it."""

    name: str
    arn: str
    status: str
    label_attribute: str
    output_manifest_uri: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)


class CustomizationRequest(_Frozen):
    job_name: str = Field(pattern=r"^[a-zA-Z0-9](-*[a-zA-Z0-9\+\-\.])*$", max_length=63)
    custom_model_name: str = Field(pattern=r"^([0-9a-zA-Z][_-]?)+$", max_length=63)
    client_token: str = Field(min_length=1, max_length=256)
    base_model: str
    role_arn: str
    training_uri: str
    validation_uri: str | None = None
    output_uri: str
    hyper_parameters: dict[str, str]
    tags: dict[str, str]


class CustomizationStatus(_Frozen):
    status: Literal["InProgress", "Completed", "Failed", "Stopping", "Stopped"]
    custom_model_arn: str | None = None
    failure_message: str | None = None


class StagedModel(_Frozen):
    """The custom model deployment a candidate is evaluated through, as Bedrock reports it."""

    arn: str
    status: str  # Creating | Active | Failed
    model_arn: str
    # An update in progress (Updating) or ended (UpdateCompleted | UpdateFailed), if any.
    update_status: str | None = None
    failure_message: str | None = None

    def serves(self, model_arn: str) -> bool:
        return (
            self.status == "Active"
            and self.model_arn == model_arn
            and self.update_status not in ("Updating",)
        )


class EvaluationRequest(_Frozen):
    job_name: str = Field(pattern=r"^[a-z0-9](-*[a-z0-9]){0,62}$")
    client_token: str = Field(min_length=1, max_length=256)
    role_arn: str
    # Bring-your-own-inference: the candidate's answers are in the dataset under this name.
    source: str = Field(pattern=r"^[A-Za-z0-9-]{1,64}$")
    task_type: str
    dataset_name: str
    dataset_uri: str
    output_uri: str
    tags: dict[str, str]


class EvaluationStatus(_Frozen):
    job_arn: str
    job_name: str
    status: Literal["InProgress", "Completed", "Failed", "Stopping", "Stopped", "Deleting"]
    output_uri: str
    failure_messages: list[str] = Field(default_factory=list)


class EvaluatedRecord(_Frozen):
    """One held-out prompt as the evaluation job answered and scored it."""

    prompt: str
    reference: str
    response: str | None
    scores: dict[str, float] = Field(default_factory=dict)

    @field_validator("scores")
    @classmethod
    def _finite(cls, value: dict[str, float]) -> dict[str, float]:
        # A score Bedrock could not compute is absent, never NaN: drop what is not finite.
        return {k: v for k, v in value.items() if math.isfinite(v)}


# ------------------------------------------------------------------ the workflow's step inputs


class PrepareInput(StepInput):
    pass


class StartFineTuneInput(StepInput):
    task_token: str = Field(min_length=1)
    dataset: Dataset


class ReconcileInput(StepInput):
    """The wait for the job ended without its event (the task timed out)."""


class JobResult(_Frozen):
    job_arn: str
    custom_model_arn: str


class EvaluationInput(StepInput):
    dataset: Dataset
    job: JobResult


class EvaluationProgress(_Frozen):
    """Where a candidate's evaluation is: staging it on its deployment, then (its answers to
    the held-out prompts written) the evaluation job scoring them."""

    phase: Literal["staging", "scoring"]
    deployment: str
    job_arn: str | None = None
    deadline: str
    poll_seconds: int = Field(ge=1)
    # Held-out prompts the candidate has answered so far (in batches, one per look).
    answered: int = Field(default=0, ge=0)
    # Evaluation deployments created for it (a failed one is removed and created anew).
    attempt: int = Field(default=0, ge=0)
    done: bool = False
    metrics_uri: str | None = None


class EvaluationCheckInput(EvaluationInput):
    evaluation: EvaluationProgress


class RegisterInput(EvaluationInput):
    evaluation: EvaluationProgress


class RegisteredCandidate(_Frozen):
    candidate: Candidate
