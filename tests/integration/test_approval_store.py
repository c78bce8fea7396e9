"""Approvals and their links in the control table (DynamoDB on moto, the table built from
template.yaml): created once, decided once, links spent once and bound to their approval, the
task token kept beside the approval and never read into it, link ids never stored."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from aiops.adapters.approval_store import DynamoApprovalStore
from aiops.approval.links import link_hash, new_csrf_token, new_link_id
from aiops.approval.model import ApprovalStatus, ApprovalSummary, Decision
from aiops.approval.ports import Approval, ApprovalLink

NOW = datetime(2026, 11, 20, 2, 20, tzinfo=UTC)
TIMEOUT = timedelta(hours=72)
TOKEN = "task-token-AAAAsecretBBBB-1"


def approval(version: int, model: str = "churn", created: datetime = NOW) -> Approval:
    arn = f"arn:aws:sagemaker:us-east-1:123456789012:model-package/{model}/{version}"
    return Approval(
        model=model,
        version=version,
        package_arn=arn,
        status=ApprovalStatus.PENDING,
        created_at=created,
        expires_at=created + TIMEOUT,
        approvers=["ml-lead@example.com", "risk-officer@example.com"],
        summary=ApprovalSummary(
            model=model,
            version=version,
            package_arn=arn,
            package_group=model,
            run_id=f"{model}-w{version:06d}",
            metric="auc",
        ),
        execution_name=f"{model}-v{version}-exec",
    )


def decision(
    status: ApprovalStatus = ApprovalStatus.APPROVED,
    by: str = "ml-lead@example.com",
    via: Any = "page",
    at: datetime = NOW,
) -> Decision:
    return Decision(status=status, by=by, via=via, comment="", at=at)


def link_for(item: Approval, approver: str = "ml-lead@example.com") -> tuple[str, ApprovalLink]:
    """A new link id (what is mailed) and its stored half."""
    link_id = new_link_id()
    return link_id, ApprovalLink(
        link_hash=link_hash(link_id),
        model=item.model,
        version=item.version,
        approver=approver,
        csrf=new_csrf_token(),
        expires_at=item.expires_at,
    )


def raw_items(table: str) -> list[dict[str, Any]]:
    client = boto3.client("dynamodb", region_name="us-east-1")
    return list(client.scan(TableName=table)["Items"])


def stored_item(table: str, model: str, version: int) -> dict[str, Any]:
    client = boto3.client("dynamodb", region_name="us-east-1")
    key = {"pk": {"S": f"APPROVAL#{model}"}, "sk": {"S": f"V#{version:010d}"}}
    return dict(client.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"])


# ---------------------------------------------------------------------- create
def test_create_stores_a_new_approval_with_its_task_token(tables):
    store = DynamoApprovalStore(tables["ControlTable"])

    stored, created = store.create(approval(1), TOKEN)

    assert created is True
    assert stored == approval(1)
    assert store.get("churn", 1) == approval(1)
    assert store.task_token("churn", 1) == TOKEN


def test_a_retried_create_keeps_the_approval_and_only_replaces_the_task_token(tables):
    # Given an approval already stored, then decided
    store = DynamoApprovalStore(tables["ControlTable"])
    store.create(approval(1), TOKEN)
    store.mark_notified("churn", 1, "ml-lead@example.com", NOW)
    first = store.get("churn", 1)

    # When the step is retried later with a new token (and a snapshot taken at another time)
    retried = approval(1, created=NOW + timedelta(minutes=5))
    stored, created = store.create(retried, "task-token-of-the-retry")

    # Then the existing approval stands, unchanged, and only the token waiting is the new one
    assert created is False
    assert stored == first
    assert store.get("churn", 1) == first
    assert stored is not None and stored.created_at == NOW
    assert stored.notified == {"ml-lead@example.com": NOW}
    assert store.task_token("churn", 1) == "task-token-of-the-retry"


def test_a_retried_create_of_a_decided_approval_does_not_reopen_it(tables):
    store = DynamoApprovalStore(tables["ControlTable"])
    store.create(approval(1), TOKEN)
    assert store.decide("churn", 1, decision(), NOW, None)

    stored, created = store.create(approval(1), "task-token-of-the-retry")

    assert created is False
    assert stored.status == ApprovalStatus.APPROVED
    assert stored.decision == decision()


# ---------------------------------------------------------------------- reading
def test_for_model_returns_every_version_of_that_model_oldest_first(tables):
    # Given versions stored out of order, some past 9 (string order would put 10 before 2),
    # and a model whose name starts with the same letters
    store = DynamoApprovalStore(tables["ControlTable"])
    for version in (10, 2, 9, 1, 100):
        store.create(approval(version), f"{TOKEN}-{version}")
    store.create(approval(3, model="churn-eu"), TOKEN)

    # When every approval of churn is read
    versions = [a.version for a in store.for_model("churn")]

    # Then they come in version order, and only churn's
    assert versions == [1, 2, 9, 10, 100]
    assert [a.version for a in store.for_model("churn-eu")] == [3]
    assert store.for_model("unknown") == []


def test_an_approval_read_back_never_carries_the_task_token(tables):
    store = DynamoApprovalStore(tables["ControlTable"])
    store.create(approval(1), TOKEN)
    store.decide("churn", 1, decision(), NOW, None)
    retried, _ = store.create(approval(1), TOKEN + "-retry")

    read = [store.get("churn", 1), *store.for_model("churn"), retried]

    assert TOKEN in json.dumps(raw_items(tables["ControlTable"])), "the token is stored"
    for item in read:
        assert item is not None
        dumped = item.model_dump_json()
        assert TOKEN not in dumped
        assert "task_token" not in dumped
        assert not hasattr(item, "task_token")


def test_reading_a_missing_approval_or_link_finds_nothing(tables):
    store = DynamoApprovalStore(tables["ControlTable"])

    assert store.get("churn", 1) is None
    assert store.task_token("churn", 1) is None
    assert store.link(link_hash(new_link_id())) is None


# ---------------------------------------------------------------------- decide
def test_the_first_decision_wins_and_a_second_one_changes_nothing(tables):
    # Given a pending approval
    store = DynamoApprovalStore(tables["ControlTable"])
    store.create(approval(1), TOKEN)
    first = decision(ApprovalStatus.APPROVED, by="ml-lead@example.com")
    second = decision(ApprovalStatus.REJECTED, by="risk-officer@example.com", via="studio")

    # When two people decide, one after the other
    won = store.decide("churn", 1, first, NOW, None)
    lost = store.decide("churn", 1, second, NOW + timedelta(seconds=1), None)

    # Then the first decision is the one kept
    assert (won, lost) == (True, False)
    stored = store.get("churn", 1)
    assert stored is not None
    assert stored.status == ApprovalStatus.APPROVED
    assert stored.decision == first


def test_no_person_decides_after_the_expiry_but_the_timeout_itself_does(tables):
    # Given a pending approval past its expiry (nothing has closed it yet)
    store = DynamoApprovalStore(tables["ControlTable"])
    store.create(approval(1), TOKEN)
    expiry = NOW + TIMEOUT

    # When a person decides at and after the expiry, and then the timeout closes it
    refused_at = store.decide("churn", 1, decision(), expiry, None)
    refused_after = store.decide("churn", 1, decision(), expiry + timedelta(hours=1), None)
    timeout = decision(ApprovalStatus.EXPIRED, by="aiops", via="timeout", at=expiry)
    closed = store.decide("churn", 1, timeout, expiry, None, before_expiry=False)

    # Then only the timeout closes it
    assert (refused_at, refused_after, closed) == (False, False, True)
    stored = store.get("churn", 1)
    assert stored is not None and stored.status == ApprovalStatus.EXPIRED


def test_a_person_may_decide_until_the_last_second_before_the_expiry(tables):
    store = DynamoApprovalStore(tables["ControlTable"])
    store.create(approval(1), TOKEN)

    assert store.decide("churn", 1, decision(), NOW + TIMEOUT - timedelta(seconds=1), None)


def test_a_person_may_decide_until_the_expiry_instant_not_only_its_whole_second(tables):
    # Given an approval opened at a moment with a fraction of a second (as real clocks give)
    store = DynamoApprovalStore(tables["ControlTable"])
    opened = NOW + timedelta(milliseconds=700)
    store.create(approval(1, created=opened), TOKEN)
    expiry = opened + TIMEOUT
    just_before = expiry - timedelta(milliseconds=400)
    assert approval(1, created=opened).is_open(just_before), "the page shows it as open"

    # When a person decides 0.4 s before the expiry
    won = store.decide("churn", 1, decision(at=just_before), just_before, None)

    # Then the decision is taken: the store agrees with the page on what "before" means
    assert won is True


def test_deciding_an_approval_that_does_not_exist_creates_nothing(tables):
    store = DynamoApprovalStore(tables["ControlTable"])

    assert store.decide("churn", 7, decision(), NOW, None) is False
    assert store.get("churn", 7) is None


# ---------------------------------------------------------------------- links
def test_deciding_with_a_link_spends_it_in_the_same_write(tables):
    # Given a pending approval with the ml lead's link
    store = DynamoApprovalStore(tables["ControlTable"])
    store.create(approval(1), TOKEN)
    _, link = link_for(approval(1))
    store.add_link(link)

    # When the ml lead decides with it
    won = store.decide("churn", 1, decision(), NOW, link.link_hash)

    # Then the approval is closed and the link is marked used at that moment
    assert won is True
    spent = store.link(link.link_hash)
    assert spent is not None and spent.used_at == NOW
    assert spent.model_copy(update={"used_at": None}) == link


def test_a_spent_link_decides_nothing_even_on_another_pending_approval(tables):
    # Given v1 decided with the ml lead's link, and v2 pending
    store = DynamoApprovalStore(tables["ControlTable"])
    store.create(approval(1), TOKEN)
    store.create(approval(2), TOKEN + "-2")
    _, link = link_for(approval(1))
    store.add_link(link)
    assert store.decide("churn", 1, decision(), NOW, link.link_hash)

    # When that link is used again, on v2
    again = store.decide("churn", 2, decision(), NOW, link.link_hash)

    # Then nothing is decided: v2 stays pending (the whole write was refused)
    assert again is False
    stored = store.get("churn", 2)
    assert stored is not None and stored.status == ApprovalStatus.PENDING


def test_an_unknown_link_decides_nothing(tables):
    store = DynamoApprovalStore(tables["ControlTable"])
    store.create(approval(1), TOKEN)

    assert store.decide("churn", 1, decision(), NOW, link_hash(new_link_id())) is False
    stored = store.get("churn", 1)
    assert stored is not None and stored.status == ApprovalStatus.PENDING


def test_a_link_decides_only_the_approval_it_was_made_for(tables):
    # Given v1 and v2 pending, and an unused link made for v1
    store = DynamoApprovalStore(tables["ControlTable"])
    store.create(approval(1), TOKEN)
    store.create(approval(2), TOKEN + "-2")
    _, link = link_for(approval(1))
    store.add_link(link)

    # When a decision on v2 comes with v1's link
    crossed = store.decide("churn", 2, decision(), NOW, link.link_hash)

    # Then it is refused: v2 stays pending and v1's link stays unspent (a link stands for one
    # approver on one approval, never another)
    assert crossed is False
    stored = store.get("churn", 2)
    assert stored is not None and stored.status == ApprovalStatus.PENDING
    unspent = store.link(link.link_hash)
    assert unspent is not None and unspent.used_at is None


def test_only_the_hash_of_a_link_id_is_stored(tables):
    # Given links stored for both approvers
    store = DynamoApprovalStore(tables["ControlTable"])
    store.create(approval(1), TOKEN)
    ids = []
    for approver in ("ml-lead@example.com", "risk-officer@example.com"):
        link_id, link = link_for(approval(1), approver)
        store.add_link(link)
        ids.append(link_id)
        store.mark_notified("churn", 1, approver, NOW)

    # When the whole table is read, as a leaked backup would be
    dump = json.dumps(raw_items(tables["ControlTable"]))

    # Then no link id appears in it, only their hashes, and each hash finds its link
    for link_id in ids:
        assert link_id not in dump
        assert f"APPROVALLINK#{link_hash(link_id)}" in dump
        found = store.link(link_hash(link_id))
        assert found is not None and found.version == 1


def test_items_expire_a_while_after_the_approval_does(tables):
    store = DynamoApprovalStore(tables["ControlTable"])
    store.create(approval(1), TOKEN)
    _, link = link_for(approval(1))
    store.add_link(link)

    item = stored_item(tables["ControlTable"], "churn", 1)
    expires = int((NOW + TIMEOUT).timestamp())

    assert float(item["expires_epoch"]["N"]) == expires
    assert int(item["ttl"]["N"]) > expires
    links = [
        i for i in raw_items(tables["ControlTable"]) if i["pk"]["S"].startswith("APPROVALLINK")
    ]
    assert [int(i["ttl"]["N"]) > expires for i in links] == [True]
