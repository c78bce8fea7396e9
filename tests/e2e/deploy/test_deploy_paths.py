"""The deploy capability through its real entry points (events, alarms, the workflow on the
offline cloud): what deploys, what does not, exactly once, and how failures end."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.deploy.conftest import (
    ENDPOINT,
    ROOT,
    actions,
    approved_event,
    canary_cloud,
    deploy_executions,
    entries,
    serving_config,
    upload_window,
)

pytestmark = pytest.mark.e2e


def test_a_duplicate_approval_event_deploys_once() -> None:
    with canary_cloud() as cloud:
        # Given v1 passed the gate and was deployed (its approval event came once)
        upload_window(cloud, "a")
        assert actions(cloud).count("deployed") == 1

        # When SageMaker delivers the same approval again, twice
        event = approved_event(cloud, 1)
        cloud.send_event(event)
        cloud.send_event(event)
        cloud.run_until_quiet()

        # Then still one deployment: the execution name is the request's, the ledger has one
        assert [e.name for e in deploy_executions(cloud)] == ["deploy-churn-v1"]
        assert actions(cloud).count("deploy_requested") == 1
        assert actions(cloud).count("deploy_started") == 1
        assert actions(cloud).count("deployed") == 1


def test_a_gate_rejected_package_approved_in_studio_is_refused_and_alerted_once() -> None:
    with canary_cloud() as cloud:
        upload_window(cloud, "a")
        # Given v2 scores below the floor: our gate rejects it
        cloud.configure_simulator("sagemaker_pipeline", {"metrics": {"auc": 0.5}})
        upload_window(cloud, "b")
        assert "gate_rejected" in actions(cloud)

        # When someone approves it in Studio, and the event is delivered twice
        cloud.set_approval("churn/2", "Approved", "override", by="someone")
        cloud.run_until_quiet()
        cloud.send_event(approved_event(cloud, 2))
        cloud.run_until_quiet()

        # Then nothing deploys it; the refusal says why, once, and one alert went out
        refused = entries(cloud, "deploy_refused")
        assert len(refused) == 1 and "rejected by our gate" in refused[0]["reason"]
        assert [e.name for e in deploy_executions(cloud)] == ["deploy-churn-v1"]
        alerts = [
            e
            for e in cloud.timeline.entries()
            if e["kind"] == "notify" and "approved but not deployed" in str(e)
        ]
        assert len(alerts) == 1


def test_a_malformed_approval_event_goes_to_the_dead_letter_queue_and_deploys_nothing() -> None:
    with canary_cloud() as cloud:
        event = json.loads((ROOT / "events" / "sagemaker_model_package_approved.json").read_text())
        event["detail"]["ModelPackageVersion"] = -3
        cloud.send_event(event)
        cloud.run_until_quiet()

        assert deploy_executions(cloud) == []
        letters = cloud.dead_letters("DeployApprovedDeadLetterQueue")
        assert len(letters) == 1 and "ModelPackageVersion" in letters[0]["Body"]


def test_without_a_model_execution_role_the_deployment_fails_closed_and_releases_the_endpoint() -> (
    None
):
    # Given a stack deployed without ModelExecutionRoleArn
    with canary_cloud(parameters={"ModelExecutionRoleArn": ""}) as cloud:
        # When a candidate passes the gate
        upload_window(cloud, "a")

        # Then no endpoint exists, the failure is recorded with the reason, and the endpoint's
        # lock is free for the next version
        failed = entries(cloud, "deploy_failed")
        assert len(failed) == 1 and "ModelExecutionRoleArn" in failed[0]["reason"]
        sagemaker = cloud.client("sagemaker")
        assert sagemaker.list_endpoints()["Endpoints"] == []
        assert [e.status for e in deploy_executions(cloud)] == ["SUCCEEDED"]
        control = cloud.client("dynamodb").get_item(
            TableName=cloud.table("ControlTable"),
            Key={"pk": {"S": f"ENDPOINT#{ENDPOINT}"}, "sk": {"S": "LOCK"}},
        )["Item"]
        assert "holder" not in control


def test_when_the_endpoint_event_never_comes_the_workflow_reads_the_endpoint_at_its_timeout() -> (
    None
):
    with canary_cloud() as cloud:
        upload_window(cloud, "a")
        # Given EventBridge loses every endpoint event from now on (delivery is best effort)
        emit = cloud.events.emit

        def lossy_emit(source: str, detail_type: str, *args: Any, **kwargs: Any) -> Any:
            if detail_type.startswith("SageMaker Endpoint"):
                return None
            return emit(source, detail_type, *args, **kwargs)

        cloud.events.emit = lossy_emit  # type: ignore[method-assign]
        cloud.configure_simulator("sagemaker_pipeline", {"metrics": {"auc": 0.84}})

        # When v2 is deployed, and the wait's timeout (the policy's 1h + a 10m grace) passes
        upload_window(cloud, "b")
        assert [e.status for e in deploy_executions(cloud)].count("RUNNING") == 1
        cloud.advance("75m")

        # Then after the wait's timeout the workflow reads the endpoint: v2 serves, promoted
        deployed = entries(cloud, "deployed")
        assert len(deployed) == 2 and "v2 serves churn-prod" in deployed[-1]["reason"]
        assert serving_config(cloud).startswith("aiops-churn-v2-")
