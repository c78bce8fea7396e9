"""What an approval is: its state, the decision that closed it, and the snapshot people judge."""

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"
    EXPIRED = "expired"
    FAILED = "failed"


# Who or what closed an approval.
DecisionVia = Literal["page", "studio", "cli", "supersede", "timeout", "failure"]

# The ApprovalDescription of a model package holds at most 1024 characters.
MAX_COMMENT = 500


class Decision(BaseModel):
    """The first decision on an approval; every later one is a no-op."""

    model_config = ConfigDict(frozen=True, defer_build=True)
    status: ApprovalStatus
    by: str = Field(min_length=1, max_length=256)
    via: DecisionVia
    comment: str = Field(default="", max_length=MAX_COMMENT)
    at: datetime


class MetricRow(BaseModel):
    """One metric, candidate against champion (None: that side has no such metric)."""

    model_config = ConfigDict(frozen=True, defer_build=True)
    name: str
    candidate: float | None = None
    champion: float | None = None
    gated: bool = False  # the gate's metric


class VersionPoint(BaseModel):
    """A recent version of the model in the registry, with the gate metric's value."""

    model_config = ConfigDict(frozen=True, defer_build=True)
    version: int
    status: str
    value: float | None = None


class FeatureDistribution(BaseModel):
    """A drifted feature: baseline and current shares per bin (each list sums to about 1)."""

    model_config = ConfigDict(frozen=True, defer_build=True)
    feature: str
    bins: list[str] = Field(max_length=40)
    baseline: list[float] = Field(max_length=40)
    current: list[float] = Field(max_length=40)
    distance: float | None = None


class ApprovalSummary(BaseModel):
    """Everything a person needs to decide, captured when the approval opens (the page reads only
    the control table, and what the approver judged is what was true then)."""

    model_config = ConfigDict(frozen=True, defer_build=True)
    model: str
    version: int
    package_arn: str
    package_group: str
    run_id: str
    champion_version: int | None = None
    metric: str
    higher_is_better: bool = True
    metrics: list[MetricRow] = Field(default_factory=list)
    gate_reasons: str = ""
    trigger_kind: str = ""
    trigger_reason: str = ""
    manifest_objects: int | None = None
    manifest_bytes: int | None = None
    history: list[VersionPoint] = Field(default_factory=list)
    drift: list[FeatureDistribution] = Field(default_factory=list)


PageState = Literal[
    "open",  # pending: show the candidate and the form
    "done",  # this request just decided it
    "decided",  # decided earlier (by this link or another path)
    "expired",  # no decision before the timeout, or the link expired
    "not_found",  # unknown, forged or malformed link: nothing about any approval is shown
    "forbidden",  # wrong person, wrong CSRF token, cross-site POST
]


class PageView(BaseModel):
    """What the approval page shows for one request."""

    model_config = ConfigDict(frozen=True, defer_build=True)
    state: PageState
    message: str = ""
    summary: ApprovalSummary | None = None
    approver: str | None = None
    expires_at: datetime | None = None
    status: ApprovalStatus | None = None
    decision: Decision | None = None
    csrf: str | None = None
    # The form posts back to the same path (relative, so no host name is ever rendered).
    action: str = ""
