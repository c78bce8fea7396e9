"""Decisions taken in the model registry (SageMaker Studio, `aws sagemaker
update-model-package`) reach the control plane as `SageMaker Model Package State Change` events
on the bus: they resolve our pending approval, are recognised as the echo of our own decision,
or are recorded (and alerted, for an approval) when nobody of ours asked for them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from aiops_local import LocalCloud
from aiops_local.approver import Approver
from tests.e2e.approval.conftest import (
    ALERTS_TOPIC,
    PENDING_SCENARIO,
    Recorder,
    approval_items,
    ledger_actions,
    notices,
    pending_cloud,
    record_invocations,
)

pytestmark = pytest.mark.e2e

STATE_CHANGE = "SageMaker Model Package State Change"
STUDIO = "StudioDecisionFunction"
DEAD_LETTERS = "StudioDecisionDeadLetterQueue"


def outcomes(recorder: Recorder, since: int = 0) -> list[str]:
    """What the Studio decision handler did with each event it got, in order."""
    return [str(i.result.payload.get("action")) for i in recorder.of(STUDIO)[since:]]


def state_change_events(cloud: LocalCloud) -> list[dict[str, Any]]:
    return [e["event"] for e in cloud.timeline.find("event", detail_type=STATE_CHANGE)]


def new_package(cloud: LocalCloud, group: str) -> str:
    """A package registered straight into the registry (no pipeline, no gate, no approval)."""
    sagemaker = cloud.client("sagemaker")
    groups = sagemaker.list_model_package_groups()["ModelPackageGroupSummaryList"]
    if group not in {g["ModelPackageGroupName"] for g in groups}:
        sagemaker.create_model_package_group(ModelPackageGroupName=group)
    created = sagemaker.create_model_package(
        ModelPackageGroupName=group,
        ModelPackageDescription="registered by hand",
        ModelApprovalStatus="PendingManualApproval",
    )
    return str(created["ModelPackageArn"])


# ---------------------------------------------------------------------- our pending approval
def test_a_studio_approval_resolves_the_pending_approval_once_however_often_delivered() -> None:
    with pending_cloud() as pending:
        cloud, recorder = pending.cloud, pending.recorder
        # Given churn v1 waiting for a person
        assert approval_items(cloud)[0]["status"] == "pending"

        # When jane.doe approves it in SageMaker Studio
        cloud.set_approval("churn/1", "Approved", "checked the slices in Studio", by="jane.doe")
        cloud.run_until_quiet()

        # Then the approval is resolved by her, via Studio, and the workflow ends
        (approval,) = [i for i in approval_items(cloud) if i["pk"] == "APPROVAL#churn"]
        assert approval["status"] == "approved"
        assert approval["decision"]["via"] == "studio"
        assert approval["decision"]["by"] == "jane.doe"
        assert approval["decision"]["comment"] == "checked the slices in Studio"
        (approved,) = [e for e in cloud.ledger("churn") if e["action"] == "approved"]
        assert (approved["cause"]["via"], approved["cause"]["approver"]) == ("studio", "jane.doe")
        assert [e.status for e in cloud.executions("ApprovalStateMachine")] == ["SUCCEEDED"]
        assert [p["ModelApprovalStatus"] for p in cloud.packages("churn")] == ["Approved"]
        assert outcomes(recorder) == ["resolved"]
        (event,) = state_change_events(cloud)

        # When EventBridge delivers the same event (same id) again, three times
        for _ in range(3):
            cloud.send_event(event)
        cloud.run_until_quiet()

        # Then it acted once: one approval in the ledger, nothing outside, at most one alert
        assert outcomes(recorder) == ["resolved", "duplicate", "duplicate", "duplicate"]
        assert ledger_actions(cloud).count("approved") == 1
        assert "decided_outside_approval" not in ledger_actions(cloud)
        assert len(notices(cloud, ALERTS_TOPIC)) <= 1


def test_our_own_page_decision_comes_back_as_an_echo_and_is_not_an_outside_decision() -> None:
    with pending_cloud() as pending:
        cloud, recorder = pending.cloud, pending.recorder
        # Given churn v1 waiting for a person
        person = Approver(cloud)

        # When the ml lead approves it on the page (aiops then sets the package Approved, which
        # the registry announces on the bus)
        response = person.decide(person.link("ml-lead@example.com"), "approve", "fine")
        cloud.run_until_quiet()

        # Then the registry's event is recognised as our own decision: no outside decision, no
        # alert
        assert response.status == 200
        assert len(state_change_events(cloud)) == 1
        assert outcomes(recorder) == ["echo"]
        assert ledger_actions(cloud).count("approved") == 1
        assert "decided_outside_approval" not in ledger_actions(cloud)
        # (the one notice is the approved candidate's deployment, which the approval started)
        assert [n["subject"] for n in notices(cloud, ALERTS_TOPIC)] == ["[aiops] churn v1 deployed"]


def test_a_studio_approval_after_our_rejection_is_recorded_and_alerted() -> None:
    with pending_cloud() as pending:
        cloud, recorder = pending.cloud, pending.recorder
        # Given churn v1 rejected on the page by the risk officer
        person = Approver(cloud)
        rejected = person.decide(person.link("risk-officer@example.com"), "reject", "not yet")
        cloud.run_until_quiet()
        assert rejected.status == 200
        seen = len(recorder.of(STUDIO))

        # When someone approves it in Studio anyway
        cloud.set_approval("churn/1", "Approved", "overriding", by="mallory")
        cloud.run_until_quiet()

        # Then the conflict is recorded and alerted; our rejection stands in the approval
        assert outcomes(recorder, seen) == ["conflict"]
        (outside,) = [e for e in cloud.ledger("churn") if e["action"] == "decided_outside_approval"]
        assert "mallory" in outside["reason"] and "rejected" in outside["reason"]
        (alert, refused) = notices(cloud, ALERTS_TOPIC)
        assert "approved outside aiops" in str(alert["subject"])
        (approval,) = [i for i in approval_items(cloud) if i["pk"] == "APPROVAL#churn"]
        assert approval["status"] == "rejected"
        # and the people's "no" stands for deployment too: nothing deploys v1
        assert "v1 approved but not deployed" in str(refused["subject"])
        (refusal,) = [e for e in cloud.ledger("churn") if e["action"] == "deploy_refused"]
        assert "approval ended rejected" in refusal["reason"]
        assert cloud.executions("DeployStateMachine") == []


# ---------------------------------------------------------------------- no approval of ours
@pytest.fixture(scope="class")
def bare() -> Iterator[tuple[LocalCloud, Recorder]]:
    """A cloud with the two-approver policy and nothing registered yet."""
    with LocalCloud(
        PENDING_SCENARIO.parents[1] / "template.yaml",
        policy=PENDING_SCENARIO.parent / "policies" / "churn_two_approvers.yaml",
    ) as cloud:
        recorder = Recorder()
        record_invocations(cloud, recorder)
        yield cloud, recorder


class TestPackagesDecidedOutsideAnyApproval:
    def test_an_approval_outside_aiops_is_recorded_and_alerted_once(
        self, bare: tuple[LocalCloud, Recorder]
    ) -> None:
        cloud, recorder = bare
        # Given a churn package registered by hand: no pipeline run, no gate, no approval
        arn = new_package(cloud, "churn")
        seen, events = len(recorder.of(STUDIO)), len(state_change_events(cloud))
        alerts = len(notices(cloud, ALERTS_TOPIC))

        # When mallory approves it in Studio, and EventBridge delivers the event twice more
        cloud.set_approval(arn, "Approved", "trust me", by="mallory")
        cloud.run_until_quiet()
        (event,) = state_change_events(cloud)[events:]
        for _ in range(2):
            cloud.send_event(event)
        cloud.run_until_quiet()

        # Then it is recorded once as decided outside any approval, and alerted once
        assert outcomes(recorder, seen) == ["outside", "duplicate", "duplicate"]
        outside = [
            e
            for e in cloud.ledger("churn")
            if e["action"] == "decided_outside_approval" and e["cause"]["model_package"] == arn
        ]
        assert len(outside) == 1
        assert outside[0]["cause"]["status"] == "Approved"
        assert "mallory" in outside[0]["reason"]
        assert "outside any approval" in outside[0]["reason"]
        new_alerts = notices(cloud, ALERTS_TOPIC)[alerts:]
        # one for the outside decision, one for the deployment it does not get (never gated)
        assert len(new_alerts) == 2
        assert "approved outside aiops" in str(new_alerts[0]["subject"])
        assert arn in str(new_alerts[0]["message"])
        assert "approved but not deployed" in str(new_alerts[1]["subject"])

    def test_a_rejection_outside_aiops_is_recorded_without_an_alert(
        self, bare: tuple[LocalCloud, Recorder]
    ) -> None:
        cloud, recorder = bare
        # Given a churn package registered by hand
        arn = new_package(cloud, "churn")
        seen, alerts = len(recorder.of(STUDIO)), len(notices(cloud, ALERTS_TOPIC))

        # When someone rejects it in Studio
        cloud.set_approval(arn, "Rejected", "not this one", by="bob")
        cloud.run_until_quiet()

        # Then it is recorded (rejecting is always safe: no alert)
        assert outcomes(recorder, seen) == ["outside"]
        (outside,) = [
            e
            for e in cloud.ledger("churn")
            if e["action"] == "decided_outside_approval" and e["cause"]["model_package"] == arn
        ]
        assert outside["cause"]["status"] == "Rejected"
        assert len(notices(cloud, ALERTS_TOPIC)) == alerts

    def test_a_package_of_a_group_no_policy_model_uses_is_ignored(
        self, bare: tuple[LocalCloud, Recorder]
    ) -> None:
        cloud, recorder = bare
        # Given a package in a group that no model of the policy registers into
        arn = new_package(cloud, "fraud-experiments")
        seen = len(recorder.of(STUDIO))
        ledger, alerts = cloud.ledger(), len(notices(cloud, ALERTS_TOPIC))

        # When it is approved in Studio
        cloud.set_approval(arn, "Approved", "", by="carol")
        cloud.run_until_quiet()

        # Then the control plane hears of it and leaves it alone
        assert outcomes(recorder, seen) == ["ignored"]
        assert cloud.ledger() == ledger
        assert len(notices(cloud, ALERTS_TOPIC)) == alerts

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"ModelPackageVersion": "abc"}, "detail.ModelPackageVersion"),
            ({"ModelPackageArn": None}, "detail.ModelPackageArn"),
            ({"ModelPackageVersion": 0}, "detail.ModelPackageVersion"),
            ({"ModelPackageArn": "arn:aws:s3:::not-a-package"}, "detail.ModelPackageArn"),
        ],
        ids=["version-abc", "missing-arn", "version-0", "arn-of-another-service"],
    )
    def test_a_malformed_state_change_is_dead_lettered_once_with_the_field(
        self, bare: tuple[LocalCloud, Recorder], change: dict[str, Any], field: str
    ) -> None:
        cloud, recorder = bare
        # Given a state change event that can never be handled
        detail: dict[str, Any] = {
            "ModelPackageGroupName": "churn",
            "ModelPackageVersion": 7,
            "ModelPackageArn": f"arn:aws:sagemaker:us-east-1:{cloud.account}:model-package/churn/7",
            "ModelApprovalStatus": "Approved",
            "UpdatedModelPackageFields": ["ModelApprovalStatus"],
        }
        for key, value in change.items():
            if value is None:
                detail.pop(key)
            else:
                detail[key] = value
        seen, ledger = len(recorder.of(STUDIO)), cloud.ledger()

        # When it is delivered
        event_id = cloud.send_event(
            {"source": "aws.sagemaker", "detail-type": STATE_CHANGE, "detail": detail}
        )
        cloud.run_until_quiet()

        # Then one invocation rejects it, naming the field; it is dead-lettered once, with the
        # reason, never retried, and nothing else happens
        attempts = recorder.of(STUDIO)[seen:]
        assert [a.result.payload.get("action") for a in attempts] == ["rejected"]
        assert field in str(attempts[0].result.payload.get("reason"))
        assert len(cloud.timeline.find("dlq", function=STUDIO, event_id=event_id)) == 1
        kept = [
            m
            for m in cloud.dead_letters(DEAD_LETTERS)
            if json.loads(m["Body"]).get("id") == event_id
        ]
        assert len(kept) == 1
        attributes = {k: v["StringValue"] for k, v in kept[0]["MessageAttributes"].items()}
        assert attributes["ErrorCode"] == "InvalidEvent"
        assert field in attributes["ErrorMessage"]
        assert cloud.ledger() == ledger
        assert cloud.timeline.find("invoke", function=STUDIO, status="error") == []
