"""The control plane's own events: a drift check's result, a model's triggers resumed. Not AWS
events: their `detail` is our contract."""

from typing import Literal

from pydantic import Field, StrictInt

from aiops.events import (
    MAX_JOB_NAME,
    MAX_NAME,
    MAX_VIOLATIONS,
    AwsShape,
    Envelope,
    EventTime,
    S3Uri,
    Text,
)


class DriftCheckDetail(AwsShape):
    model: str = Field(min_length=1, max_length=MAX_NAME)
    endpoint: str | None = Field(default=None, min_length=1, max_length=MAX_JOB_NAME)
    report_uri: S3Uri
    violations: StrictInt = Field(ge=0, le=MAX_VIOLATIONS)
    checked_at: EventTime


class DriftCheckCompleted(Envelope):
    """Our own drift check's event (not an AWS event: `detail` is our contract)."""

    source: Literal["aiops.drift-check"]
    detail_type: Literal["Drift Check Completed"] = Field(alias="detail-type")
    detail: DriftCheckDetail


class TriggersResumedDetail(AwsShape):
    model: str = Field(min_length=1, max_length=MAX_NAME)
    by: Text = ""


class TriggersResumed(Envelope):
    """Our own event (`aiops.cost`): a model's paused triggers were lifted; the sweeps start
    what the pause held. It carries nothing to trust: the sweep reads the pause store."""

    source: Literal["aiops.cost"]
    detail_type: Literal["Model Triggers Resumed"] = Field(alias="detail-type")
    detail: TriggersResumedDetail
