"""`aiops status`: what each model's endpoint serves, offline on the deploy scenarios' clouds."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from aiops.adapters.deploy_store import DynamoDeployStore
from aiops.deploy.model import Deployed, KnownGood
from aiops_cli.main import main
from aiops_cli.status_cmd import CONTROL_TABLE_OUTPUT, LEDGER_TABLE_OUTPUT
from tests.support.template import ROOT

CANARY_PROMOTED = str(ROOT / "scenarios" / "deploy_canary_promoted.yaml")
ROLLED_BACK_BY_ALARM = str(ROOT / "scenarios" / "rollback_after_window.yaml")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_given_v2_promoted_by_canary_when_status_is_shown_then_v2_serves_and_v1_is_a_known_good(
    capsys,
):
    status, out, err = run(capsys, "status", "--local", CANARY_PROMOTED)

    assert status == 0, err
    lines = out.splitlines()
    assert lines[0] == "churn: endpoint churn-prod (canary)"
    rows = {line.split(":", 1)[0].strip(): line.split(":", 1)[1].strip() for line in lines[1:]}
    assert rows["deployed"].startswith("v2 since 2026-11-20 03:05 UTC, by canary; EndpointConfig ")
    assert rows["endpoint"].startswith("InService on aiops-churn-v2-")
    assert rows["last good"].startswith("v2 (promoted ")
    assert rows["other good"].startswith("v1 (promoted ")
    assert "revoked" not in out
    assert rows["in flight"] == "none"
    assert rows["approvals"] == "none pending"
    assert rows["locks"] == "run: free; endpoint: free"
    assert rows["last run"].startswith("run_succeeded ")


def test_given_v2_promoted_by_canary_when_status_is_asked_as_json_then_one_object_per_model(
    capsys,
):
    status, out, err = run(capsys, "status", "churn", "--local", CANARY_PROMOTED, "--json")

    assert status == 0, err
    document = json.loads(out)
    (churn,) = document["models"]
    assert (churn["model"], churn["endpoint"], churn["strategy"]) == (
        "churn",
        "churn-prod",
        "canary",
    )
    deployed = churn["deployed"]
    assert (deployed["version"], deployed["how"], deployed["applied"]) == (2, "canary", True)
    assert churn["endpoint_state"]["endpoint_config"] == deployed["endpoint_config"]
    assert churn["last_known_good"]["version"] == 2
    assert [(g["version"], g["revoked"]) for g in churn["other_known_goods"]] == [(1, None)]
    assert churn["other_known_goods"][0]["endpoint_config"] != deployed["endpoint_config"]
    assert churn["in_flight"] is None
    assert churn["waiting"] is None
    assert churn["pending_approvals"] == []
    assert churn["run_lock"] is None
    assert churn["endpoint_lock"] is None
    assert churn["last_run"]["action"] == "run_succeeded"
    assert churn["last_run"]["run_id"].startswith("churn-")
    assert "task_token" not in out


def test_given_v2_rolled_back_by_its_alarm_when_status_is_shown_then_v1_serves_and_v2_is_revoked(
    capsys,
):
    status, out, err = run(capsys, "status", "--local", ROLLED_BACK_BY_ALARM, "--json")

    assert status == 0, err
    (churn,) = json.loads(out)["models"]
    deployed = churn["deployed"]
    assert (deployed["version"], deployed["how"]) == (1, "rollback")
    assert deployed["cause"]["alarm"] == "churn-prod-latency-p99"
    assert deployed["cause"]["from_version"] == 2
    assert churn["endpoint_state"]["endpoint_config"] == deployed["endpoint_config"]
    assert churn["last_known_good"]["version"] == 1
    (revoked,) = churn["other_known_goods"]
    assert revoked["version"] == 2
    assert "alarm churn-prod-latency-p99: rolled back churn-prod: v2 → v1" in revoked["revoked"]


def test_given_a_model_the_policy_does_not_have_when_status_is_asked_then_exit_2_naming_churn(
    capsys,
):
    status, out, err = run(capsys, "status", "fraud", "--local", CANARY_PROMOTED)

    assert (status, out) == (2, "")
    assert "model fraud is not a SageMaker model of the policy (its SageMaker models: churn)" in err


def test_given_an_unknown_stack_when_status_is_asked_then_exit_2_naming_it(aws, capsys):
    status, out, err = run(capsys, "status", "--stack", "nope", "--region", "us-east-1")

    assert (status, out) == (2, "")
    assert "stack nope does not exist" in err


# ------------------------------------------------------------------ AWS (moto): --stack

STACK = "aiops-test"
POLICY_PARAMETER = "/aiops/test/policy"
POLICY = ROOT / "scenarios" / "policies" / "churn_canary.yaml"
AT = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def a_stack(tables: dict[str, str]) -> None:
    """A deployed stack as the deploy commands read it: the outputs naming the tables and the
    alerts topic, the PolicyParameterName parameter, and the policy in that SSM parameter."""
    boto3.client("ssm", region_name="us-east-1").put_parameter(
        Name=POLICY_PARAMETER, Value=POLICY.read_text(), Type="String"
    )
    stack = {
        "Parameters": {"PolicyParameterName": {"Type": "String"}},
        "Resources": {"AlertsTopic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {
            CONTROL_TABLE_OUTPUT: {"Value": tables["ControlTable"]},
            LEDGER_TABLE_OUTPUT: {"Value": tables["LedgerTable"]},
            "AlertsTopicArn": {"Value": {"Ref": "AlertsTopic"}},
        },
    }
    boto3.client("cloudformation", region_name="us-east-1").create_stack(
        StackName=STACK,
        TemplateBody=json.dumps(stack),
        Parameters=[{"ParameterKey": "PolicyParameterName", "ParameterValue": POLICY_PARAMETER}],
    )


def promoted(tables: dict[str, str], *versions: int) -> dict[int, str]:
    """`versions` promoted on churn-prod one after the other, as the deploy workflow records
    them, each with its EndpointConfig in SageMaker; version → EndpointConfig."""
    sagemaker = boto3.client("sagemaker", region_name="us-east-1")
    store = DynamoDeployStore(tables["ControlTable"])
    configs = {}
    for index, version in enumerate(versions):
        arn = f"arn:aws:sagemaker:us-east-1:123456789012:model-package/churn/{version}"
        name = f"aiops-churn-v{version}-0000000{version}"
        sagemaker.create_model(
            ModelName=name,
            PrimaryContainer={"Image": "churn:latest", "ModelDataUrl": "s3://models/churn.tgz"},
            ExecutionRoleArn="arn:aws:iam::123456789012:role/model",
        )
        sagemaker.create_endpoint_config(
            EndpointConfigName=name,
            ProductionVariants=[
                {
                    "VariantName": "AllTraffic",
                    "ModelName": name,
                    "InstanceType": "ml.m5.large",
                    "InitialInstanceCount": 2,
                }
            ],
        )
        at = AT + timedelta(hours=index)
        store.promote(
            Deployed(
                model="churn",
                endpoint="churn-prod",
                version=version,
                package_arn=arn,
                endpoint_config=name,
                model_name=name,
                since=at,
                how="created" if index == 0 else "canary",
            ),
            KnownGood(
                version=version,
                package_arn=arn,
                endpoint_config=name,
                model_name=name,
                promoted_at=at,
            ),
        )
        configs[version] = name
    return configs


def test_given_a_stack_with_v2_promoted_when_status_is_shown_then_the_outputs_lead_to_it(
    tables, capsys
):
    a_stack(tables)
    promoted(tables, 1, 2)

    status, out, err = run(capsys, "status", "--stack", STACK, "--region", "us-east-1", "--json")

    assert status == 0, err
    (churn,) = json.loads(out)["models"]
    assert (churn["deployed"]["version"], churn["deployed"]["how"]) == (2, "canary")
    assert churn["endpoint_state"] == {
        "status": None,
        "endpoint_config": None,
        "pending_config": None,
        "failure_reason": None,
        "error": "not found",
    }
    assert churn["last_known_good"]["version"] == 2
    assert [g["version"] for g in churn["other_known_goods"]] == [1]
    assert churn["last_run"] is None


def test_given_a_stack_without_the_policy_parameter_when_status_is_asked_then_exit_2(
    tables, capsys
):
    a_stack(tables)
    boto3.client("ssm", region_name="us-east-1").delete_parameter(Name=POLICY_PARAMETER)

    status, out, err = run(capsys, "status", "--stack", STACK, "--region", "us-east-1")

    assert (status, out) == (2, "")
    assert f"the policy parameter {POLICY_PARAMETER} of stack {STACK} does not exist" in err
