"""The approval page's two requests: GET shows the approval behind a link and changes nothing;
POST decides it — with the form's CSRF token, once, by the person the link was sent to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aiops.approval.links import is_link_id, link_hash, link_path, same_secret
from aiops.approval.model import MAX_COMMENT, ApprovalStatus, Decision, PageView
from aiops.approval.ports import Approval, ApprovalLink
from aiops.approval.stage import DecisionDependencies, decide_approval, resume


@dataclass(frozen=True)
class Visitor:
    """Who is asking: the signed-in user when the stack has an authorizer, else nobody known
    (the link itself then stands for its approver)."""

    identity: str | None = None
    # False for a POST whose Origin is another site (a cross-site form).
    same_origin: bool = True


@dataclass(frozen=True)
class DecisionForm:
    csrf: str | None
    decision: str | None
    comment: str = ""


@dataclass(frozen=True)
class PageResponse:
    status_code: int
    view: PageView


_NOT_FOUND = PageResponse(404, PageView(state="not_found"))


def view_link(
    link_id: str, visitor: Visitor, deps: DecisionDependencies, now: datetime
) -> PageResponse:
    found = _lookup(link_id, visitor, deps)
    if isinstance(found, PageResponse):
        return found
    link, approval = found
    if not approval.is_open(now):
        return _closed(link, approval, now)
    return PageResponse(
        200,
        PageView(
            state="open",
            summary=approval.summary,
            approver=link.approver,
            expires_at=approval.expires_at,
            status=approval.status,
            csrf=link.csrf,
            action=link_path(link_id),
        ),
    )


def post_decision(
    link_id: str,
    form: DecisionForm,
    visitor: Visitor,
    deps: DecisionDependencies,
    now: datetime,
) -> PageResponse:
    found = _lookup(link_id, visitor, deps)
    if isinstance(found, PageResponse):
        return found
    link, approval = found
    if not visitor.same_origin:
        return _forbidden(link, approval, "a form from another site cannot decide an approval")
    if not same_secret(form.csrf, link.csrf):
        return _forbidden(
            link,
            approval,
            "the form's security token is missing or wrong; open the link from your mail again",
        )
    if form.decision not in ("approve", "reject"):
        return _forbidden(link, approval, "choose Approve or Reject")
    if not approval.is_open(now):
        if approval.status != ApprovalStatus.PENDING:
            # A replay after a decision whose workflow was not told (a crash between the write
            # and the resume) completes it; otherwise this changes nothing.
            resume(approval, deps)
        return _closed(link, approval, now)
    decision = Decision(
        status=ApprovalStatus.APPROVED if form.decision == "approve" else ApprovalStatus.REJECTED,
        by=(visitor.identity or link.approver)[:256],
        via="page",
        comment=_clean(form.comment),
        at=now,
    )
    won, current = decide_approval(
        approval.model, approval.version, decision, deps, now, link=link.link_hash
    )
    if won and current is not None:
        return PageResponse(
            200,
            PageView(
                state="done",
                summary=current.summary,
                approver=link.approver,
                status=current.status,
                decision=current.decision,
            ),
        )
    return _closed(link, current or approval, now)


def _lookup(
    link_id: str, visitor: Visitor, deps: DecisionDependencies
) -> tuple[ApprovalLink, Approval] | PageResponse:
    """The link and its approval, for the person it was sent to; unknown, malformed and forged
    ids all get the same page."""
    if not is_link_id(link_id):
        return _NOT_FOUND
    link = deps.store.link(link_hash(link_id))
    if link is None:
        return _NOT_FOUND
    approval = deps.store.get(link.model, link.version)
    if approval is None:
        return _NOT_FOUND
    if visitor.identity is not None and visitor.identity.casefold() != link.approver.casefold():
        return _wrong_person(visitor.identity)
    return link, approval


def _wrong_person(identity: str) -> PageResponse:
    # Nothing about the approval is shown to someone the link was not sent to.
    return PageResponse(
        403,
        PageView(
            state="forbidden",
            message=(
                f"You are signed in as {identity}, but this link was sent to another "
                "approver. Use the link in your own mail."
            ),
        ),
    )


def _forbidden(link: ApprovalLink, approval: Approval, why: str) -> PageResponse:
    return PageResponse(
        403,
        PageView(
            state="forbidden",
            message=why,
            summary=approval.summary,
            approver=link.approver,
            status=approval.status,
        ),
    )


def _closed(link: ApprovalLink, approval: Approval, now: datetime) -> PageResponse:
    """An approval nobody can decide any more: who closed it and how, or that it expired."""
    if approval.status in (ApprovalStatus.PENDING, ApprovalStatus.EXPIRED):
        return PageResponse(
            410,
            PageView(
                state="expired",
                message=f"No decision was taken before {approval.expires_at:%Y-%m-%d %H:%M} UTC; "
                "the candidate is rejected.",
                summary=approval.summary,
                approver=link.approver,
                expires_at=approval.expires_at,
                status=approval.status,
                decision=approval.decision,
            ),
        )
    return PageResponse(
        409,
        PageView(
            state="decided",
            message=_closed_message(approval),
            summary=approval.summary,
            approver=link.approver,
            expires_at=approval.expires_at,
            status=approval.status,
            decision=approval.decision,
        ),
    )


def _closed_message(approval: Approval) -> str:
    decision = approval.decision
    if decision is None:
        return "This approval is closed."
    if decision.via == "studio":
        return f"It was decided in SageMaker Studio by {decision.by}; nothing more is needed."
    if decision.via == "supersede":
        return f"A newer candidate replaced it ({decision.comment}); look for that mail instead."
    if decision.via in ("timeout", "failure"):
        return f"It was closed: {decision.comment}."
    return f"It was decided by {decision.by} ({decision.via}); nothing more is needed."


def _clean(comment: str) -> str:
    """The comment as one plain line of text (it goes into the registry and the ledger)."""
    text = "".join(ch if ch.isprintable() else " " for ch in comment).strip()
    return text[:MAX_COMMENT]
