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
