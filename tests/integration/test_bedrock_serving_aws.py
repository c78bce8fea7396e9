"""Bedrock serving on moto: the offline runtime's custom model deployment patch (AWS's statuses
and refusals), its simulator in virtual time, and the adapters (Bedrock, SSM, the control
table) the deploy functions act through."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.bedrock.models import CustomModel, bedrock_backends
from moto.bedrock.responses import BedrockResponse

from aiops.adapters.bedrock_serving import (
    BedrockCustomModelDeployments,
    DynamoServingStore,
    SsmServingParameters,
)
from aiops.deploy.model import DeploymentRequest, Served, ServedGood
from aiops_local import LocalCloud
from aiops_local.patches import bedrock_deployments
from aiops_local.patches.base import Patcher, PatchError
from tests.support.template import ROOT, create_tables

REGION = "us-east-1"
ACCOUNT = "123456789012"
T0 = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


def custom_model(n: int, account: str = ACCOUNT, region: str = REGION) -> str:
    model = CustomModel(
        f"m{n}",
        f"job{n}",
        f"arn:aws:bedrock:{region}:{account}:model-customization-job/job{n}",
        f"arn:aws:bedrock:{region}::foundation-model/amazon.nova-lite-v1:0",
        {},
        {},
        {},
        {},
        "amazon.nova-lite-v1:0",
        region,
        account,
        "FINE_TUNING",
        None,
        None,
        None,
    )
    model.model_arn = (
        f"arn:aws:bedrock:{region}:{account}:custom-model/"
        f"amazon.nova-lite-v1:0:300k/abcdefghij{n:02d}"
    )
    bedrock_backends[account][region].custom_models[model.model_name] = model
    return model.model_arn


@pytest.fixture
def patched() -> Iterator[Any]:
    with mock_aws():
        patcher = Patcher()
        bedrock_deployments.install(patcher)
        try:
            yield boto3.client("bedrock", region_name=REGION)
        finally:
            patcher.restore()


def code(error: ClientError) -> str:
    return str(error.response["Error"]["Code"])


def test_moto_still_lacks_custom_model_deployments_so_the_patch_adds_them() -> None:
    # Guard: once moto implements one, `Patcher.add` refuses and this fails loudly.
    for name in (
        "create_custom_model_deployment",
        "get_custom_model_deployment",
        "update_custom_model_deployment",
        "list_custom_model_deployments",
        "delete_custom_model_deployment",
    ):
        assert not hasattr(BedrockResponse, name)
    patcher = Patcher()
    bedrock_deployments.install(patcher)
    try:
        with pytest.raises(PatchError):
            bedrock_deployments.install(Patcher())
    finally:
        patcher.restore()


def test_a_deployment_is_created_then_active_and_an_update_keeps_its_arn(patched: Any) -> None:
    first, second = custom_model(1), custom_model(2)
    deployments = BedrockCustomModelDeployments(patched)

    arn = deployments.create("aiops-support", first, {"aiops:model": "support"}, "token-1")
    creating = deployments.get("aiops-support")
    bedrock_deployments.finish_creation(ACCOUNT, REGION, arn, T0)
    active = deployments.get(arn)
    deployments.update(arn, second)
    updating = deployments.get("aiops-support")
    bedrock_deployments.finish_update(ACCOUNT, REGION, arn, T0 + timedelta(minutes=5))
    updated = deployments.get("aiops-support")

    assert arn.startswith(f"arn:aws:bedrock:{REGION}:{ACCOUNT}:custom-model-deployment/")
    assert len(arn.rsplit("/", 1)[1]) == 12
    assert creating is not None and (creating.status, creating.model_arn) == ("Creating", first)
    assert active is not None and active.status == "Active"
    assert updating is not None and (updating.model_arn, updating.update_status) == (
        first,
        "Updating",
    )
    assert updated is not None and updated.arn == arn
    assert (updated.model_arn, updated.update_status) == (second, "UpdateCompleted")


def test_the_same_client_request_token_creates_nothing_new(patched: Any) -> None:
    deployments = BedrockCustomModelDeployments(patched)
    model = custom_model(1)

    first = deployments.create("aiops-support", model, {}, "token-1")
    again = deployments.create("aiops-support", model, {}, "token-1")

    assert first == again
    assert len(patched.list_custom_model_deployments()["modelDeploymentSummaries"]) == 1


@pytest.mark.parametrize(
    ("arrange", "call", "expected"),
    [
        ("none", "create_unknown_model", "ResourceNotFoundException"),
        ("none", "create_bad_name", "ValidationException"),
        ("created", "create_same_name", "ValidationException"),
        ("created", "update_while_creating", "ValidationException"),
        ("active", "update_twice", "ValidationException"),
        ("none", "update_unknown", "ResourceNotFoundException"),
        ("none", "get_unknown", "ResourceNotFoundException"),
        ("created", "delete_while_creating", "ConflictException"),
    ],
)
def test_the_patch_refuses_what_bedrock_refuses(
    patched: Any, arrange: str, call: str, expected: str
) -> None:
    model, other = custom_model(1), custom_model(2)
    if arrange != "none":
        arn = patched.create_custom_model_deployment(modelDeploymentName="d1", modelArn=model)[
            "customModelDeploymentArn"
        ]
        if arrange == "active":
            bedrock_deployments.finish_creation(ACCOUNT, REGION, arn, T0)
            patched.update_custom_model_deployment(
                customModelDeploymentIdentifier="d1", modelArn=other
            )
    unknown = model.replace("abcdefghij01", "zzzzzzzzzz99")
    calls = {
        "create_unknown_model": lambda: patched.create_custom_model_deployment(
            modelDeploymentName="d2", modelArn=unknown
        ),
        "create_bad_name": lambda: patched.create_custom_model_deployment(
            modelDeploymentName="bad--name", modelArn=model
        ),
        "create_same_name": lambda: patched.create_custom_model_deployment(
            modelDeploymentName="d1", modelArn=model
        ),
        "update_while_creating": lambda: patched.update_custom_model_deployment(
            customModelDeploymentIdentifier="d1", modelArn=other
        ),
        "update_twice": lambda: patched.update_custom_model_deployment(
            customModelDeploymentIdentifier="d1", modelArn=model
        ),
        "update_unknown": lambda: patched.update_custom_model_deployment(
            customModelDeploymentIdentifier="nope", modelArn=model
        ),
        "get_unknown": lambda: patched.get_custom_model_deployment(
            customModelDeploymentIdentifier="nope"
        ),
        "delete_while_creating": lambda: patched.delete_custom_model_deployment(
            customModelDeploymentIdentifier="d1"
        ),
    }

    with pytest.raises(ClientError) as caught:
        calls[call]()

    assert code(caught.value) == expected


def test_a_failed_update_leaves_the_old_model_serving_with_bedrocks_message(patched: Any) -> None:
    first, second = custom_model(1), custom_model(2)
    deployments = BedrockCustomModelDeployments(patched)
    arn = deployments.create("d1", first, {}, "t")
    bedrock_deployments.finish_creation(ACCOUNT, REGION, arn, T0)
    deployments.update("d1", second)

    bedrock_deployments.finish_update(ACCOUNT, REGION, arn, T0, failure="Model failed")

    view = deployments.get("d1")
    assert view is not None
    assert (view.model_arn, view.update_status, view.failure_message) == (
        first,
        "UpdateFailed",
        "Model failed",
    )
    assert view.outcome(second) == "failed" and view.outcome(first) == "serving"


def test_list_filters_and_delete_removes(patched: Any) -> None:
    model = custom_model(1)
    arn = patched.create_custom_model_deployment(modelDeploymentName="d1", modelArn=model)[
        "customModelDeploymentArn"
    ]
    patched.create_custom_model_deployment(modelDeploymentName="other", modelArn=model)
    bedrock_deployments.finish_creation(ACCOUNT, REGION, arn, T0)

    active = patched.list_custom_model_deployments(statusEquals="Active")
    named = patched.list_custom_model_deployments(nameContains="oth")
    patched.delete_custom_model_deployment(customModelDeploymentIdentifier="d1")

    assert [s["customModelDeploymentName"] for s in active["modelDeploymentSummaries"]] == ["d1"]
    assert [s["customModelDeploymentName"] for s in named["modelDeploymentSummaries"]] == ["other"]
    assert BedrockCustomModelDeployments(patched).get("d1") is None


def test_the_simulator_ends_a_creation_and_an_update_after_provision_in_virtual_time() -> None:
    with LocalCloud(
        template=ROOT / "template.yaml",
        policy=ROOT / "scenarios" / "policies" / "support_assistant.yaml",
        start=None,
        simulators={"bedrock_deployment": {"provision": "3m", "next": [{}, {"fail": "nope"}]}},
    ) as cloud:
        first, second = custom_model(1, cloud.account), custom_model(2, cloud.account)
        bedrock = cloud.client("bedrock")
        arn = bedrock.create_custom_model_deployment(modelDeploymentName="d1", modelArn=first)[
            "customModelDeploymentArn"
        ]
        cloud.advance("2m")
        assert bedrock.get_custom_model_deployment(customModelDeploymentIdentifier=arn)[
            "status"
        ] == ("Creating")
        cloud.advance("2m")
        assert bedrock.get_custom_model_deployment(customModelDeploymentIdentifier=arn)[
            "status"
        ] == ("Active")

        bedrock.update_custom_model_deployment(customModelDeploymentIdentifier=arn, modelArn=second)
        cloud.advance("4m")

        got = bedrock.get_custom_model_deployment(customModelDeploymentIdentifier=arn)
        assert got["updateDetails"] == {"modelArn": second, "updateStatus": "UpdateFailed"}
        assert (got["modelArn"], got["failureMessage"]) == (first, "nope")
        simulator: Any = cloud.simulators["bedrock_deployment"]
        assert [(c.kind, c.outcome) for c in simulator.changes] == [
            ("create", "succeeded"),
            ("update", "failed"),
        ]


def test_the_simulator_refuses_unknown_settings() -> None:
    with pytest.raises(ValueError, match="unknown settings"):
        LocalCloud(
            template=ROOT / "template.yaml",
            start=None,
            simulators={"bedrock_deployment": {"provison": "3m"}},
        ).start()


def test_the_serving_store_keeps_each_models_lock_and_history_under_its_own_key() -> None:
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        table = create_tables(dynamodb)["ControlTable"]
        store = DynamoServingStore(table, dynamodb)
        request = DeploymentRequest(
            model="support",
            endpoint="support",
            version=1,
            package_arn="arn:aws:sagemaker:us-east-1:123456789012:model-package/support/1",
            package_group="support",
            requested_at=T0,
            kind="bedrock",
            custom_model_arn="arn:aws:bedrock:us-east-1:123456789012:custom-model/x/abcdefghijkl",
        )
        served = Served(
            model="support",
            version=1,
            package_arn=request.package_arn,
            custom_model_arn=str(request.custom_model_arn),
            serving="custom_model_deployment",
            target="aiops-support",
            since=T0,
            how="created",
        )
        good = ServedGood(
            version=1,
            package_arn=request.package_arn,
            custom_model_arn=served.custom_model_arn,
            promoted_at=T0,
        )

        assert store.locks.claim(request, T0, timedelta(hours=1)).acquired
        store.promote(served, good)
        rolled = served.model_copy(update={"version": 0, "how": "rollback", "applied": False})
        assert store.roll_back(served, rolled, 1, "alarm")
        assert not store.roll_back(served, rolled, 1, "alarm")  # it no longer serves
        store.applied("support", 0)

        keys = {(i["pk"]["S"], i["sk"]["S"]) for i in dynamodb.scan(TableName=table)["Items"]}
        assert keys == {
            ("BEDROCK#support", "LOCK"),
            ("BEDROCK#support", "SERVED"),
            ("BEDROCK#support", "GOOD#0000000001"),
        }
        now_serving = store.served("support")
        assert now_serving is not None and (now_serving.version, now_serving.applied) == (0, True)
        assert store.known_goods("support")[0].revoked == "alarm"


def test_a_serving_parameter_is_written_as_a_string_and_overwritten() -> None:
    with mock_aws():
        ssm = boto3.client("ssm", region_name=REGION)
        parameters = SsmServingParameters(ssm)

        assert parameters.get("/aiops/support/model") is None
        parameters.put("/aiops/support/model", "arn:one")
        parameters.put("/aiops/support/model", "arn:two")

        got = ssm.get_parameter(Name="/aiops/support/model")["Parameter"]
        assert (got["Value"], got["Type"]) == ("arn:two", "String")
