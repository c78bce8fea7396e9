"""`aiops policy publish --stack`: wherever the stack reads its policy (its PolicyStore), and
`--appconfig` by names; on moto, with the runtime's AppConfig patch."""

from __future__ import annotations

import json
from typing import Any

import boto3

from aiops_cli.main import main
from tests.support.template import ROOT

DEFAULT = str(ROOT / "policies" / "default.yaml")
REGION = "us-east-1"


def a_stack(store: str, outputs: dict[str, str] | None = None) -> None:
    """A deployed control plane as `--stack` reads it: its PolicyStore and PolicyParameterName
    parameters, and the AppConfig outputs."""
    template = {
        "Parameters": {
            "PolicyStore": {"Type": "String"},
            "PolicyParameterName": {"Type": "String"},
        },
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {name: {"Value": value} for name, value in (outputs or {}).items()},
    }
    boto3.client("cloudformation", region_name=REGION).create_stack(
        StackName="aiops-dev",
        TemplateBody=json.dumps(template),
        Parameters=[
            {"ParameterKey": "PolicyStore", "ParameterValue": store},
            {"ParameterKey": "PolicyParameterName", "ParameterValue": "/aiops/dev/policy"},
        ],
    )


def appconfig_stack() -> dict[str, str]:
    client = boto3.client("appconfig", region_name=REGION)
    app = client.create_application(Name="aiops-dev")["Id"]
    env = client.create_environment(ApplicationId=app, Name="dev")["Id"]
    profile = client.create_configuration_profile(
        ApplicationId=app, Name="policy", LocationUri="hosted", Type="AWS.Freeform"
    )["Id"]
    strategy = client.create_deployment_strategy(
        Name="aiops-dev-policy",
        DeploymentDurationInMinutes=0,
        GrowthFactor=100,
        FinalBakeTimeInMinutes=0,
        ReplicateTo="NONE",
    )["Id"]
    return {
        "PolicyApplicationId": app,
        "PolicyEnvironmentId": env,
        "PolicyProfileId": profile,
        "PolicyDeploymentStrategyId": strategy,
    }


def deployed(ids: dict[str, str]) -> list[dict[str, Any]]:
    return list(
        boto3.client("appconfig", region_name=REGION).list_deployments(
            ApplicationId=ids["PolicyApplicationId"], EnvironmentId=ids["PolicyEnvironmentId"]
        )["Items"]
    )


def test_given_a_stack_on_the_ssm_store_when_published_then_its_parameter_holds_it(
    aws_with_appconfig, capsys
):
    a_stack("ssm")

    status = main(["policy", "publish", DEFAULT, "--stack", "aiops-dev"])

    assert status == 0, capsys.readouterr().err
    value = boto3.client("ssm", region_name=REGION).get_parameter(Name="/aiops/dev/policy")
    assert json.loads(value["Parameter"]["Value"])["models"]["churn"]["kind"] == "sagemaker"


def test_given_a_stack_on_appconfig_when_published_then_its_profile_gets_the_policy_as_json(
    aws_with_appconfig, capsys
):
    ids = appconfig_stack()
    a_stack("appconfig", ids)

    status = main(["policy", "publish", DEFAULT, "--stack", "aiops-dev"])

    out, err = capsys.readouterr()
    assert status == 0, err
    assert "deployment 1 (" in out
    (deployment,) = deployed(ids)
    assert deployment["State"] == "COMPLETE"
    version = boto3.client("appconfig", region_name=REGION).get_hosted_configuration_version(
        ApplicationId=ids["PolicyApplicationId"],
        ConfigurationProfileId=ids["PolicyProfileId"],
        VersionNumber=1,
    )
    assert version["ContentType"] == "application/json"
    assert json.loads(version["Content"].read())["models"]["churn"]["pipeline"] == "churn-train"


def test_given_names_when_published_to_appconfig_without_waiting_then_it_reports_it_started(
    aws_with_appconfig, capsys
):
    ids = appconfig_stack()

    status = main(
        ["policy", "publish", DEFAULT, "--appconfig", "aiops-dev/dev/policy", "--no-wait"]
    )

    out, err = capsys.readouterr()
    assert status == 0, err
    assert out.rstrip().endswith("deployment 1 (AppConfig.AllAtOnce): BAKING")
    assert [d["State"] for d in deployed(ids)] == ["BAKING"]


def test_given_an_unknown_profile_when_published_then_exit_3_naming_it(aws_with_appconfig, capsys):
    appconfig_stack()

    status = main(["policy", "publish", DEFAULT, "--appconfig", "aiops-dev/dev/nope"])

    assert status == 3
    assert "no AppConfig configuration profile 'nope'" in capsys.readouterr().err


def test_given_a_stack_without_its_appconfig_outputs_when_published_then_exit_3(
    aws_with_appconfig, capsys
):
    a_stack("appconfig")

    status = main(["policy", "publish", DEFAULT, "--stack", "aiops-dev"])

    assert status == 3
    assert "has no output PolicyApplicationId" in capsys.readouterr().err


def test_given_an_invalid_policy_when_published_to_appconfig_then_nothing_is_created(
    aws_with_appconfig, tmp_path, capsys
):
    ids = appconfig_stack()
    bad = tmp_path / "bad.yaml"
    bad.write_text((ROOT / "policies" / "default.yaml").read_text().replace("0.70", ".nan"))

    status = main(["policy", "publish", str(bad), "--appconfig", "aiops-dev/dev/policy"])

    assert status == 1
    assert "models.churn.gate.floor: Input should be a finite number" in capsys.readouterr().err
    assert deployed(ids) == []


def test_given_more_applications_than_a_page_holds_when_published_by_name_then_found(
    aws_with_appconfig, capsys
):
    # Given 60 other applications created before the stack's (AppConfig lists 50 a page)
    client = boto3.client("appconfig", region_name=REGION)
    for n in range(60):
        client.create_application(Name=f"other-{n:02d}")
    ids = appconfig_stack()

    # When published by the application's, environment's and profile's names
    status = main(
        ["policy", "publish", DEFAULT, "--appconfig", "aiops-dev/dev/policy", "--no-wait"]
    )

    # Then the stack's application is found on a later page
    assert status == 0, capsys.readouterr().err
    assert len(deployed(ids)) == 1
