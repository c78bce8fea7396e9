"""The AWS events the control plane consumes, parsed at the edge.

Our own small pydantic models rather than Powertools' parser models: those build every AWS event
model at import time (about 290 ms), which would dominate cold start.

Every field is bounded by what AWS itself allows (S3 keys of at most 1,024 bytes, objects of at
most 5 TiB, job names of at most 63 characters ...): a value no AWS service can send is rejected
here, naming the field and the bound, instead of acting (a 2**64-byte object closing a window) or
failing further on (a number DynamoDB cannot store, a key too long for a DynamoDB key). Integers
are strict: `1e3` or `true` is not a size.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    ValidationError,
    model_validator,
)

# --- what AWS allows -------------------------------------------------------------------------
MAX_S3_OBJECT_BYTES = 5 * 2**40  # 5 TiB, S3's largest object
MAX_S3_KEY_BYTES = 1024  # UTF-8 bytes
MIN_BUCKET_NAME, MAX_BUCKET_NAME = 3, 63
MAX_S3_URI_BYTES = len("s3://") + MAX_BUCKET_NAME + len("/") + MAX_S3_KEY_BYTES
MAX_S3_TOKEN = 1024  # version id, ETag, sequencer: far shorter in practice
MAX_EVENT_ID = 256
MAX_ARN = 2048
MAX_JOB_NAME = 63  # SageMaker processing job / endpoint names
MAX_ALARM_NAME = 255
MAX_TEXT = 1024  # free text AWS bounds at about 1 KB: exit messages, failure and state reasons
MAX_NAME = 256  # other names and short values
MAX_TIMESTAMP_TEXT = 64
MAX_ITEMS = 100  # lists and maps in an event (AWS's own limits are lower)
MAX_VIOLATIONS = 100_000  # a drift check reports one per feature and check
EARLIEST_YEAR, LATEST_YEAR = 2000, 2099


def _utf8_at_most(limit: int) -> AfterValidator:
    def check(value: str) -> str:
        # pydantic has already refused text that is not valid Unicode (a lone surrogate).
        size = len(value.encode("utf-8"))
        if size > limit:
            raise ValueError(f"is {size} bytes of UTF-8, more than the {limit} AWS allows")
        return value

    return AfterValidator(check)


def _text_before_parsing(value: Any) -> Any:
    # A time is ISO 8601 text in every event we consume: not a number of seconds, not unbounded.
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 time as text")
    if len(value) > MAX_TIMESTAMP_TEXT:
        raise ValueError(f"is longer than {MAX_TIMESTAMP_TEXT} characters")
    return value


def _sane_year(value: datetime) -> datetime:
    # The year as written: converting 9999-12-31T23:59-01:00 to UTC would overflow.
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"must be in the years {EARLIEST_YEAR} to {LATEST_YEAR}")
    return value


S3Key = Annotated[str, Field(min_length=1), _utf8_at_most(MAX_S3_KEY_BYTES)]
S3Uri = Annotated[
    str, Field(min_length=1, pattern=r"^s3://[^/]+/.+"), _utf8_at_most(MAX_S3_URI_BYTES)
]
S3Size = Annotated[StrictInt, Field(ge=0, le=MAX_S3_OBJECT_BYTES)]
S3Token = Annotated[str, Field(max_length=MAX_S3_TOKEN)]
Arn = Annotated[str, Field(min_length=1, max_length=MAX_ARN)]
Name = Annotated[str, Field(max_length=MAX_NAME)]
Text = Annotated[str, Field(max_length=MAX_TEXT)]
EventTime = Annotated[
    AwareDatetime, BeforeValidator(_text_before_parsing), AfterValidator(_sane_year)
]
NameMap = Annotated[dict[Name, Text], Field(max_length=MAX_ITEMS)]


class InvalidEvent(ValueError):
    """An event that cannot be acted on, naming each bad field and why."""

    def __init__(self, kind: str, problems: list[str]) -> None:
        self.kind = kind
        self.problems = problems
        super().__init__(f"invalid {kind} event: " + "; ".join(problems))


class _AwsShape(BaseModel):
    # AWS adds fields over time: tolerate them, require only what we use.
    # Built on first use: a handler builds the schema of the one event it reads.
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True, defer_build=True)


class _Envelope(_AwsShape):
    id: str = Field(min_length=1, max_length=MAX_EVENT_ID)
    source: Name
    detail_type: Name = Field(alias="detail-type")
    time: EventTime
    account: str = Field(default="", max_length=12)
    region: str = Field(default="", max_length=32)
    resources: list[Arn] = Field(default_factory=list, max_length=MAX_ITEMS)


class S3Bucket(_AwsShape):
    name: str = Field(min_length=MIN_BUCKET_NAME, max_length=MAX_BUCKET_NAME)


class S3Object(_AwsShape):
    key: S3Key
    size: S3Size = 0
    etag: S3Token | None = None
    version_id: S3Token | None = Field(default=None, alias="version-id")
    sequencer: S3Token | None = None


class S3ObjectCreatedDetail(_AwsShape):
    bucket: S3Bucket
    object: S3Object
    reason: Name | None = None


class S3ObjectCreated(_Envelope):
    source: Literal["aws.s3"]
    detail_type: Literal["Object Created"] = Field(alias="detail-type")
    detail: S3ObjectCreatedDetail


class PipelineExecutionDetail(_AwsShape):
    pipeline_arn: Arn = Field(alias="pipelineArn")
    pipeline_execution_arn: Arn = Field(alias="pipelineExecutionArn")
    current_status: Literal["Executing", "Stopping", "Stopped", "Failed", "Succeeded"] = Field(
        alias="currentPipelineExecutionStatus"
    )
    previous_status: Name | None = Field(default=None, alias="previousPipelineExecutionStatus")
    display_name: Name | None = Field(default=None, alias="pipelineExecutionDisplayName")


class PipelineExecutionStatusChange(_Envelope):
    source: Literal["aws.sagemaker"]
    detail_type: Literal["SageMaker Model Building Pipeline Execution Status Change"] = Field(
        alias="detail-type"
    )
    detail: PipelineExecutionDetail


class ProcessingS3Output(_AwsShape):
    s3_uri: S3Uri = Field(alias="S3Uri")


class ProcessingOutput(_AwsShape):
    output_name: Name | None = Field(default=None, alias="OutputName")
    s3_output: ProcessingS3Output | None = Field(default=None, alias="S3Output")


class ProcessingOutputConfig(_AwsShape):
    outputs: list[ProcessingOutput] = Field(
        default_factory=list, alias="Outputs", max_length=MAX_ITEMS
    )


class ProcessingJobDetail(_AwsShape):
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


class ProcessingJobStateChange(_Envelope):
    source: Literal["aws.sagemaker"]
    detail_type: Literal["SageMaker Processing Job State Change"] = Field(alias="detail-type")
    detail: ProcessingJobDetail


class AlarmMetric(_AwsShape):
    namespace: Name = ""
    name: Name = ""
    dimensions: NameMap = Field(default_factory=dict)


class AlarmMetricStat(_AwsShape):
    metric: AlarmMetric


class AlarmMetricQuery(_AwsShape):
    id: Name = ""
    metric_stat: AlarmMetricStat | None = Field(default=None, alias="metricStat")


class AlarmConfiguration(_AwsShape):
    description: Text | None = None
    metrics: list[AlarmMetricQuery] = Field(default_factory=list, max_length=MAX_ITEMS)


class AlarmState(_AwsShape):
    value: Literal["OK", "ALARM", "INSUFFICIENT_DATA"]
    reason: Text = ""
    timestamp: str = Field(min_length=1, max_length=MAX_TIMESTAMP_TEXT)


class AlarmDetail(_AwsShape):
    alarm_name: str = Field(alias="alarmName", min_length=1, max_length=MAX_ALARM_NAME)
    state: AlarmState
    previous_state: AlarmState | None = Field(default=None, alias="previousState")
    # A factory: a default instance would build the model's schema at import.
    configuration: AlarmConfiguration = Field(default_factory=AlarmConfiguration)

    @property
    def metrics(self) -> list[AlarmMetric]:
        return [q.metric_stat.metric for q in self.configuration.metrics if q.metric_stat]


class AlarmStateChange(_Envelope):
    source: Literal["aws.cloudwatch"]
    detail_type: Literal["CloudWatch Alarm State Change"] = Field(alias="detail-type")
    detail: AlarmDetail


class ModelPackageDetail(_AwsShape):
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


class ModelPackageStateChange(_Envelope):
    source: Literal["aws.sagemaker"]
    detail_type: Literal["SageMaker Model Package State Change"] = Field(alias="detail-type")
    detail: ModelPackageDetail


class EndpointDetail(_AwsShape):
    """What both endpoint events say: the endpoint, its serving config and status (the
    spelling differs between the two events: IN_SERVICE vs InService; compared upper-case)."""

    endpoint_name: str = Field(alias="EndpointName", pattern=r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
    endpoint_config: Name = Field(default="", alias="EndpointConfigName")
    status: Name = Field(default="", alias="EndpointStatus")


class EndpointStateChange(_Envelope):
    """ "SageMaker Endpoint State Change" or "SageMaker Endpoint Deployment State Change": either
    only wakes the deploy workflow, which reads the endpoint itself before it believes it."""

    source: Literal["aws.sagemaker"]
    detail_type: Literal[
        "SageMaker Endpoint State Change", "SageMaker Endpoint Deployment State Change"
    ] = Field(alias="detail-type")
    detail: EndpointDetail


class CustomizationJobDetail(_AwsShape):
    """What a Bedrock customization job's state change says (match on `jobStatus`)."""

    job_arn: Arn = Field(alias="jobArn", pattern=r"^arn:aws[a-z-]*:bedrock:")
    job_name: Name = Field(default="", alias="jobName")
    job_status: Literal["InProgress", "Completed", "Failed", "Stopping", "Stopped"] = Field(
        alias="jobStatus"
    )
    output_model_arn: Arn | None = Field(default=None, alias="outputModelArn")
    # Bedrock bounds it loosely; a long message is still the reason, shortened where shown.
    failure_message: str | None = Field(default=None, alias="failureMessage", max_length=100_000)


class CustomizationJobStateChange(_Envelope):
    source: Literal["aws.bedrock"]
    detail_type: Literal["Model Customization Job State Change"] = Field(alias="detail-type")
    detail: CustomizationJobDetail


# SageMaker's labeling job names: 1-63 letters, digits and hyphens.
_LABELING_JOB = re.compile(
    r"arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:labeling-job/[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"
)


class LabelingJobDetail(_AwsShape):
    status: Literal["Initializing", "InProgress", "Completed", "Failed", "Stopping", "Stopped"] = (
        Field(alias="LabelingJobStatus")
    )


class LabelingJobStateChange(_Envelope):
    """A Ground Truth labeling job's status; the job is named by its ARN in `resources`."""

    source: Literal["aws.sagemaker"]
    detail_type: Literal["SageMaker Ground Truth Labeling Job State Change"] = Field(
        alias="detail-type"
    )
    detail: LabelingJobDetail
    # The job, named by its ARN in `resources` (the detail holds only the status).
    resources: list[Arn] = Field(min_length=1, max_length=MAX_ITEMS)

    @model_validator(mode="after")
    def _names_a_labeling_job(self) -> LabelingJobStateChange:
        if not any(_LABELING_JOB.fullmatch(arn) for arn in self.resources):
            raise ValueError("resources: no SageMaker labeling job ARN")
        return self

    @property
    def job_name(self) -> str:
        return next(a for a in self.resources if _LABELING_JOB.fullmatch(a)).rsplit("/", 1)[-1]


class DriftCheckDetail(_AwsShape):
    model: str = Field(min_length=1, max_length=MAX_NAME)
    endpoint: str | None = Field(default=None, min_length=1, max_length=MAX_JOB_NAME)
    report_uri: S3Uri
    violations: StrictInt = Field(ge=0, le=MAX_VIOLATIONS)
    checked_at: EventTime


class DriftCheckCompleted(_Envelope):
    """Our own drift check's event (not an AWS event: `detail` is our contract)."""

    source: Literal["aiops.drift-check"]
    detail_type: Literal["Drift Check Completed"] = Field(alias="detail-type")
    detail: DriftCheckDetail


# Cost Anomaly Detection's dollars: finite, never negative (it reports spend above expected).
MAX_USD = 1e12
Usd = Annotated[float, Field(ge=0, le=MAX_USD, allow_inf_nan=False)]


class AnomalyImpact(_AwsShape):
    max_impact: Usd = Field(alias="maxImpact")
    total_impact: Usd | None = Field(default=None, alias="totalImpact")
    total_actual_spend: Usd | None = Field(default=None, alias="totalActualSpend")
    total_expected_spend: Usd | None = Field(default=None, alias="totalExpectedSpend")
    total_impact_percentage: Usd | None = Field(default=None, alias="totalImpactPercentage")

    @property
    def usd(self) -> float:
        """The anomaly's cost above expected: its total impact, else its largest daily one."""
        return self.total_impact if self.total_impact is not None else self.max_impact


class RootCauseImpact(_AwsShape):
    contribution: Usd | None = None


class AnomalyRootCause(_AwsShape):
    service: Name | None = None
    region: Name | None = None
    usage_type: Name | None = Field(default=None, alias="usageType")
    linked_account: Name | None = Field(default=None, alias="linkedAccount")
    impact: RootCauseImpact | None = None


class AnomalyDetail(_AwsShape):
    anomaly_id: str = Field(alias="anomalyId", min_length=1, max_length=MAX_NAME)
    start: EventTime = Field(alias="anomalyStartDate")
    end: EventTime | None = Field(default=None, alias="anomalyEndDate")
    dimension_value: Name | None = Field(default=None, alias="dimensionValue")
    impact: AnomalyImpact
    root_causes: list[AnomalyRootCause] = Field(
        default_factory=list, alias="rootCauses", max_length=MAX_ITEMS
    )
    monitor_arn: Arn | None = Field(default=None, alias="monitorArn")
    monitor_name: Text | None = Field(default=None, alias="monitorName")
    link: Annotated[str, Field(max_length=MAX_ARN)] | None = Field(
        default=None, alias="anomalyDetailsLink"
    )


class AnomalyDetected(_Envelope):
    """Cost Anomaly Detection's immediate alert (`aws.ce`); best effort, a few times a day."""

    source: Literal["aws.ce"]
    detail_type: Literal["Anomaly Detected"] = Field(alias="detail-type")
    detail: AnomalyDetail


class TriggersResumedDetail(_AwsShape):
    model: str = Field(min_length=1, max_length=MAX_NAME)
    by: Text = ""


class TriggersResumed(_Envelope):
    """Our own event (`aiops.cost`): a model's paused triggers were lifted; the sweeps start
    what the pause held. It carries nothing to trust: the sweep reads the pause store."""

    source: Literal["aiops.cost"]
    detail_type: Literal["Model Triggers Resumed"] = Field(alias="detail-type")
    detail: TriggersResumedDetail


E = TypeVar("E", bound=BaseModel)


def parse_event(model: type[E], raw: Any) -> E:
    """Validate `raw` as `model`, or raise `InvalidEvent` naming each bad field."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(p) for p in err['loc']) or '(event)'}: {err['msg']}"
            for err in exc.errors()
        ]
        raise InvalidEvent(model.__name__, problems) from exc
