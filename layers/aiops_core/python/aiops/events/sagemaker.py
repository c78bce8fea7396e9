"""SageMaker's events: pipeline executions, processing jobs (Model Monitor), model packages,
endpoints and Ground Truth labeling jobs."""

import re
from typing import Literal

from pydantic import Field, model_validator

from aiops.events import (
    MAX_ITEMS,
    MAX_JOB_NAME,
    Arn,
    AwsShape,
    Envelope,
    Name,
    NameMap,
    S3Uri,
    Text,
)


class PipelineExecutionDetail(AwsShape):
    pipeline_arn: Arn = Field(alias="pipelineArn")
    pipeline_execution_arn: Arn = Field(alias="pipelineExecutionArn")
    current_status: Literal["Executing", "Stopping", "Stopped", "Failed", "Succeeded"] = Field(
        alias="currentPipelineExecutionStatus"
    )
    previous_status: Name | None = Field(default=None, alias="previousPipelineExecutionStatus")
    display_name: Name | None = Field(default=None, alias="pipelineExecutionDisplayName")


class PipelineExecutionStatusChange(Envelope):
    source: Literal["aws.sagemaker"]
    detail_type: Literal["SageMaker Model Building Pipeline Execution Status Change"] = Field(
        alias="detail-type"
    )
    detail: PipelineExecutionDetail


class ProcessingS3Output(AwsShape):
    s3_uri: S3Uri = Field(alias="S3Uri")


class ProcessingOutput(AwsShape):
    output_name: Name | None = Field(default=None, alias="OutputName")
    s3_output: ProcessingS3Output | None = Field(default=None, alias="S3Output")


class ProcessingOutputConfig(AwsShape):
    outputs: list[ProcessingOutput] = Field(
        default_factory=list, alias="Outputs", max_length=MAX_ITEMS
    )


class ProcessingJobDetail(AwsShape):
    job_name: str = Field(alias="ProcessingJobName", min_length=1, max_length=MAX_JOB_NAME)
    job_arn: Arn = Field(alias="ProcessingJobArn")
    status: Literal["InProgress", "Completed", "Failed", "Stopping", "Stopped"] = Field(
        alias="ProcessingJobStatus"
    )
    exit_message: Text | None = Field(default=None, alias="ExitMessage")
    failure_reason: Text | None = Field(default=None, alias="FailureReason")
    monitoring_schedule_arn: Arn | None = Field(default=None, alias="MonitoringScheduleArn")
    environment: NameMap = Field(default_factory=dict, alias="Environment")
    output_config: ProcessingOutputConfig | None = Field(
        default=None, alias="ProcessingOutputConfig"
    )

    @property
    def endpoint(self) -> str | None:
        return self.environment.get("sagemaker_endpoint_name")

    @property
    def report_prefix(self) -> str | None:
        """Where Model Monitor wrote its reports: the job's (first) S3 output."""
        outputs = self.output_config.outputs if self.output_config else []
        for output in outputs:
            if output.s3_output is not None:
                return output.s3_output.s3_uri
        return None


class ProcessingJobStateChange(Envelope):
    source: Literal["aws.sagemaker"]
    detail_type: Literal["SageMaker Processing Job State Change"] = Field(alias="detail-type")
    detail: ProcessingJobDetail


class ModelPackageDetail(AwsShape):
    package_group: str = Field(
        alias="ModelPackageGroupName", pattern=r"^[A-Za-z0-9](-*[A-Za-z0-9]){0,62}$"
    )
    # Versions start at 1; SageMaker caps a group far below this bound.
    version: int = Field(alias="ModelPackageVersion", ge=1, le=10**9)
    package_arn: Arn = Field(alias="ModelPackageArn", pattern=r"^arn:aws[a-z-]*:sagemaker:")
    approval_status: Literal["Approved", "Rejected", "PendingManualApproval"] = Field(
        alias="ModelApprovalStatus"
    )
    updated_fields: list[Name] = Field(
        default_factory=list, alias="UpdatedModelPackageFields", max_length=MAX_ITEMS
    )


class ModelPackageStateChange(Envelope):
    source: Literal["aws.sagemaker"]
    detail_type: Literal["SageMaker Model Package State Change"] = Field(alias="detail-type")
    detail: ModelPackageDetail


class EndpointDetail(AwsShape):
    """What both endpoint events say: the endpoint, its serving config and status (the
    spelling differs between the two events: IN_SERVICE vs InService; compared upper-case)."""

    endpoint_name: str = Field(alias="EndpointName", pattern=r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
    endpoint_config: Name = Field(default="", alias="EndpointConfigName")
    status: Name = Field(default="", alias="EndpointStatus")


class EndpointStateChange(Envelope):
    """ "SageMaker Endpoint State Change" or "SageMaker Endpoint Deployment State Change": either
    only wakes the deploy workflow, which reads the endpoint itself before it believes it."""

    source: Literal["aws.sagemaker"]
    detail_type: Literal[
        "SageMaker Endpoint State Change", "SageMaker Endpoint Deployment State Change"
    ] = Field(alias="detail-type")
    detail: EndpointDetail


# SageMaker's labeling job names: 1-63 letters, digits and hyphens.
_LABELING_JOB = re.compile(
    r"arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:labeling-job/[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"
)


class LabelingJobDetail(AwsShape):
    status: Literal["Initializing", "InProgress", "Completed", "Failed", "Stopping", "Stopped"] = (
        Field(alias="LabelingJobStatus")
    )


class LabelingJobStateChange(Envelope):
    """A Ground Truth labeling job's status; the job is named by its ARN in `resources`."""

    source: Literal["aws.sagemaker"]
    detail_type: Literal["SageMaker Ground Truth Labeling Job State Change"] = Field(
        alias="detail-type"
    )
    detail: LabelingJobDetail
    # The job, named by its ARN in `resources` (the detail holds only the status).
    resources: list[Arn] = Field(min_length=1, max_length=MAX_ITEMS)

    @model_validator(mode="after")
    def _names_a_labeling_job(self) -> "LabelingJobStateChange":
        if not any(_LABELING_JOB.fullmatch(arn) for arn in self.resources):
            raise ValueError("resources: no SageMaker labeling job ARN")
        return self

    @property
    def job_name(self) -> str:
        return next(a for a in self.resources if _LABELING_JOB.fullmatch(a)).rsplit("/", 1)[-1]
