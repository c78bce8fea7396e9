"""Shared setup for the deploy e2e tests: an offline cloud on the canary policy, driven through
the real entry points (uploads, the event bus, alarms), and helpers to read what it did."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from aiops_local import LocalCloud

ROOT = Path(__file__).resolve().parents[3]
CANARY_POLICY = ROOT / "scenarios" / "policies" / "churn_canary.yaml"
APPROVED_EVENT = ROOT / "events" / "sagemaker_model_package_approved.json"
ENDPOINT = "churn-prod"


@contextmanager
def canary_cloud(
    policy: Path = CANARY_POLICY, parameters: dict[str, str] | None = None
) -> Iterator[LocalCloud]:
    with LocalCloud(
        template=ROOT / "template.yaml",
        policy=policy,
        parameters=parameters,
        start=None,
        simulators={"sagemaker_pipeline": {"duration": "20m", "metrics": {"auc": 0.81}}},
    ) as cloud:
        yield cloud


def upload_window(cloud: LocalCloud, name: str) -> None:
    """Five objects: a full window, so a run, a candidate, the gate (no human) and a deploy."""
    for n in range(1, 6):
        cloud.put_object(
            cloud.bucket("TrainingDataBucket"), f"raw/churn/{name}-{n}.csv", size=1_048_576
        )
    cloud.run_until_quiet()


def actions(cloud: LocalCloud) -> list[str]:
    return [e["action"] for e in cloud.ledger("churn")]


def entries(cloud: LocalCloud, action: str) -> list[dict[str, Any]]:
    return [e for e in cloud.ledger("churn") if e["action"] == action]


def approved_event(cloud: LocalCloud, version: int) -> dict[str, Any]:
    """The real-shaped approval event for churn `version`, as SageMaker would send it."""
    event = copy.deepcopy(json.loads(APPROVED_EVENT.read_text()))
    arn = cloud.resolve_package(f"churn/{version}")
    event["detail"].update(
        {"ModelPackageVersion": version, "ModelPackageArn": arn, "ModelPackageGroupName": "churn"}
    )
    event["resources"] = [arn]
    return event


def serving_config(cloud: LocalCloud) -> str:
    return str(
        cloud.client("sagemaker").describe_endpoint(EndpointName=ENDPOINT)["EndpointConfigName"]
    )


def deploy_executions(cloud: LocalCloud) -> list[Any]:
    return cloud.executions("DeployStateMachine")
