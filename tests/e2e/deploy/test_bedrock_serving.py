"""Serving approved Bedrock custom models through the real entry points, offline: a package of
the support assistant's group (as the fine-tune workflow registers it) approved in the registry
→ the deploy workflow's Bedrock branch → its custom model deployment (or serving parameter);
a newer version swaps the model behind the same ARN; the latency alarm and `aiops rollback` swap
the last known good back."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from moto.bedrock.models import CustomModel, bedrock_backends

from aiops.adapters.verdict_store import DynamoGateVerdicts
from aiops.verdicts import GateVerdict
from aiops_cli.main import main
from aiops_local import LocalCloud
from tests.e2e.deploy.conftest import ROOT

pytestmark = pytest.mark.e2e

MODEL = "support-assistant"
GROUP = "support-assistant"
DEPLOYMENT = "aiops-support-assistant"
ALARM = "support-assistant-latency"
PARAMETER = "/aiops/support-assistant/model"
POLICIES = ROOT / "scenarios" / "policies"


@contextmanager
def bedrock_cloud(policy: str = "support_assistant.yaml") -> Iterator[LocalCloud]:
    with LocalCloud(template=ROOT / "template.yaml", policy=POLICIES / policy, start=None) as cloud:
        yield cloud


def custom_model(cloud: LocalCloud, version: int) -> str:
    """A fine-tuned Nova Lite in moto's Bedrock backend, with an ARN shaped as AWS shapes it."""
    job = f"arn:aws:bedrock:{cloud.region}:{cloud.account}:model-customization-job/ft{version}"
    model = CustomModel(
        f"{MODEL}-v{version}",
        f"ft{version}",
        job,
        f"arn:aws:bedrock:{cloud.region}::foundation-model/amazon.nova-lite-v1:0",
        {},
        {},
        {},
        {},
        "amazon.nova-lite-v1:0",
        cloud.region,
        cloud.account,
        "FINE_TUNING",
        None,
        None,
        None,
    )
    model.model_arn = (
        f"arn:aws:bedrock:{cloud.region}:{cloud.account}:custom-model/"
        f"amazon.nova-lite-v1:0:300k/abcdefghij{version:02d}"
    )
    bedrock_backends[cloud.account][cloud.region].custom_models[model.model_name] = model
    return model.model_arn


def register(cloud: LocalCloud, version: int, verdict: str = "approve") -> tuple[str, str]:
    """A candidate as the fine-tune workflow registers it (its custom model in the package's
    metadata) with our gate's verdict: its package ARN and custom model ARN."""
    model_arn = custom_model(cloud, version)
    sagemaker = cloud.client("sagemaker")
    with contextlib.suppress(Exception):
        sagemaker.create_model_package_group(ModelPackageGroupName=GROUP)
    package = sagemaker.create_model_package(
        ModelPackageGroupName=GROUP,
        ModelPackageDescription=f"support assistant fine-tune {version}",
        ModelApprovalStatus="PendingManualApproval",
        CustomerMetadataProperties={
            "aiops:custom-model-arn": model_arn,
            "aiops:customization-job-arn": (
                f"arn:aws:bedrock:{cloud.region}:{cloud.account}:model-customization-job/ft{version}"
            ),
            "aiops:dataset-manifest": f"s3://{cloud.artifacts_bucket}/manifests/{MODEL}/{version}",
            "aiops:run-id": f"ft-{version}",
        },
    )["ModelPackageArn"]
    DynamoGateVerdicts(cloud.table("ControlTable"), cloud.client("dynamodb")).record(
        GateVerdict(
            package_arn=package,
            model=MODEL,
            decision=verdict,
            reason="rougeL 0.52 beats the champion's 0.48",
            run_id=f"ft-{version}",
            at=cloud.clock.now(),
        )
    )
    return str(package), model_arn


def approve(cloud: LocalCloud, version: int) -> None:
    cloud.set_approval(f"{GROUP}/{version}", "Approved")
    cloud.run_until_quiet()


def deployment(cloud: LocalCloud) -> dict[str, Any]:
    return dict(
        cloud.client("bedrock").get_custom_model_deployment(
            customModelDeploymentIdentifier=DEPLOYMENT
        )
    )


def entries(cloud: LocalCloud, action: str) -> list[dict[str, Any]]:
    return [e for e in cloud.ledger(MODEL) if e["action"] == action]


def marks(cloud: LocalCloud, version: int) -> dict[str, str]:
    package = next(p for p in cloud.packages(GROUP) if p["ModelPackageVersion"] == version)
    return dict(package.get("CustomerMetadataProperties") or {})


def test_an_approved_candidate_is_served_and_a_newer_one_swapped_in_behind_the_same_arn() -> None:
    with bedrock_cloud() as cloud:
        # Given v1 passed our gate and is approved
        _, first = register(cloud, 1)
        approve(cloud, 1)

        # Then the custom model deployment serves it, recorded and marked
        served = deployment(cloud)
        arn = served["customModelDeploymentArn"]
        assert (served["status"], served["modelArn"]) == ("Active", first)
        (deployed,) = entries(cloud, "deployed")
        assert deployed["reason"].startswith(
            f"v1 serves {MODEL} through custom model deployment {DEPLOYMENT} ({arn})"
        )
        assert "aiops:deployed" in marks(cloud, 1)
        tags = bedrock_backends[cloud.account][cloud.region].aiops_deployments[arn]["tags"]  # type: ignore[attr-defined]
        assert {"key": "aiops:model", "value": MODEL} in tags

        # When v2 is approved
        _, second = register(cloud, 2)
        approve(cloud, 2)

        # Then the same deployment (same ARN) serves v2; v2 is the last known good
        served = deployment(cloud)
        assert served["customModelDeploymentArn"] == arn
        assert (served["status"], served["modelArn"]) == ("Active", second)
        assert served["updateDetails"] == {"modelArn": second, "updateStatus": "UpdateCompleted"}
        assert "last known good was v1" in entries(cloud, "deployed")[-1]["reason"]
        assert [e.status for e in cloud.executions("DeployStateMachine")] == ["SUCCEEDED"] * 2


def test_the_latency_alarm_swaps_the_last_known_good_back_once_per_incident() -> None:
    with bedrock_cloud() as cloud:
        _, first = register(cloud, 1)
        approve(cloud, 1)
        register(cloud, 2)
        approve(cloud, 2)

        # When the rollback alarm goes to ALARM after v2's swap, and again later
        cloud.set_alarm(ALARM, "ALARM", "p99 latency above 3 s")
        cloud.run_until_quiet()
        cloud.set_alarm(ALARM, "OK")
        cloud.set_alarm(ALARM, "ALARM", "still slow")
        cloud.advance("10m")

        # Then v1's custom model serves again behind the same ARN; v2 is marked, revoked, once
        assert deployment(cloud)["modelArn"] == first
        (rolled,) = entries(cloud, "rolled_back")
        assert f"alarm {ALARM}: rolled back {MODEL} from v2 to v1" in rolled["reason"]
        assert "aiops:rolled-back" in marks(cloud, 2)
        skipped = entries(cloud, "rollback_skipped")
        assert len(skipped) == 1 and "not rolling back twice" in skipped[0]["reason"]


def test_a_rolled_back_version_approved_again_is_refused() -> None:
    with bedrock_cloud() as cloud:
        register(cloud, 1)
        approve(cloud, 1)
        register(cloud, 2)
        approve(cloud, 2)
        cloud.set_alarm(ALARM, "ALARM")
        cloud.run_until_quiet()

        # When v2 (rolled back) is approved once more in Studio
        cloud.set_approval(f"{GROUP}/2", "PendingManualApproval")
        approve(cloud, 2)

        # Then it is refused: not served again
        refused = entries(cloud, "deploy_refused")
        assert len(refused) == 1 and "was rolled back" in refused[0]["reason"]


def test_a_failed_swap_is_recorded_with_bedrocks_reason_and_the_previous_model_serves_on() -> None:
    with bedrock_cloud() as cloud:
        _, first = register(cloud, 1)
        approve(cloud, 1)
        # Given Bedrock fails the next update
        cloud.configure_simulator("bedrock_deployment", {"next": [{"fail": "Model failed"}]})

        # When v2 is approved
        register(cloud, 2)
        approve(cloud, 2)

        # Then the failure is recorded with Bedrock's reason; v1 serves (a failed update leaves
        # the previous model serving: nothing to put back); the model's lock is free
        (failed,) = entries(cloud, "deploy_failed")
        assert "Bedrock: Model failed" in failed["reason"]
        assert f"v1 still serves {DEPLOYMENT}" in failed["reason"]
        assert deployment(cloud)["modelArn"] == first
        lock = cloud.client("dynamodb").get_item(
            TableName=cloud.table("ControlTable"),
            Key={"pk": {"S": f"BEDROCK#{MODEL}"}, "sk": {"S": "LOCK"}},
        )["Item"]
        assert "holder" not in lock


def test_a_package_without_our_gate_verdict_is_refused() -> None:
    with bedrock_cloud() as cloud:
        register(cloud, 1, verdict="reject")
        approve(cloud, 1)

        (refused,) = entries(cloud, "deploy_refused")
        assert "rejected by our gate" in refused["reason"]
        assert cloud.executions("DeployStateMachine") == []


def test_aiops_rollback_by_hand_swaps_back_and_status_shows_what_serves(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    scenario = tmp_path / "bedrock.yaml"
    scenario.write_text(
        f"name: bedrock_cli\npolicy: {POLICIES / 'support_assistant.yaml'}\n"
        "steps:\n  - advance: 1m\n"
    )
    seen: dict[str, Any] = {}

    # The scenario runs no step: v1 and v2 are served by hand on the cloud the command opens.
    from aiops_local import scenario as scenario_module

    run = scenario_module.ScenarioRunner.run

    def serve_two(self: Any, warn: Any) -> Any:
        result = run(self, warn)
        cloud = self.cloud
        _, seen["first"] = register(cloud, 1)
        approve(cloud, 1)
        _, seen["second"] = register(cloud, 2)
        approve(cloud, 2)
        return result

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(scenario_module.ScenarioRunner, "run", serve_two)
        status = main(["rollback", MODEL, "--local", str(scenario), "--json"])
        out, err = capsys.readouterr()
        assert status == 0, err
        document = json.loads(out)
        assert (document["action"], document["from_version"], document["to_version"]) == (
            "rolled_back",
            2,
            1,
        )
        assert document["serving"]["model_arn"] == seen["first"]

        status = main(["status", MODEL, "--local", str(scenario)])
        out, err = capsys.readouterr()
        assert status == 0, err
        assert out.splitlines()[0] == f"{MODEL}: Bedrock, custom model deployment {DEPLOYMENT}"
        assert "v2 since" in out and "by canary" not in out


def test_serving_by_parameter_writes_the_custom_model_and_rolls_back_by_rewriting_it() -> None:
    with bedrock_cloud("support_assistant_parameter.yaml") as cloud:
        _, first = register(cloud, 1)
        approve(cloud, 1)
        ssm = cloud.client("ssm")
        assert ssm.get_parameter(Name=PARAMETER)["Parameter"]["Value"] == first
        (deployed,) = entries(cloud, "deployed")
        assert f"through parameter {PARAMETER}" in deployed["reason"]

        _, second = register(cloud, 2)
        approve(cloud, 2)
        assert ssm.get_parameter(Name=PARAMETER)["Parameter"]["Value"] == second

        cloud.set_alarm(ALARM, "ALARM")
        cloud.run_until_quiet()
        assert ssm.get_parameter(Name=PARAMETER)["Parameter"]["Value"] == first
        assert len(entries(cloud, "rolled_back")) == 1
        # No custom model deployment exists in this mode
        listed = cloud.client("bedrock").list_custom_model_deployments()
        assert listed["modelDeploymentSummaries"] == []
