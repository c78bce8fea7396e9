"""Bedrock's model customization job state change."""

from typing import Literal

from pydantic import Field

from aiops.events import (
    Arn,
    AwsShape,
    Envelope,
    Name,
)


class CustomizationJobDetail(AwsShape):
    """What a Bedrock customization job's state change says (match on `jobStatus`)."""

    job_arn: Arn = Field(alias="jobArn", pattern=r"^arn:aws[a-z-]*:bedrock:")
    job_name: Name = Field(default="", alias="jobName")
    job_status: Literal["InProgress", "Completed", "Failed", "Stopping", "Stopped"] = Field(
        alias="jobStatus"
    )
    output_model_arn: Arn | None = Field(default=None, alias="outputModelArn")
    # Bedrock bounds it loosely; a long message is still the reason, shortened where shown.
    failure_message: str | None = Field(default=None, alias="failureMessage", max_length=100_000)


class CustomizationJobStateChange(Envelope):
    source: Literal["aws.bedrock"]
    detail_type: Literal["Model Customization Job State Change"] = Field(alias="detail-type")
    detail: CustomizationJobDetail
