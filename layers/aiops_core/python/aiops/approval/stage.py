"""The approval workflow's two steps: open an approval (supersede older ones, notify the
approvers with their links, park the task token) and close it (apply the decision that ended it
to the registry, the ledger and the alerts)."""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiops.approval.links import link_hash, link_path, new_csrf_token, new_link_id
from aiops.approval.model import (
    MAX_COMMENT,
    ApprovalStatus,
    ApprovalSummary,
    Decision,
    DecisionVia,
    MetricRow,
    VersionPoint,
)
from aiops.approval.ports import (
    MAX_DRIFT_FEATURES,
    Approval,
    ApprovalLink,
    ApprovalNotices,
    ApprovalRegistry,
    ApprovalStore,
    DriftEvidence,
    TaskResumer,
    TrainingData,
)
from aiops.idempotency import IdempotencyStore
from aiops.ledger import Ledger, LedgerAction, record
from aiops.policy import GatePolicy, Policy
from aiops.runs.ports import Alerts
from aiops.runs.rendezvous import TaskNoLongerWaiting
from aiops.runs.steps import ApprovalEnd, ApprovalRequest
from aiops.units import format_duration
from aiops.verdicts import GateVerdicts

HISTORY_VERSIONS = 10
EVERYONE = "*"  # the notice key when the policy names no approver


@dataclass(frozen=True)
class DecisionDependencies:
    """What deciding an approval needs (the page has only this)."""

    store: ApprovalStore
    resumer: TaskResumer


@dataclass(frozen=True)
class ApprovalDependencies(DecisionDependencies):
    """What opening and closing approvals, and following Studio, act through."""

    notices: ApprovalNotices
    registry: ApprovalRegistry
    alerts: Alerts
    ledger: Ledger
    training: TrainingData
    verdicts: GateVerdicts
    claims: IdempotencyStore | None = None
    # Where the approval page lives (the HTTP API's URL); links are <page_url>/approvals/<id>.
    page_url: str = ""
    # The drifted features' distributions, for a run our drift check started (None: not shown).
    drift: DriftEvidence | None = None


_LEDGER_ACTIONS = {
    ApprovalStatus.APPROVED: LedgerAction.APPROVED,
    ApprovalStatus.REJECTED: LedgerAction.APPROVAL_REJECTED,
    ApprovalStatus.SUPERSEDED: LedgerAction.APPROVAL_SUPERSEDED,
    ApprovalStatus.EXPIRED: LedgerAction.APPROVAL_TIMED_OUT,
    ApprovalStatus.FAILED: LedgerAction.APPROVAL_FAILED,
}

VIA_TEXT = {
    "page": "on the approval page",
    "studio": "in SageMaker Studio",
    "cli": "with the aiops CLI",
    "supersede": "by aiops",
    "timeout": "by aiops",
    "failure": "by aiops",
}


def resume(approval: Approval, deps: DecisionDependencies) -> None:
    """Tell the waiting workflow its approval is closed. Any decider calls this after its write,
    so one that crashed in between is completed by the next attempt; a task that already ended
    (timed out, or resumed before) is not an error."""
    token = deps.store.task_token(approval.model, approval.version)
    if token is None:
        return
    with contextlib.suppress(TaskNoLongerWaiting):
        deps.resumer.succeed(token, {"status": approval.status.value})


def decide_approval(
    model: str,
    version: int,
    decision: Decision,
    deps: DecisionDependencies,
    now: datetime,
    link: str | None = None,
) -> tuple[bool, Approval | None]:
    """First decision wins: (won, the approval as it is now). Every path — page, Studio, CLI,
    supersession, timeout — closes an approval through here."""
    won = deps.store.decide(
        model,
        version,
        decision,
        now,
        link,
        before_expiry=decision.via not in ("timeout", "failure"),
    )
    approval = deps.store.get(model, version)
    if approval is not None and approval.status != ApprovalStatus.PENDING:
        resume(approval, deps)
    return won, approval


def open_approval(
    step: ApprovalRequest,
    task_token: str,
    policy: Policy,
    deps: ApprovalDependencies,
    now: datetime,
) -> Approval:
    model = step.request.model
    candidate = step.candidate
    others = deps.store.for_model(model)
    # A retried step finds its approval: it keeps it (no second snapshot, no second notice).
    approval = next((a for a in others if a.version == candidate.version), None) or _new_approval(
        step, policy.model(model).gate, others, deps, now
    )
    stored, created = deps.store.create(approval, task_token)
    if stored.status != ApprovalStatus.PENDING:
        resume(stored, deps)
        return stored
    if created:
        record(
            deps.ledger,
            model,
            now,
            LedgerAction.APPROVAL_REQUESTED,
            f"candidate v{candidate.version} passed the automatic gate; "
            f"{_who(stored)} decide within {approval_window(stored)}",
            _cause(stored),
        )
    for older in others:
        if older.version >= stored.version:
            continue
        if _superseded_by(older, stored.version):
            resume(older, deps)  # a retried open: the first may have failed to tell it
        elif older.status == ApprovalStatus.PENDING:
            decide_approval(
                model,
                older.version,
                _by_aiops(
                    ApprovalStatus.SUPERSEDED, f"superseded by version {stored.version}", now
                ),
                deps,
                now,
            )
    _notify(stored, deps, now)
    return stored


def _new_approval(
    step: ApprovalRequest,
    gate: GatePolicy,
    others: list[Approval],
    deps: ApprovalDependencies,
    now: datetime,
) -> Approval:
    """The candidate's approval: pending — or closed at birth when the registry already holds
    a decision (Studio was first: it stands) or a newer candidate has one (never out of order)."""
    candidate = step.candidate
    approval = Approval(
        model=step.request.model,
        version=candidate.version,
        package_arn=candidate.package_arn,
        status=ApprovalStatus.PENDING,
        created_at=now,
        expires_at=now + timedelta(seconds=step.timeout_seconds),
        approvers=list(gate.approvers),
        summary=_summary(step, gate, deps),
        execution_name=step.execution_name,
    )
    package = deps.registry.package(candidate.package_arn)
    newer = [a.version for a in others if a.version > candidate.version]
    decision: Decision | None = None
    if package is None:
        decision = _by_aiops(ApprovalStatus.REJECTED, "the package no longer exists", now)
    elif package.approval_status != "PendingManualApproval":
        approved = package.approval_status == "Approved"
        decision = Decision(
            status=ApprovalStatus.APPROVED if approved else ApprovalStatus.REJECTED,
            by=(package.modified_by or "someone SageMaker did not name")[:256],
            via="studio",
            comment=" ".join(package.description.split())[:500],
            at=now,
        )
    elif newer:
        decision = _by_aiops(ApprovalStatus.SUPERSEDED, f"superseded by version {max(newer)}", now)
    if decision is None:
        return approval
    return approval.model_copy(update={"status": decision.status, "decision": decision})


def _by_aiops(status: ApprovalStatus, why: str, now: datetime) -> Decision:
    """A decision the control plane takes itself: supersession, timeout, failure."""
    vias: dict[ApprovalStatus, DecisionVia] = {
        ApprovalStatus.SUPERSEDED: "supersede",
        ApprovalStatus.EXPIRED: "timeout",
    }
    via = vias.get(status, "failure")
    return Decision(status=status, by="aiops", via=via, comment=why[:MAX_COMMENT], at=now)


def _superseded_by(approval: Approval, version: int) -> bool:
    decision = approval.decision
    return (
        approval.status == ApprovalStatus.SUPERSEDED
        and decision is not None
        and decision.comment == f"superseded by version {version}"
    )


def close_approval(end: ApprovalEnd, deps: ApprovalDependencies, now: datetime) -> Approval | None:
    """Apply how the approval ended. Reads the approval, never trusts the step's input: a
    decision recorded just before the timeout fired still wins over the timeout."""
    approval = deps.store.get(end.model, end.version)
    if approval is None:
        if end.ended == "decided":
            raise LookupError(f"{end.model} v{end.version}: no such approval")
        _reject_unopened(end, deps, now)
        return None
    if approval.status == ApprovalStatus.PENDING:
        if end.ended == "decided":
            raise RuntimeError(f"{end.model} v{end.version}: resumed but still pending")
        decision = (
            _by_aiops(
                ApprovalStatus.EXPIRED, f"no decision within {approval_window(approval)}", now
            )
            if end.ended == "timed_out"
            else _by_aiops(
                ApprovalStatus.FAILED,
                f"the approval stage failed ({_failure(end)}); nobody can decide it any more",
                now,
            )
        )
        _, current = decide_approval(end.model, end.version, decision, deps, now)
        approval = current or approval
    _apply(approval, deps, now)
    return approval


def _reject_unopened(end: ApprovalEnd, deps: ApprovalDependencies, now: datetime) -> None:
    """The approval never opened (so nobody was asked and nobody can decide): fail closed."""
    why = f"the approval stage failed before anyone was asked ({_failure(end)})"
    package = deps.registry.package(end.package_arn)
    if package is not None and package.approval_status == "PendingManualApproval":
        deps.registry.set_status(end.package_arn, "Rejected", f"aiops: rejected: {why}"[:1024])
    record(
        deps.ledger,
        end.model,
        now,
        LedgerAction.APPROVAL_FAILED,
        why,
        {"model_package": end.package_arn, "version": end.version},
    )
    deps.alerts.publish(
        f"[aiops] {end.model}: candidate v{end.version} rejected (approval failed)",
        f"Model package {end.package_arn} was rejected: {why}.",
    )


def _apply(approval: Approval, deps: ApprovalDependencies, now: datetime) -> None:
    decision = approval.decision
    if decision is None:
        raise RuntimeError(f"{approval.model} v{approval.version}: closed without a decision")
    wanted = "Approved" if approval.status == ApprovalStatus.APPROVED else "Rejected"
    text = describe(decision)
    package = deps.registry.package(approval.package_arn)
    if package is None:
        deps.alerts.publish(
            f"[aiops] {approval.model}: v{approval.version} is gone from the registry",
            f"The approval of {approval.package_arn} ended ({text}) but the package no longer "
            "exists; nothing was changed.",
        )
    elif package.approval_status != wanted and decision.via != "studio":
        if package.approval_status == "PendingManualApproval" or wanted == "Rejected":
            deps.registry.set_status(approval.package_arn, wanted, f"aiops: {text}"[:1024])
        else:
            # Someone rejected the package in the registry meanwhile: an approval never
            # overrides a rejection. Recorded and alerted; the package stays Rejected.
            who = package.modified_by or "someone SageMaker did not name"
            text = f"{text} — not applied: {who} rejected the package in the registry"
            deps.alerts.publish(
                f"[aiops] {approval.model}: v{approval.version} approval not applied",
                f"{approval.package_arn}: {text}.",
            )
    action = _LEDGER_ACTIONS[approval.status]
    record(deps.ledger, approval.model, now, action, text, _cause(approval))
    if approval.status in (ApprovalStatus.EXPIRED, ApprovalStatus.FAILED):
        deps.alerts.publish(
            f"[aiops] {approval.model}: candidate v{approval.version} rejected ({action.value})",
            f"Model package {approval.package_arn} was rejected: {decision.comment}. "
            f"Approvers: {', '.join(approval.approvers) or 'none named in the policy'}.",
        )


def approval_window(approval: Approval) -> str:
    """How long the approvers had, as people say it: "72h" rather than "3d"."""
    window = approval.expires_at - approval.created_at
    hours, rest = divmod(window, timedelta(hours=1))
    return f"{hours}h" if not rest and hours else format_duration(window)


def describe(decision: Decision) -> str:
    """One line for the registry's ApprovalDescription, the ledger and the pages."""
    verb = {
        ApprovalStatus.APPROVED: "approved",
        ApprovalStatus.REJECTED: "rejected",
        ApprovalStatus.SUPERSEDED: "rejected",
        ApprovalStatus.EXPIRED: "rejected",
        ApprovalStatus.FAILED: "rejected",
    }[decision.status]
    if decision.via in ("supersede", "timeout", "failure"):
        return f"{verb}: {decision.comment}"
    text = f"{verb} by {decision.by} {VIA_TEXT[decision.via]}"
    return f"{text}: {decision.comment}" if decision.comment else text


def _cause(approval: Approval) -> dict[str, object]:
    cause: dict[str, object] = {
        "run_id": approval.summary.run_id,
        "model_package": approval.package_arn,
        "approval_execution": approval.execution_name,
    }
    if approval.decision is not None:
        cause.update(
            approver=approval.decision.by,
            via=approval.decision.via,
            comment=approval.decision.comment,
        )
    return cause


def _failure(end: ApprovalEnd) -> str:
    if end.failure is None:
        return "unknown error"
    return end.failure.Error or "unknown error"


def _who(approval: Approval) -> str:
    return ", ".join(approval.approvers) if approval.approvers else "the approvers"


def _summary(
    step: ApprovalRequest, gate: GatePolicy, deps: ApprovalDependencies
) -> ApprovalSummary:
    candidate, champion = step.candidate, step.champion
    names = sorted(set(candidate.metrics) | set(champion.metrics if champion else {}))
    # The gate's metric first: it is the one the decision turns on.
    names.sort(key=lambda n: n != gate.metric)
    rows = [
        MetricRow(
            name=name,
            candidate=_finite(candidate.metrics.get(name)),
            champion=_finite(champion.metrics.get(name)) if champion else None,
            gated=name == gate.metric,
        )
        for name in names
    ]
    history = [
        VersionPoint(
            version=c.version, status=c.approval_status, value=_finite(c.metrics.get(gate.metric))
        )
        for c in reversed(deps.registry.recent(candidate.package_group, HISTORY_VERSIONS))
    ]
    size = deps.training.manifest_size(candidate)
    trigger = step.request.trigger
    drift = (
        deps.drift.distributions(step.request.model, trigger.evidence_uri)[:MAX_DRIFT_FEATURES]
        if deps.drift is not None and trigger.evidence_uri
        else []
    )
    return ApprovalSummary(
        model=step.request.model,
        version=candidate.version,
        package_arn=candidate.package_arn,
        package_group=candidate.package_group,
        run_id=step.request.run_id,
        champion_version=champion.version if champion else None,
        metric=gate.metric,
        higher_is_better=gate.higher_is_better,
        metrics=rows,
        gate_reasons=step.gate_reason,
        trigger_kind=step.request.trigger.kind,
        trigger_reason=step.request.trigger.reason,
        manifest_objects=size[0] if size else None,
        manifest_bytes=size[1] if size else None,
        history=history,
        drift=drift,
    )


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _notify(approval: Approval, deps: ApprovalDependencies, now: datetime) -> None:
    """One notice per approver, each with its own link; a retried step sends only the notices
    not yet sent (a link whose notice may not have gone out is replaced, never resent)."""
    if not approval.approvers:
        if EVERYONE not in approval.notified:
            deps.notices.send(None, _subject(approval), _message(approval, None, None))
            deps.store.mark_notified(approval.model, approval.version, EVERYONE, now)
        return
    for approver in approval.approvers:
        if approver in approval.notified:
            continue
        link_id = new_link_id()
        deps.store.add_link(
            ApprovalLink(
                link_hash=link_hash(link_id),
                model=approval.model,
                version=approval.version,
                approver=approver,
                csrf=new_csrf_token(),
                expires_at=approval.expires_at,
            )
        )
        url = f"{deps.page_url.rstrip('/')}{link_path(link_id)}"
        deps.notices.send(approver, _subject(approval), _message(approval, approver, url))
        deps.store.mark_notified(approval.model, approval.version, approver, now)


def _subject(approval: Approval) -> str:
    return f"[aiops] {approval.model}: candidate v{approval.version} awaits your approval"


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"


def _message(approval: Approval, approver: str | None, url: str | None) -> str:
    s = approval.summary
    champion = f"champion v{s.champion_version}" if s.champion_version else "no champion yet"
    lines = [
        f"Model {s.model}: candidate version {s.version} passed the automatic gate and needs a "
        "person's decision.",
        f"Package: {s.package_arn}",
        f"Gate: {s.gate_reasons}",
        "",
        f"Metrics (candidate vs {champion}):",
    ]
    for row in s.metrics:
        mark = "  <- the gate's metric" if row.gated else ""
        lines.append(f"  {row.name}: {_number(row.candidate)} vs {_number(row.champion)}{mark}")
    data = (
        f"{s.manifest_objects} objects, {s.manifest_bytes / 1e6:.1f} MB"
        if s.manifest_objects is not None and s.manifest_bytes is not None
        else "unknown"
    )
    waited = approval_window(approval)
    lines += [
        "",
        f"Trained on: {data} (run {s.run_id}; trigger {s.trigger_kind}: {s.trigger_reason})",
        f"Decide before {approval.expires_at:%Y-%m-%d %H:%M} UTC ({waited}); without a decision "
        "the candidate is rejected.",
        "",
    ]
    if url:
        lines += [
            "Review and decide (opening the page changes nothing; you confirm on it):",
            url,
            "",
            f"This link was made for {approver} alone and works once: do not forward it.",
        ]
    lines.append(
        "You can also decide in SageMaker Studio, or from a terminal: "
        f'aiops approve {s.model} {s.version} --comment "..." --stack <stack>'
    )
    return "\n".join(lines)
