"""A decision taken in SageMaker Studio (or with `aws sagemaker update-model-package`) arrives as
`SageMaker Model Package State Change`: it resolves the same pending approval the page would;
a package decided outside any approval of ours is recorded and alerted, never treated as gated."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from aiops.approval.model import ApprovalStatus, Decision
from aiops.approval.stage import ApprovalDependencies, decide_approval, resume
from aiops.idempotency import once
from aiops.ledger import LedgerAction, record
from aiops.policy import Policy

StudioOutcome = Literal["resolved", "echo", "conflict", "outside", "ignored", "duplicate"]
SEEN_FOR = timedelta(days=7)
_UNKNOWN = "someone SageMaker did not name"


def on_package_state_change(
    event_id: str,
    package_group: str,
    version: int,
    package_arn: str,
    policy: Policy,
    deps: ApprovalDependencies,
    now: datetime,
) -> StudioOutcome:
    model = next(
        (n for n, m in policy.models.items() if m.package_group == package_group),
        None,
    )
    if model is None:
        return "ignored"
    if deps.claims is None:
        return _act(model, version, package_arn, deps, now)
    ran, outcome = once(
        deps.claims,
        f"package-state:{event_id}",
        now,
        SEEN_FOR,
        lambda: _act(model, version, package_arn, deps, now),
    )
    return outcome if ran and outcome is not None else "duplicate"


def _act(
    model: str, version: int, package_arn: str, deps: ApprovalDependencies, now: datetime
) -> StudioOutcome:
    # The event may be stale or out of order: act on the package as it is now.
    package = deps.registry.package(package_arn)
    if package is None or package.approval_status not in ("Approved", "Rejected"):
        return "ignored"
    status = package.approval_status
    approval = deps.store.get(model, version)
    if approval is not None and approval.status == ApprovalStatus.PENDING:
        decision = Decision(
            status=ApprovalStatus.APPROVED if status == "Approved" else ApprovalStatus.REJECTED,
            by=(package.modified_by or _UNKNOWN)[:256],
            via="studio",
            comment=" ".join(package.description.split())[:500],
            at=now,
        )
        won, approval = decide_approval(model, version, decision, deps, now)
        if won:
            return "resolved"
    if approval is not None:
        if approval.status != ApprovalStatus.PENDING:
            # Closed already: make sure its workflow knows (a resume may have failed before
            # this redelivery or this change); a no-op when it already does.
            resume(approval, deps)
        ours = "Approved" if approval.status == ApprovalStatus.APPROVED else "Rejected"
        if approval.status == ApprovalStatus.PENDING or ours == status:
            return "echo"
        why = (
            f"v{version} was set to {status} in the registry by {package.modified_by or _UNKNOWN}"
            f" after its approval closed as {approval.status.value}"
            + (f" ({approval.decision.comment})" if approval.decision else "")
        )
        return _outside(model, package_arn, why, status, deps, now, "conflict")
    verdict = deps.verdicts.get(package_arn)
    if verdict is not None and (verdict.decision, status) in (
        ("approve", "Approved"),
        ("reject", "Rejected"),
    ):
        return "echo"
    why = (
        f"v{version} was set to {status} by {package.modified_by or _UNKNOWN} outside any "
        "approval of aiops: "
        + (
            "the automatic gate never passed it"
            if verdict is None or verdict.decision == "reject"
            else "its approval never opened"
            if verdict.decision == "await_human"
            else "the automatic gate approved it, not a person"
        )
    )
    return _outside(model, package_arn, why, status, deps, now, "outside")


def _outside(
    model: str,
    package_arn: str,
    why: str,
    status: str,
    deps: ApprovalDependencies,
    now: datetime,
    outcome: StudioOutcome,
) -> StudioOutcome:
    record(
        deps.ledger,
        model,
        now,
        LedgerAction.DECIDED_OUTSIDE_APPROVAL,
        why,
        {"model_package": package_arn, "status": status},
    )
    if status == "Approved":
        # Rejecting is always safe; an approval nobody of ours gave is what people must see.
        deps.alerts.publish(
            f"[aiops] {model}: a package was approved outside aiops",
            f"{why}. Model package {package_arn} is not treated as gated.",
        )
    return outcome
