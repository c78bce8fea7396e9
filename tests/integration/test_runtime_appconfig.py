"""The `appconfig` patch: AppConfig deployments and AppConfig Data offline, and the moto internals
it relies on, pinned (a moto upgrade that moves one fails here, naming it)."""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from aiops_local import LocalCloud
from aiops_local.functions import FunctionBinding
from aiops_local.patches import appconfig
from aiops_local.patches.base import Patcher

ACCOUNT, REGION = "123456789012", "us-east-1"
ALARM = "toy-control-plane"
ALARM_ARN = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{ALARM}"


# ---------------------------------------------------------------------- moto, pinned
def test_moto_lacks_appconfig_deployments_and_the_data_plane() -> None:
    # The reasons for the patch: if moto starts doing either, use moto's own.
    from moto.appconfig.responses import AppConfigResponse

    for name in ("create_environment", "create_deployment_strategy", "start_deployment"):
        assert not hasattr(AppConfigResponse, name)
    with mock_aws():
        data = boto3.client("appconfigdata", region_name=REGION)
        with pytest.raises(ClientError, match="404"):
            data.start_configuration_session(
                ApplicationIdentifier="a",
                EnvironmentIdentifier="e",
                ConfigurationProfileIdentifier="p",
            )


def test_the_moto_internals_the_patch_reads_are_as_it_expects() -> None:
    import moto.appconfig.urls as urls
    import moto.backend_index as backend_index
    from moto.appconfig.models import ConfigurationProfile, HostedConfigurationVersion
    from moto.appconfig.responses import AppConfigResponse
    from moto.awslambda.models import LambdaBackend
    from moto.cloudwatch.models import Alarm, CloudWatchBackend
    from moto.core import botocore_stubber

    # Routing: the stubber walks `backend_url_patterns` at each request, and a backend's urls
    # are its module's `url_bases` and `url_paths` combined, read at each request.
    assert isinstance(urls.url_bases, list)
    assert isinstance(urls.url_paths, dict)
    assert "backend_index.backend_url_patterns" in inspect.getsource(botocore_stubber)
    assert ("appconfig", "https?://appconfig\\.(.+)\\.amazonaws\\.com") in [
        (service, pattern.pattern) for service, pattern in backend_index.backend_url_patterns
    ]
    # Hosted versions: the content is the request's body, kept as it came.
    assert "content = self.body" in inspect.getsource(
        AppConfigResponse.create_hosted_configuration_version
    )
    assert list(inspect.signature(ConfigurationProfile.get_version).parameters) == [
        "self",
        "version",
    ]
    version = HostedConfigurationVersion("a", "p", 1, "", "x", "text/plain", "v1")
    assert (version.content, version.content_type, version.version_label) == (
        "x",
        "text/plain",
        "v1",
    )
    source = inspect.getsource(ConfigurationProfile.__init__)
    assert "self.validators = validators" in source
    assert "self.location_uri = location_uri" in source
    # Validators run through Lambda's backend: an error comes back as a response header.
    assert list(inspect.signature(LambdaBackend.invoke).parameters) == [
        "self",
        "function_name",
        "qualifier",
        "body",
        "headers",
        "response_headers",
    ]
    # Monitors: an alarm's state and whether its actions are enabled.
    assert "self.alarms: dict[str, Alarm] = {}" in inspect.getsource(CloudWatchBackend.__init__)
    alarm_init = inspect.getsource(Alarm.__init__)
    assert "self.state_value = " in alarm_init
    assert "self.actions_enabled = " in alarm_init


def test_the_patch_is_undone_when_restored() -> None:
    import moto.appconfig.urls as urls
    import moto.backend_index as backend_index
    from moto.appconfig.responses import AppConfigResponse

    before = (urls.url_bases, urls.url_paths, backend_index.backend_url_patterns)
    patcher = Patcher()
    appconfig.install(patcher)
    assert hasattr(AppConfigResponse, "start_deployment")
    patcher.restore()

    assert (urls.url_bases, urls.url_paths, backend_index.backend_url_patterns) == before
    assert not hasattr(AppConfigResponse, "start_deployment")


# ---------------------------------------------------------------------- behaviour
@pytest.fixture
def cloud(toy_project: Path) -> Iterator[LocalCloud]:
    with LocalCloud(toy_project) as cloud:
        yield cloud


def profile(cloud: LocalCloud, validators: list[dict[str, str]] | None = None) -> dict[str, str]:
    """An application, an environment watching ALARM, a hosted profile with versions 1 and 2."""
    client = cloud.client("appconfig")
    app = client.create_application(Name="toy")["Id"]
    env = client.create_environment(
        ApplicationId=app, Name="dev", Monitors=[{"AlarmArn": ALARM_ARN}]
    )["Id"]
    prof = client.create_configuration_profile(
        ApplicationId=app,
        Name="settings",
        LocationUri="hosted",
        Type="AWS.Freeform",
        Validators=validators or [],
    )["Id"]
    for content in (b"first", b"second"):
        client.create_hosted_configuration_version(
            ApplicationId=app,
            ConfigurationProfileId=prof,
            Content=content,
            ContentType="text/plain",
        )
    return {"ApplicationId": app, "EnvironmentId": env, "ConfigurationProfileId": prof}


def strategy(cloud: LocalCloud, minutes: int, growth: float, bake: int) -> str:
    return str(
        cloud.client("appconfig").create_deployment_strategy(
            Name=f"s{minutes}-{growth}-{bake}",
            DeploymentDurationInMinutes=minutes,
            GrowthFactor=growth,
            FinalBakeTimeInMinutes=bake,
            ReplicateTo="NONE",
        )["Id"]
    )


def deploy(cloud: LocalCloud, ids: dict[str, str], version: int, strategy_id: str) -> int:
    deployment = cloud.client("appconfig").start_deployment(
        **ids, ConfigurationVersion=str(version), DeploymentStrategyId=strategy_id
    )
    return int(deployment["DeploymentNumber"])


def deployment(cloud: LocalCloud, ids: dict[str, str], number: int) -> dict[str, Any]:
    return dict(
        cloud.client("appconfig").get_deployment(
            ApplicationId=ids["ApplicationId"],
            EnvironmentId=ids["EnvironmentId"],
            DeploymentNumber=number,
        )
    )


def session(cloud: LocalCloud, ids: dict[str, str]) -> str:
    return str(
        cloud.client("appconfigdata").start_configuration_session(
            ApplicationIdentifier=ids["ApplicationId"],
            EnvironmentIdentifier=ids["EnvironmentId"],
            ConfigurationProfileIdentifier=ids["ConfigurationProfileId"],
        )["InitialConfigurationToken"]
    )


def latest(cloud: LocalCloud, token: str) -> tuple[bytes, str]:
    """The configuration a session's token gets, and the session's next token."""
    response = cloud.client("appconfigdata").get_latest_configuration(ConfigurationToken=token)
    return response["Configuration"].read(), response["NextPollConfigurationToken"]


def test_a_linear_deployment_grows_bakes_and_completes_in_virtual_time(cloud) -> None:
    ids = profile(cloud)
    started = cloud.clock.now()

    number = deploy(cloud, ids, 1, strategy(cloud, minutes=10, growth=50, bake=5))

    seen = [
        (
            deployment(cloud, ids, number)["State"],
            deployment(cloud, ids, number)["PercentageComplete"],
        )
    ]
    for minutes in (6, 5, 5):
        cloud.advance(f"{minutes}m")
        now = deployment(cloud, ids, number)
        seen.append((now["State"], now["PercentageComplete"]))
    assert seen == [
        ("DEPLOYING", 50.0),
        ("DEPLOYING", 100.0),
        ("BAKING", 100.0),
        ("COMPLETE", 100.0),
    ]
    done = deployment(cloud, ids, number)
    assert done["CompletedAt"] == started + timedelta(minutes=15)
    assert [e["EventType"] for e in done["EventLog"]] == [
        "DEPLOYMENT_COMPLETED",
        "BAKE_TIME_STARTED",
        "PERCENTAGE_UPDATED",
        "PERCENTAGE_UPDATED",
        "DEPLOYMENT_STARTED",
    ]


def test_while_a_deployment_grows_a_session_gets_the_new_version_by_its_share(cloud) -> None:
    ids = profile(cloud)
    deploy(cloud, ids, 1, strategy(cloud, minutes=0, growth=100, bake=0))

    deploy(cloud, ids, 2, strategy(cloud, minutes=10, growth=50, bake=0))

    firsts = [latest(cloud, session(cloud, ids))[0] for _ in range(40)]
    assert set(firsts) == {b"first", b"second"}
    cloud.advance("10m")
    assert {latest(cloud, session(cloud, ids))[0] for _ in range(10)} == {b"second"}


def test_a_session_gets_the_configuration_once_and_then_nothing_until_it_changes(cloud) -> None:
    ids = profile(cloud)
    immediate = strategy(cloud, minutes=0, growth=100, bake=0)
    token = session(cloud, ids)
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        latest(cloud, token)
    deploy(cloud, ids, 1, immediate)
    token = session(cloud, ids)

    first, token = latest(cloud, token)
    again, token = latest(cloud, token)
    deploy(cloud, ids, 2, immediate)
    changed, token = latest(cloud, token)

    assert (first, again, changed) == (b"first", b"", b"second")


def test_a_token_is_accepted_once(cloud) -> None:
    ids = profile(cloud)
    deploy(cloud, ids, 1, strategy(cloud, minutes=0, growth=100, bake=0))
    token = session(cloud, ids)
    latest(cloud, token)

    with pytest.raises(ClientError, match="BadRequestException"):
        latest(cloud, token)


def test_an_alarm_firing_during_the_bake_rolls_back_at_the_next_minute_unread(cloud) -> None:
    ids = profile(cloud)
    immediate = strategy(cloud, minutes=0, growth=100, bake=0)
    deploy(cloud, ids, 1, immediate)
    cloud.set_alarm(ALARM, "OK")
    number = deploy(cloud, ids, 2, strategy(cloud, minutes=0, growth=100, bake=10))
    started = cloud.clock.now()

    # When the alarm fires 2.5 minutes into the bake and clears a minute later, nobody reading
    cloud.advance(150)
    cloud.set_alarm(ALARM, "ALARM", "errors")
    cloud.advance(60)
    cloud.set_alarm(ALARM, "OK")
    cloud.advance("10m")

    # Then the minute's reading rolled it back, and the first version is served again
    rolled_back = deployment(cloud, ids, number)
    assert rolled_back["State"] == "ROLLED_BACK"
    started_event = rolled_back["EventLog"][1]
    assert started_event["EventType"] == "ROLLBACK_STARTED"
    assert started_event["TriggeredBy"] == "CLOUDWATCH_ALARM"
    assert started_event["Description"] == f"Rollback initiated by CloudWatch alarm: {ALARM_ARN}"
    assert started_event["OccurredAt"] == started + timedelta(minutes=3)
    assert latest(cloud, session(cloud, ids))[0] == b"first"


def test_an_alarm_entering_insufficient_data_rolls_back_one_already_there_does_not(cloud) -> None:
    ids = profile(cloud)
    baking = strategy(cloud, minutes=0, growth=100, bake=5)
    cloud.set_alarm(ALARM, "INSUFFICIENT_DATA")
    kept = deploy(cloud, ids, 1, baking)
    cloud.advance("6m")
    cloud.set_alarm(ALARM, "OK")
    rolled = deploy(cloud, ids, 2, baking)
    cloud.advance("1m")
    cloud.set_alarm(ALARM, "INSUFFICIENT_DATA")
    cloud.advance("1m")

    assert deployment(cloud, ids, kept)["State"] == "COMPLETE"
    assert deployment(cloud, ids, rolled)["State"] == "ROLLED_BACK"


def test_an_alarm_whose_actions_are_disabled_rolls_nothing_back(cloud) -> None:
    ids = profile(cloud)
    cloud.set_alarm(ALARM, "OK")
    cloud.client("cloudwatch").disable_alarm_actions(AlarmNames=[ALARM])
    number = deploy(cloud, ids, 1, strategy(cloud, minutes=0, growth=100, bake=5))

    cloud.set_alarm(ALARM, "ALARM")
    cloud.advance("6m")

    assert deployment(cloud, ids, number)["State"] == "COMPLETE"


def test_one_deployment_at_a_time_and_stopping_rolls_back_or_reverts(cloud) -> None:
    ids = profile(cloud)
    client = cloud.client("appconfig")
    baking = strategy(cloud, minutes=0, growth=100, bake=5)
    first = deploy(cloud, ids, 1, baking)
    with pytest.raises(ClientError, match="ConflictException"):
        deploy(cloud, ids, 2, baking)
    cloud.advance("5m")
    second = deploy(cloud, ids, 2, baking)

    stopped = client.stop_deployment(
        ApplicationId=ids["ApplicationId"], EnvironmentId=ids["EnvironmentId"], DeploymentNumber=2
    )
    with pytest.raises(ClientError, match="BadRequestException"):
        client.stop_deployment(
            ApplicationId=ids["ApplicationId"],
            EnvironmentId=ids["EnvironmentId"],
            DeploymentNumber=first,
        )
    reverted = client.stop_deployment(
        ApplicationId=ids["ApplicationId"],
        EnvironmentId=ids["EnvironmentId"],
        DeploymentNumber=first,
        AllowRevert=True,
    )

    assert (second, stopped["State"], reverted["State"]) == (2, "ROLLED_BACK", "REVERTED")
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        latest(cloud, session(cloud, ids))


VALIDATOR = """
import base64

def handler(event, context):
    content = base64.b64decode(event["content"]).decode()
    if content != "first":
        raise ValueError(f"version {event['configurationVersion']}: {content!r} is not allowed")
    return {"ok": True}
"""


def test_a_lambda_validator_runs_before_the_deployment_and_its_error_refuses_it(
    cloud, tmp_path: Path
) -> None:
    # Given a profile validated by a function of our own, bound as the runtime binds the
    # template's functions
    code = tmp_path / "validator"
    code.mkdir()
    (code / "app.py").write_text(VALIDATOR)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role = cloud.client("iam").create_role(
        RoleName="validator", AssumeRolePolicyDocument=json.dumps(trust)
    )["Role"]["Arn"]
    arn = cloud.client("lambda").create_function(
        FunctionName="validator",
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": b"offline"},
    )["FunctionArn"]
    cloud.invoker.bind(
        FunctionBinding(
            logical_id="Validator",
            name="validator",
            arn=arn,
            code_dir=code,
            handler="app.handler",
            environment={},
        )
    )
    ids = profile(cloud, validators=[{"Type": "LAMBDA", "Content": arn}])
    immediate = strategy(cloud, minutes=0, growth=100, bake=0)

    # When each version is deployed in turn
    accepted = deploy(cloud, ids, 1, immediate)
    with pytest.raises(ClientError) as refused:
        deploy(cloud, ids, 2, immediate)

    # Then the first deployed, the second was refused with the function's error, and the
    # validator saw AppConfig's event
    assert deployment(cloud, ids, accepted)["State"] == "COMPLETE"
    response = refused.value.response
    assert response["Reason"] == "InvalidConfiguration"
    (detail,) = response["Details"]["InvalidConfiguration"]
    assert detail["Reason"] == "ValueError: version 2: 'second' is not allowed"
    assert latest(cloud, session(cloud, ids))[0] == b"first"
    invokes = cloud.timeline.find("invoke", function="Validator")
    assert [e["status"] for e in invokes] == ["ok", "error"]


def test_a_validator_that_cannot_run_refuses_the_deployment(cloud) -> None:
    missing = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:nowhere"
    ids = profile(cloud, validators=[{"Type": "LAMBDA", "Content": missing}])

    with pytest.raises(ClientError, match="could not be invoked"):
        deploy(cloud, ids, 1, strategy(cloud, minutes=0, growth=100, bake=0))


def test_the_predefined_strategies_are_known(cloud) -> None:
    client = cloud.client("appconfig")

    all_at_once = client.get_deployment_strategy(DeploymentStrategyId="AppConfig.AllAtOnce")
    listed = {s["Id"] for s in client.list_deployment_strategies()["Items"]}

    assert (all_at_once["DeploymentDurationInMinutes"], all_at_once["FinalBakeTimeInMinutes"]) == (
        0,
        10,
    )
    assert set(appconfig.PREDEFINED_STRATEGIES) <= listed
