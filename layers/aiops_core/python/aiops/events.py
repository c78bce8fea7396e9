"""The AWS events the control plane consumes, parsed at the edge.

Our own small pydantic models rather than Powertools' parser models: those build every AWS event
model at import time (about 290 ms), which would dominate cold start.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class InvalidEvent(ValueError):
    """An event that cannot be acted on, naming each bad field and why."""

    def __init__(self, kind: str, problems: list[str]) -> None:
        self.kind = kind
        self.problems = problems
        super().__init__(f"invalid {kind} event: " + "; ".join(problems))


class _AwsShape(BaseModel):
    # AWS adds fields over time: tolerate them, require only what we use.
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class _Envelope(_AwsShape):
    id: str = Field(min_length=1)
    source: str
    detail_type: str = Field(alias="detail-type")
    time: datetime
    account: str = ""
    region: str = ""
    resources: list[str] = Field(default_factory=list)


class S3Bucket(_AwsShape):
    name: str = Field(min_length=1)


class S3Object(_AwsShape):
    key: str = Field(min_length=1)
    size: int = Field(default=0, ge=0)
    etag: str | None = None
    version_id: str | None = Field(default=None, alias="version-id")
    sequencer: str | None = None


class S3ObjectCreatedDetail(_AwsShape):
    bucket: S3Bucket
    object: S3Object
    reason: str | None = None


class S3ObjectCreated(_Envelope):
    source: Literal["aws.s3"]
    detail_type: Literal["Object Created"] = Field(alias="detail-type")
    detail: S3ObjectCreatedDetail


class PipelineExecutionDetail(_AwsShape):
    pipeline_arn: str = Field(alias="pipelineArn")
    pipeline_execution_arn: str = Field(alias="pipelineExecutionArn", min_length=1)
    current_status: Literal["Executing", "Stopping", "Stopped", "Failed", "Succeeded"] = Field(
        alias="currentPipelineExecutionStatus"
    )
    previous_status: str | None = Field(default=None, alias="previousPipelineExecutionStatus")
    display_name: str | None = Field(default=None, alias="pipelineExecutionDisplayName")


class PipelineExecutionStatusChange(_Envelope):
    source: Literal["aws.sagemaker"]
    detail_type: Literal["SageMaker Model Building Pipeline Execution Status Change"] = Field(
        alias="detail-type"
    )
    detail: PipelineExecutionDetail


class ProcessingS3Output(_AwsShape):
    s3_uri: str = Field(alias="S3Uri", min_length=1)


class ProcessingOutput(_AwsShape):
    output_name: str | None = Field(default=None, alias="OutputName")
    s3_output: ProcessingS3Output | None = Field(default=None, alias="S3Output")


class ProcessingOutputConfig(_AwsShape):
    outputs: list[ProcessingOutput] = Field(default_factory=list, alias="Outputs")


class ProcessingJobDetail(_AwsShape):
    job_name: str = Field(alias="ProcessingJobName", min_length=1)
    job_arn: str = Field(alias="ProcessingJobArn", min_length=1)
    status: Literal["InProgress", "Completed", "Failed", "Stopping", "Stopped"] = Field(
        alias="ProcessingJobStatus"
    )
    exit_message: str | None = Field(default=None, alias="ExitMessage")
    failure_reason: str | None = Field(default=None, alias="FailureReason")
    monitoring_schedule_arn: str | None = Field(default=None, alias="MonitoringScheduleArn")
    environment: dict[str, str] = Field(default_factory=dict, alias="Environment")
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
    namespace: str = ""
    name: str = ""
    dimensions: dict[str, str] = Field(default_factory=dict)


class AlarmMetricStat(_AwsShape):
    metric: AlarmMetric


class AlarmMetricQuery(_AwsShape):
    id: str = ""
    metric_stat: AlarmMetricStat | None = Field(default=None, alias="metricStat")


class AlarmConfiguration(_AwsShape):
    description: str | None = None
    metrics: list[AlarmMetricQuery] = Field(default_factory=list)


class AlarmState(_AwsShape):
    value: Literal["OK", "ALARM", "INSUFFICIENT_DATA"]
    reason: str = ""
    timestamp: str = Field(min_length=1)


class AlarmDetail(_AwsShape):
    alarm_name: str = Field(alias="alarmName", min_length=1)
    state: AlarmState
    previous_state: AlarmState | None = Field(default=None, alias="previousState")
    configuration: AlarmConfiguration = AlarmConfiguration()

    @property
    def metrics(self) -> list[AlarmMetric]:
        return [q.metric_stat.metric for q in self.configuration.metrics if q.metric_stat]


class AlarmStateChange(_Envelope):
    source: Literal["aws.cloudwatch"]
    detail_type: Literal["CloudWatch Alarm State Change"] = Field(alias="detail-type")
    detail: AlarmDetail


class DriftCheckDetail(_AwsShape):
    model: str = Field(min_length=1)
    endpoint: str | None = None
    report_uri: str = Field(pattern=r"^s3://[^/]+/.+")
    violations: int = Field(ge=0)
    checked_at: datetime


class DriftCheckCompleted(_Envelope):
    """Our own drift check's event (not an AWS event: `detail` is our contract)."""

    source: Literal["aiops.drift-check"]
    detail_type: Literal["Drift Check Completed"] = Field(alias="detail-type")
    detail: DriftCheckDetail


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
