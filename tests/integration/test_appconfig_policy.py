"""The policy in AWS AppConfig (the template's PolicyStore appconfig), offline: published with
`aiops policy publish`, checked by the stack's validator before it applies, rolled back by the
control plane's alarm during its bake, and read by the control plane's functions through the
template's wiring (Powertools Parameters)."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from aiops.adapters.policy_source import AppConfigPolicySource
from aiops.policy import Policy
from aiops_cli import status_cmd
from aiops_cli.policy_cmd import (
    APPCONFIG_HOSTED_MAX_BYTES,
    EXIT_ROLLED_BACK,
    SSM_ADVANCED_MAX_BYTES,
    publish_appconfig,
)
from aiops_local.cloud import LocalCloud
from aiops_local.template import CloudTemplate
from bench.policies import generated_policy
from tests.support.template import ROOT

DEFAULT = (ROOT / "policies" / "default.yaml").read_text()


@pytest.fixture
def cloud() -> Iterator[LocalCloud]:
    """The project's stack offline with PolicyStore appconfig: the default policy deployed."""
    with LocalCloud(ROOT / "template.yaml", parameters={"PolicyStore": "appconfig"}) as cloud:
        yield cloud


def where(cloud: LocalCloud) -> tuple[str, str, str, str]:
    """The stack's application, environment, profile and deployment strategy ids."""
    template = cloud.template
    return (
        str(template.get_att("PolicyApplication", "ApplicationId")),
        str(template.get_att("PolicyEnvironment", "EnvironmentId")),
        str(template.get_att("PolicyProfile", "ConfigurationProfileId")),
        str(template.get_att("PolicyDeploymentStrategy", "Id")),
    )


def served(cloud: LocalCloud) -> Policy:
    """The policy a function starting now would read."""
    application, environment, profile, _ = where(cloud)
    return AppConfigPolicySource(
        application, environment, profile, 0, cloud.client("appconfigdata")
    ).load()


def deployments(cloud: LocalCloud) -> list[dict[str, object]]:
    application, environment, _, _ = where(cloud)
    listed = cloud.client("appconfig").list_deployments(
        ApplicationId=application, EnvironmentId=environment
    )
    return list(reversed(listed["Items"]))


def test_given_a_1000_model_policy_when_published_through_appconfig_then_a_handler_reads_it(
    cloud, tmp_path: Path, capsys
):
    # Given a generated policy of 1,000 models: far beyond an SSM parameter, within AppConfig's
    # 1 MB (as JSON, the form `aiops policy publish` sends; its YAML is some 950 KB)
    text = generated_policy(1000, as_json=True)
    assert SSM_ADVANCED_MAX_BYTES < len(text.encode()) < APPCONFIG_HOSTED_MAX_BYTES
    path = tmp_path / "policy-1000.json"
    path.write_text(text)
    application, environment, profile, strategy = where(cloud)

    # When it is published with the stack's strategy, not waiting for the bake to end
    status = publish_appconfig(
        path, application, environment, profile, strategy, wait=False, clients=cloud.client
    )

    # Then the stack's validator accepted it and it is deployed (all at once, now baking)
    out, err = capsys.readouterr()
    assert status == 0, err
    assert "deployment 2 (" in out
    assert [d["State"] for d in deployments(cloud)] == ["COMPLETE", "BAKING"]
    (accepted,) = cloud.timeline.find("invoke", function="PolicyValidatorFunction")[1:]
    assert accepted["text"].endswith("accepted: 1000 models, 876024 bytes")
    # And the new-data function, reading through its template variables, knows a model only the
    # generated policy declares
    cloud.put_object("TrainingDataBucket", "raw/model-0998/part-1.csv", size=1024)
    # A second, not the bake's 30 minutes: the sweeps over a thousand models are not the point.
    cloud.advance("1s")
    (invoke,) = cloud.timeline.find("invoke", function="NewDataFunction")
    assert (invoke["status"], invoke["action"]) == ("ok", "added")
    calls = {e["operation"] for e in cloud.timeline.find("api", function="NewDataFunction")}
    assert {"StartConfigurationSession", "GetLatestConfiguration"} <= calls
    assert "GetParameter" not in calls
    handler = cloud.invoker.loaded_module("NewDataFunction")
    assert len(handler.STACK.policy.load().models) == 1000


def test_given_a_bad_policy_when_deployed_then_the_validator_refuses_it_and_the_previous_stays(
    cloud,
):
    # Given a version whose churn gate floor is not a number, stored without our check
    application, environment, profile, strategy = where(cloud)
    appconfig = cloud.client("appconfig")
    bad = DEFAULT.replace("floor: 0.70", "floor: .nan")
    version = appconfig.create_hosted_configuration_version(
        ApplicationId=application,
        ConfigurationProfileId=profile,
        Content=bad.encode(),
        ContentType="application/x-yaml",
    )

    # When its deployment starts
    with pytest.raises(ClientError) as refused:
        appconfig.start_deployment(
            ApplicationId=application,
            EnvironmentId=environment,
            DeploymentStrategyId=strategy,
            ConfigurationProfileId=profile,
            ConfigurationVersion=str(version["VersionNumber"]),
        )

    # Then the stack's validator refused it, naming the field, before anything applied
    response = refused.value.response
    assert (response["Error"]["Code"], response["Reason"]) == (
        "BadRequestException",
        "InvalidConfiguration",
    )
    (detail,) = response["Details"]["InvalidConfiguration"]
    assert detail["Type"] == "LAMBDA"
    assert "models.churn.gate.floor: Input should be a finite number" in detail["Reason"]
    refusal = cloud.timeline.find("invoke", function="PolicyValidatorFunction", status="error")
    assert len(refusal) == 1
    assert [d["State"] for d in deployments(cloud)] == ["COMPLETE"]
    assert served(cloud).models["churn"].gate.floor == 0.70


def test_given_a_policy_baking_when_the_policy_deployment_alarm_fires_then_it_is_rolled_back(
    cloud, tmp_path: Path, capsys
):
    # Given churn's window cut from 5 objects to 3, published with the stack's strategy
    path = tmp_path / "policy.yaml"
    path.write_text(DEFAULT.replace("window: {objects: 5,", "window: {objects: 3,"))
    application, environment, profile, strategy = where(cloud)
    alarm = str(cloud.template.ref("PolicyDeploymentAlarm"))

    def alarm_fires_as_time_passes(seconds: float) -> None:
        cloud.set_alarm(alarm, "ALARM", "a retrain run failed")
        cloud.advance(seconds)

    # When the control plane's alarm fires while it bakes
    status = publish_appconfig(
        path,
        application,
        environment,
        profile,
        strategy,
        clients=cloud.client,
        sleep=alarm_fires_as_time_passes,
    )

    # Then AppConfig rolled it back, saying which alarm, and the previous policy is served
    err = capsys.readouterr().err
    assert status == EXIT_ROLLED_BACK
    assert "deployment 2 ROLLED_BACK: Rollback initiated by CloudWatch alarm: " in err
    assert alarm in err
    rolled_back = cloud.client("appconfig").get_deployment(
        ApplicationId=application, EnvironmentId=environment, DeploymentNumber=2
    )
    assert rolled_back["State"] == "ROLLED_BACK"
    assert [e["TriggeredBy"] for e in rolled_back["EventLog"][:2]] == [
        "APPCONFIG",
        "CLOUDWATCH_ALARM",
    ]
    assert served(cloud).sagemaker_models()["churn"].data.window.objects == 5


# ---------------------------------------------------------------------- the template's wiring
def _references(node: Any, names: set[str]) -> set[str]:
    """The resources `node` refers to (Ref, GetAtt, Sub): what CloudFormation orders it after."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and value in names:
                found.add(value)
            elif key == "Fn::GetAtt":
                found.add(value[0] if isinstance(value, list) else value.split(".")[0])
            elif key == "Fn::Sub":
                text = value[0] if isinstance(value, list) else value
                found |= set(re.findall(r"\$\{([A-Za-z0-9]+)", text)) & names
                found |= _references(value[1] if isinstance(value, list) else {}, names)
            else:
                found |= _references(value, names)
    elif isinstance(node, list):
        for value in node:
            found |= _references(value, names)
    return found & names


def test_the_template_has_no_circular_dependency_with_either_store() -> None:
    # Every function's environment names the AppConfig resources (Globals): the validator, the
    # environment's alarm and the read grant must not lead back to a function.
    resources = CloudTemplate(ROOT / "template.yaml").expanded["Resources"]
    names = set(resources)
    after = {
        name: _references(body.get("Properties", {}), names)
        | set([body["DependsOn"]] if isinstance(body.get("DependsOn"), str) else [])
        | set(body.get("DependsOn") or [] if isinstance(body.get("DependsOn"), list) else [])
        for name, body in resources.items()
    }
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, " -> ".join((*path, name))
        if name in done:
            return
        for dependency in sorted(after[name]):
            visit(dependency, (*path, name))
        done.add(name)

    for name in sorted(after):
        visit(name, ())


def test_the_policy_environment_watches_the_policy_deployment_alarm() -> None:
    template = CloudTemplate(ROOT / "template.yaml", {"PolicyStore": "appconfig"})

    (monitor,) = template.properties("PolicyEnvironment")["Monitors"]
    validator = template.properties("PolicyProfile")["Validators"][0]["Content"]

    assert monitor["AlarmArn"] == template.get_att("PolicyDeploymentAlarm", "Arn")
    assert validator == template.get_att("PolicyValidatorFunction", "Arn")
    role = template.properties("PolicyRollbackRole")["Policies"][0]["PolicyDocument"]
    # DescribeAlarms returns a composite alarm only to a permission scoped to every alarm
    assert role["Statement"] == [
        {"Effect": "Allow", "Action": "cloudwatch:DescribeAlarms", "Resource": "*"}
    ]
    assert template.properties("PolicyProfile")["Type"] == "AWS.Freeform"


def test_given_a_stack_reading_its_policy_from_appconfig_then_the_cli_reads_it_there_too(
    cloud, monkeypatch
):
    # Given a stack with PolicyStore appconfig (its outputs name the application, environment
    # and profile) and the CLI's AWS clients reaching the offline cloud
    application, environment, profile, _ = where(cloud)
    outputs = dict(
        zip(status_cmd.APPCONFIG_OUTPUTS, (application, environment, profile), strict=True)
    )
    monkeypatch.setattr(status_cmd, "_client", lambda service, region: cloud.client(service))
    args = argparse.Namespace(stack="aiops-dev", region=None)

    # When the CLI reads the stack's policy
    policy = status_cmd._stack_policy(args, "/aiops/dev/policy", outputs, "appconfig")

    # Then it is the deployed one, not the SSM parameter's (which this stack does not use)
    assert policy == served(cloud)
    assert "churn" in policy.models


def test_given_a_stack_in_appconfig_without_its_outputs_then_the_cli_says_which_is_missing(
    cloud, monkeypatch
):
    monkeypatch.setattr(status_cmd, "_client", lambda service, region: cloud.client(service))
    args = argparse.Namespace(stack="aiops-dev", region=None)

    with pytest.raises(status_cmd.CommandError, match="has no output PolicyApplicationId"):
        status_cmd._stack_policy(args, "/aiops/dev/policy", {}, "appconfig")
