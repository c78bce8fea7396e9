"""What the approval capability acts through (adapters implement these)."""

from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from aiops.approval.model import ApprovalStatus, ApprovalSummary, Decision, FeatureDistribution
from aiops.registry import Candidate, PackageState


class Approval(BaseModel):
    """One pending (or closed) approval of one candidate. The task token is kept beside it in
    the store and never part of this model, so no page, CLI or log can show it."""

    model_config = ConfigDict(frozen=True, defer_build=True)
    model: str
    version: int
    package_arn: str
    status: ApprovalStatus
    created_at: datetime
    expires_at: datetime
    approvers: list[str] = Field(default_factory=list)
    # approver → when their link was sent
    notified: dict[str, datetime] = Field(default_factory=dict)
    summary: ApprovalSummary
    decision: Decision | None = None
    execution_name: str = ""

    def is_open(self, now: datetime) -> bool:
        return self.status == ApprovalStatus.PENDING and now < self.expires_at


class ApprovalLink(BaseModel):
    """A link's server-side half: which approval, which approver, until when."""

    model_config = ConfigDict(frozen=True, defer_build=True)
    link_hash: str
    model: str
    version: int
    approver: str
    csrf: str
    expires_at: datetime
    used_at: datetime | None = None


class ApprovalStore(Protocol):
    def create(self, approval: Approval, task_token: str) -> tuple[Approval, bool]:
        """Store a new approval: (it, True); on a retried step keep the existing one and only
        replace its task token: (the existing one, False)."""
        ...

    def get(self, model: str, version: int) -> Approval | None: ...

    def for_model(self, model: str) -> list[Approval]:
        """Every approval of the model, oldest version first."""
        ...

    def task_token(self, model: str, version: int) -> str | None: ...

    def add_link(self, link: ApprovalLink) -> None: ...

    def mark_notified(self, model: str, version: int, approver: str, at: datetime) -> None: ...

    def link(self, link_hash: str) -> ApprovalLink | None: ...

    def decide(
        self,
        model: str,
        version: int,
        decision: Decision,
        now: datetime,
        link_hash: str | None,
        before_expiry: bool = True,
    ) -> bool:
        """Close a pending approval with `decision` (and use up the link, if one) — only before
        it expires unless `before_expiry` is False (the timeout itself); False when it was not
        open (someone decided first, it expired, the link was used)."""
        ...


class ApprovalNotices(Protocol):
    def send(self, approver: str | None, subject: str, message: str) -> None:
        """Notify one approver (None: everyone subscribed to approvals)."""
        ...


class ApprovalRegistry(Protocol):
    def recent(self, package_group: str, limit: int) -> list[Candidate]: ...

    def package(self, package_arn: str) -> PackageState | None: ...

    def set_status(self, package_arn: str, status: Any, description: str) -> None: ...


class TaskResumer(Protocol):
    def succeed(self, task_token: str, output: dict[str, Any]) -> None:
        """Raises aiops.runs.rendezvous.TaskNoLongerWaiting when the task already ended."""
        ...


class TrainingData(Protocol):
    def manifest_size(self, candidate: Candidate) -> tuple[int, int] | None:
        """(objects, bytes) of the data the candidate trained on, if known."""
        ...


# Drifted features an approval charts at most (the page shows as many).
MAX_DRIFT_FEATURES = 12


class DriftEvidence(Protocol):
    def distributions(self, model: str, uri: str) -> list[FeatureDistribution]:
        """The drifted features of the drift check statistics at `uri` (written for `model`):
        baseline against current share per bin, most drifted first, at most
        `MAX_DRIFT_FEATURES`. Never raises: missing, unreadable or malformed evidence is []
        (extra detail for the approvers must not block the approval)."""
        ...
