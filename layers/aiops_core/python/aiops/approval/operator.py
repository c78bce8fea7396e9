"""What an operator does with approvals from a terminal: see which wait (and on whom), and decide
one — through `decide_approval`, like every other path, so the first decision still wins.

Nothing here can show a task token or a link id: `Approval` holds neither, and link states are
read from the approval itself (who was sent a link, and whether the decision came through one).
"""

from collections.abc import Iterable
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from aiops.approval.model import MAX_COMMENT, ApprovalStatus, Decision
from aiops.approval.ports import Approval, ApprovalStore
from aiops.approval.stage import EVERYONE, DecisionDependencies, decide_approval, describe

MAX_BY = 256  # Decision.by
LinkState = Literal["not sent", "sent", "used", "expired"]


class OperatorError(LookupError):
    """The command names nothing it can act on (no such model, version or pending approval)."""


class DecisionNotResumed(RuntimeError):
    """The decision was recorded, but telling the waiting workflow failed: it takes effect when
    the workflow next looks (at the latest when the approval would have expired), or when the
    decision is repeated (which resumes the workflow again)."""

    def __init__(self, approval: Approval, error: Exception) -> None:
        super().__init__(f"{approval.model} v{approval.version}: {error}")
        self.approval = approval
        self.error = error


class ApproverLink(BaseModel):
    """One approver and the link they were sent ("*": everyone subscribed, without a link)."""

    model_config = ConfigDict(frozen=True)
    approver: str
    state: LinkState
    sent_at: datetime | None = None
    used_at: datetime | None = None


class GateMetric(BaseModel):
    """The gate's metric, candidate against champion, as captured when the approval opened."""

    model_config = ConfigDict(frozen=True)
    name: str
    candidate: float | None = None
    champion: float | None = None
    champion_version: int | None = None
    higher_is_better: bool = True


class ApprovalRow(BaseModel):
    """One approval as an operator sees it at `now`."""

    model_config = ConfigDict(frozen=True)
    model: str
    version: int
    status: ApprovalStatus
    package_arn: str
    package_group: str
    run_id: str
    created_at: datetime
    expires_at: datetime
    age_seconds: int
    # Negative once the expiry passed (a pending one is then closed by the timeout).
    expires_in_seconds: int
    approvers: list[ApproverLink]
    metric: GateMetric
    decision: Decision | None = None


class CliDecision(BaseModel):
    """What deciding from the CLI did: won, or who decided first (or that it expired)."""

    model_config = ConfigDict(frozen=True)
    won: bool
    message: str
    approval: ApprovalRow


def clean_line(text: str, limit: int) -> str:
    """`text` as one printable line of at most `limit` characters (it reaches the registry, the
    ledger and people's terminals)."""
    printable = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(printable.split())[:limit]


def _links(approval: Approval, now: datetime) -> list[ApproverLink]:
    decision = approval.decision
    expired = now >= approval.expires_at
    rows = []
    for approver in approval.approvers or [EVERYONE]:
        sent = approval.notified.get(approver)
        used = (
            decision is not None
            and decision.via == "page"
            and decision.by.casefold() == approver.casefold()
        )
        state: LinkState
        if used:
            state = "used"
        elif sent is None:
            state = "not sent"
        elif expired:
            state = "expired"
        else:
            state = "sent"
        rows.append(
            ApproverLink(
                approver=approver,
                state=state,
                sent_at=sent,
                used_at=decision.at if used and decision is not None else None,
            )
        )
    return rows


def _metric(approval: Approval) -> GateMetric:
    summary = approval.summary
    gated = next((row for row in summary.metrics if row.gated), None)
    return GateMetric(
        name=summary.metric,
        candidate=gated.candidate if gated else None,
        champion=gated.champion if gated else None,
        champion_version=summary.champion_version,
        higher_is_better=summary.higher_is_better,
    )


def approval_row(approval: Approval, now: datetime) -> ApprovalRow:
    return ApprovalRow(
        model=approval.model,
        version=approval.version,
        status=approval.status,
        package_arn=approval.package_arn,
        package_group=approval.summary.package_group,
        run_id=approval.summary.run_id,
        created_at=approval.created_at,
        expires_at=approval.expires_at,
        age_seconds=int((now - approval.created_at).total_seconds()),
        expires_in_seconds=int((approval.expires_at - now).total_seconds()),
        approvers=_links(approval, now),
        metric=_metric(approval),
        decision=approval.decision,
    )


def _approvals_of(store: ApprovalStore, model: str) -> list[Approval]:
    approvals = store.for_model(model)
    if not approvals:
        raise OperatorError(f"model {model} has no approvals")
    return approvals


def pending_approvals(
    store: ApprovalStore, models: Iterable[str], now: datetime, *, include_closed: bool = False
) -> list[ApprovalRow]:
    """The pending approvals of `models` (every approval with `include_closed`), by model and
    version. A pending one past its expiry is still listed: the timeout has not closed it yet.
    `OperatorError` when a model has no approval at all (most likely a misspelt name)."""
    rows = [
        approval_row(approval, now)
        for model in sorted(set(models))
        for approval in _approvals_of(store, model)
        if include_closed or approval.status == ApprovalStatus.PENDING
    ]
    return sorted(rows, key=lambda r: (r.model, r.version))


def _target(store: ApprovalStore, model: str, version: int | None) -> Approval:
    if version is not None:
        approval = store.get(model, version)
        if approval is not None:
            return approval
        versions = ", ".join(f"v{a.version}" for a in _approvals_of(store, model))
        raise OperatorError(f"model {model} has no approval of version {version} ({versions})")
    approvals = _approvals_of(store, model)
    pending = [a for a in approvals if a.status == ApprovalStatus.PENDING]
    if len(pending) == 1:
        return pending[0]
    if pending:
        versions = ", ".join(f"v{a.version}" for a in pending)
        raise OperatorError(
            f"model {model} has several pending approvals ({versions}); name the version. "
            "This should not happen: a newer candidate supersedes the older ones"
        )
    latest = approvals[-1]
    closed = f"v{latest.version} {describe(latest.decision)}" if latest.decision else ""
    raise OperatorError(
        f"model {model} has no pending approval" + (f" (latest: {closed})" if closed else "")
    )


def lost_message(approval: Approval, now: datetime) -> str:
    """Why a decision on `approval` was not recorded: who closed it first, how and when."""
    subject = f"{approval.model} v{approval.version}"
    decision = approval.decision
    if decision is not None:
        return f"{subject} was already closed at {decision.at:%Y-%m-%d %H:%M:%S} UTC: " + describe(
            decision
        )
    if now >= approval.expires_at:
        return (
            f"{subject} expired at {approval.expires_at:%Y-%m-%d %H:%M:%S} UTC: no decision was "
            "taken in time, so the candidate is rejected"
        )
    return f"{subject} is still pending, but the decision was not recorded; try again"


def decide_from_cli(
    deps: DecisionDependencies,
    model: str,
    version: int | None,
    approve: bool,
    by: str,
    comment: str,
    now: datetime,
) -> CliDecision:
    """Approve or reject `model` v`version` (None: its one pending approval) as `by`.
    `OperatorError` when there is nothing to decide or the input is unusable;
    `DecisionNotResumed` when the decision was recorded but the workflow could not be told."""
    who = clean_line(by, MAX_BY)
    if not who:
        raise OperatorError("the decider's name is empty")
    text = clean_line(comment, MAX_COMMENT)
    if not text:
        raise OperatorError("a comment is required: it goes into the registry and the ledger")
    target = _target(deps.store, model, version)
    decision = Decision(
        status=ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED,
        by=who,
        via="cli",
        comment=text,
        at=now,
    )
    try:
        won, current = decide_approval(target.model, target.version, decision, deps, now)
    except Exception as error:
        # The write and the resumption are two calls: say which one failed.
        recorded = deps.store.get(target.model, target.version)
        if recorded is not None and recorded.decision == decision:
            raise DecisionNotResumed(recorded, error) from error
        raise
    if current is None:
        raise OperatorError(f"model {model} has no approval of version {target.version} any more")
    message = describe(decision) if won else lost_message(current, now)
    return CliDecision(won=won, message=message, approval=approval_row(current, now))
