"""What an operator sees and does from the CLI: pending approvals with their links' states and the
gate metric, and a decision that goes through decide_approval (first decision wins)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aiops.approval.model import (
    ApprovalStatus,
    ApprovalSummary,
    Decision,
    DecisionVia,
    MetricRow,
)
from aiops.approval.operator import (
    DecisionNotResumed,
    OperatorError,
    decide_from_cli,
    pending_approvals,
)
from aiops.approval.ports import Approval, ApprovalLink
from aiops.approval.stage import DecisionDependencies
from aiops.runs.rendezvous import TaskNoLongerWaiting

OPENED = datetime(2026, 11, 20, 2, 20, tzinfo=UTC)
NOW = OPENED + timedelta(hours=5)
LEAD = "ml-lead@example.com"
OWNER = "owner@example.com"


class MemoryApprovals:
    """ApprovalStore in memory, with the DynamoDB store's rules: first decision wins, and only
    before expiry unless the timeout itself decides."""

    def __init__(self) -> None:
        self.approvals: dict[tuple[str, int], Approval] = {}
        self.tokens: dict[tuple[str, int], str] = {}
        self.fail_decide: Exception | None = None

    def create(self, approval: Approval, task_token: str) -> tuple[Approval, bool]:
        key = (approval.model, approval.version)
        self.tokens[key] = task_token
        if key in self.approvals:
            return self.approvals[key], False
        self.approvals[key] = approval
        return approval, True

    def get(self, model: str, version: int) -> Approval | None:
        return self.approvals.get((model, version))

    def for_model(self, model: str) -> list[Approval]:
        return sorted(
            (a for (m, _), a in self.approvals.items() if m == model), key=lambda a: a.version
        )

    def task_token(self, model: str, version: int) -> str | None:
        return self.tokens.get((model, version))

    def add_link(self, link: ApprovalLink) -> None:
        raise NotImplementedError

    def mark_notified(self, model: str, version: int, approver: str, at: datetime) -> None:
        raise NotImplementedError

    def link(self, link_hash: str) -> ApprovalLink | None:
        return None

    def decide(
        self,
        model: str,
        version: int,
        decision: Decision,
        now: datetime,
        link_hash: str | None,
        before_expiry: bool = True,
    ) -> bool:
        if self.fail_decide is not None:
            raise self.fail_decide
        approval = self.approvals[(model, version)]
        if approval.status != ApprovalStatus.PENDING:
            return False
        if before_expiry and now >= approval.expires_at:
            return False
        self.approvals[(model, version)] = approval.model_copy(
            update={"status": decision.status, "decision": decision}
        )
        return True


class RecordingResumer:
    def __init__(self, error: Exception | None = None) -> None:
        self.resumed: list[tuple[str, dict[str, Any]]] = []
        self.error = error

    def succeed(self, task_token: str, output: dict[str, Any]) -> None:
        if self.error is not None:
            raise self.error
        self.resumed.append((task_token, output))


def an_approval(
    version: int = 1,
    model: str = "churn",
    status: ApprovalStatus = ApprovalStatus.PENDING,
    decision: Decision | None = None,
    approvers: tuple[str, ...] = (LEAD,),
    notified: dict[str, datetime] | None = None,
    champion: float | None = 0.79,
) -> Approval:
    return Approval(
        model=model,
        version=version,
        package_arn=f"arn:aws:sagemaker:us-east-1:123456789012:model-package/{model}/{version}",
        status=status,
        created_at=OPENED,
        expires_at=OPENED + timedelta(days=3),
        approvers=list(approvers),
        notified={LEAD: OPENED} if notified is None else notified,
        summary=ApprovalSummary(
            model=model,
            version=version,
            package_arn=f"arn:aws:sagemaker:us-east-1:123456789012:model-package/{model}/{version}",
            package_group=model,
            run_id=f"{model}-w00000{version}",
            champion_version=None if champion is None else version - 1,
            metric="auc",
            metrics=[
                MetricRow(name="auc", candidate=0.81, champion=champion, gated=True),
                MetricRow(name="f1", candidate=0.6, champion=0.7),
            ],
        ),
        decision=decision,
    )


def a_decision(by: str = "bob", via: DecisionVia = "page", at: datetime = OPENED) -> Decision:
    return Decision(status=ApprovalStatus.APPROVED, by=by, via=via, comment="fine by me", at=at)


@pytest.fixture
def store() -> MemoryApprovals:
    return MemoryApprovals()


def stored(store: MemoryApprovals, *approvals: Approval) -> MemoryApprovals:
    for approval in approvals:
        store.create(approval, f"token-{approval.model}-{approval.version}")
    return store


# ------------------------------------------------------------------ listing


def test_given_a_pending_approval_when_listed_then_its_age_expiry_link_and_gate_metric_show(store):
    stored(store, an_approval())

    (row,) = pending_approvals(store, ["churn"], NOW)

    assert (row.model, row.version, row.status) == ("churn", 1, ApprovalStatus.PENDING)
    assert row.age_seconds == 5 * 3600
    assert row.expires_in_seconds == (3 * 24 - 5) * 3600
    ((link),) = row.approvers
    assert (link.approver, link.state, link.sent_at) == (LEAD, "sent", OPENED)
    assert (row.metric.name, row.metric.candidate, row.metric.champion) == ("auc", 0.81, 0.79)
    assert row.metric.champion_version == 0


def test_given_pending_and_closed_approvals_when_listed_then_only_pending_ones_by_default(store):
    closed = an_approval(1, status=ApprovalStatus.APPROVED, decision=a_decision())
    stored(store, closed, an_approval(2), an_approval(1, model="fraud"))

    rows = pending_approvals(store, ["fraud", "churn"], NOW)

    assert [(r.model, r.version) for r in rows] == [("churn", 2), ("fraud", 1)]


def test_given_a_closed_approval_when_listed_with_closed_ones_then_its_decision_shows(store):
    stored(store, an_approval(1, status=ApprovalStatus.APPROVED, decision=a_decision("carol")))

    (row,) = pending_approvals(store, ["churn"], NOW, include_closed=True)

    assert row.decision is not None
    assert (row.decision.by, row.decision.via) == ("carol", "page")


def test_given_the_approver_decided_on_the_page_when_listed_then_their_link_is_used(store):
    decision = a_decision(by=LEAD.upper(), at=OPENED + timedelta(hours=1))
    stored(
        store,
        an_approval(
            status=ApprovalStatus.APPROVED,
            decision=decision,
            approvers=(LEAD, OWNER),
            notified={LEAD: OPENED, OWNER: OPENED},
        ),
    )

    (row,) = pending_approvals(store, ["churn"], NOW, include_closed=True)

    states = {link.approver: (link.state, link.used_at) for link in row.approvers}
    assert states == {LEAD: ("used", decision.at), OWNER: ("sent", None)}


def test_given_an_approval_past_its_expiry_when_listed_then_it_shows_with_expired_links(store):
    stored(store, an_approval(approvers=(LEAD, OWNER), notified={LEAD: OPENED}))

    (row,) = pending_approvals(store, ["churn"], OPENED + timedelta(days=3, minutes=1))

    assert row.expires_in_seconds == -60
    assert [(link.approver, link.state) for link in row.approvers] == [
        (LEAD, "expired"),
        (OWNER, "not sent"),
    ]


def test_given_no_approver_in_the_policy_when_listed_then_everyone_was_notified(store):
    stored(store, an_approval(approvers=(), notified={"*": OPENED}))

    (row,) = pending_approvals(store, ["churn"], NOW)

    assert [(link.approver, link.state) for link in row.approvers] == [("*", "sent")]


def test_given_no_champion_when_listed_then_the_metric_has_no_champion_side(store):
    stored(store, an_approval(champion=None))

    (row,) = pending_approvals(store, ["churn"], NOW)

    assert (row.metric.champion, row.metric.champion_version) == (None, None)


def test_given_a_model_without_approvals_when_listed_then_an_operator_error_names_it(store):
    with pytest.raises(OperatorError, match="model fruad has no approvals"):
        pending_approvals(store, ["fruad"], NOW)


# ------------------------------------------------------------------ deciding


def deps(store: MemoryApprovals, resumer: RecordingResumer | None = None) -> DecisionDependencies:
    return DecisionDependencies(store=store, resumer=resumer or RecordingResumer())


def test_given_one_pending_approval_when_approved_without_version_then_it_wins_and_resumes(store):
    stored(store, an_approval(1, status=ApprovalStatus.SUPERSEDED), an_approval(2))
    resumer = RecordingResumer()

    result = decide_from_cli(deps(store, resumer), "churn", None, True, "alice", "ok", NOW)

    assert result.won
    assert result.message == "approved by alice with the aiops CLI: ok"
    assert result.approval.version == 2
    assert store.approvals[("churn", 2)].decision == Decision(
        status=ApprovalStatus.APPROVED, by="alice", via="cli", comment="ok", at=NOW
    )
    assert resumer.resumed == [("token-churn-2", {"status": "approved"})]


def test_given_a_multi_line_comment_when_rejected_then_it_is_kept_as_one_bounded_line(store):
    stored(store, an_approval())

    decide_from_cli(
        deps(store), "churn", 1, False, "alice", "bad\n\x1b[31mdrift\t" + "x" * 600, NOW
    )

    decision = store.approvals[("churn", 1)].decision
    assert decision is not None and decision.status == ApprovalStatus.REJECTED
    assert decision.comment.startswith("bad [31mdrift x")
    assert len(decision.comment) == 500
    assert decision.comment.isprintable()


def test_given_someone_decided_first_when_decided_from_the_cli_then_it_loses_saying_who(store):
    stored(store, an_approval(status=ApprovalStatus.APPROVED, decision=a_decision("bob")))

    result = decide_from_cli(deps(store), "churn", 1, False, "alice", "no", NOW)

    assert not result.won
    assert result.message == (
        "churn v1 was already closed at 2026-11-20 02:20:00 UTC: "
        "approved by bob on the approval page: fine by me"
    )
    assert store.approvals[("churn", 1)].decision == a_decision("bob")


def test_given_an_expired_approval_not_yet_closed_when_approved_then_it_loses_as_expired(store):
    stored(store, an_approval())
    late = OPENED + timedelta(days=3, seconds=1)

    result = decide_from_cli(deps(store), "churn", None, True, "alice", "ok", late)

    assert not result.won
    assert result.message.startswith("churn v1 expired at 2026-11-23 02:20:00 UTC")
    assert store.approvals[("churn", 1)].status == ApprovalStatus.PENDING


def test_given_nothing_pending_when_approved_without_version_then_the_error_names_the_latest(
    store,
):
    stored(store, an_approval(status=ApprovalStatus.APPROVED, decision=a_decision("bob")))

    with pytest.raises(OperatorError, match=r"no pending approval \(latest: v1 approved by bob"):
        decide_from_cli(deps(store), "churn", None, True, "alice", "ok", NOW)


def test_given_two_pending_approvals_when_approved_without_version_then_both_are_named(store):
    stored(store, an_approval(1), an_approval(2))

    with pytest.raises(OperatorError, match=r"several pending approvals \(v1, v2\)"):
        decide_from_cli(deps(store), "churn", None, True, "alice", "ok", NOW)


def test_given_an_unknown_version_when_approved_then_the_error_lists_the_versions(store):
    stored(store, an_approval(1), an_approval(2, status=ApprovalStatus.SUPERSEDED))

    with pytest.raises(OperatorError, match=r"no approval of version 9 \(v1, v2\)"):
        decide_from_cli(deps(store), "churn", 9, True, "alice", "ok", NOW)


def test_given_an_unknown_model_when_approved_then_the_error_says_it_has_no_approvals(store):
    with pytest.raises(OperatorError, match="model fraud has no approvals"):
        decide_from_cli(deps(store), "fraud", None, True, "alice", "ok", NOW)


@pytest.mark.parametrize(("by", "comment"), [("alice", " \n\t "), ("\n", "ok")])
def test_given_a_blank_comment_or_name_when_decided_then_nothing_is_recorded(store, by, comment):
    stored(store, an_approval())

    with pytest.raises(OperatorError):
        decide_from_cli(deps(store), "churn", 1, True, by, comment, NOW)

    assert store.approvals[("churn", 1)].status == ApprovalStatus.PENDING


def test_given_the_workflow_cannot_be_told_when_approved_then_the_recorded_decision_is_reported(
    store,
):
    stored(store, an_approval())
    denied = PermissionError("states:SendTaskSuccess denied")

    with pytest.raises(DecisionNotResumed) as raised:
        decide_from_cli(deps(store, RecordingResumer(denied)), "churn", 1, True, "al", "ok", NOW)

    assert raised.value.error is denied
    assert raised.value.approval.status == ApprovalStatus.APPROVED


def test_given_a_task_that_already_ended_when_approved_then_the_decision_still_wins(store):
    stored(store, an_approval())
    ended = RecordingResumer(TaskNoLongerWaiting("TaskDoesNotExist"))

    result = decide_from_cli(deps(store, ended), "churn", 1, True, "alice", "ok", NOW)

    assert result.won


def test_given_the_store_fails_when_approved_then_its_error_is_raised_not_a_resume_failure(
    store,
):
    stored(store, an_approval())
    store.fail_decide = TimeoutError("throttled")

    with pytest.raises(TimeoutError):
        decide_from_cli(deps(store), "churn", 1, True, "alice", "ok", NOW)
