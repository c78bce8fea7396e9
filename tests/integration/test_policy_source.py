"""Reading the policy where the stack keeps it (SSM or AppConfig) through Powertools Parameters:
cached on the control plane's clock, parsed once per version, errors naming the source."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.exceptions import ClientError

from aiops import clock
from aiops.adapters.aws import error_code
from aiops.adapters.policy_source import AppConfigPolicySource, SsmPolicySource
from aiops.policy import PolicyError
from bench.policies import appconfig_profile, deploy_hosted
from tests.support.template import ROOT

DEFAULT = (ROOT / "policies" / "default.yaml").read_text()
THREE = DEFAULT.replace("window: {objects: 5,", "window: {objects: 3,")
REGION = "us-east-1"


class Clock:
    """The control plane's clock, moved by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def moved() -> Iterator[Clock]:
    controlled = Clock()
    clock.set_source(lambda: controlled.now)
    try:
        yield controlled
    finally:
        clock.set_source(None)


def test_given_the_ssm_store_when_the_parameter_changes_then_it_is_read_after_the_cache(
    aws: None, moved: Clock
) -> None:
    ssm = boto3.client("ssm", region_name=REGION)
    ssm.put_parameter(Name="/aiops/dev/policy", Value=DEFAULT, Type="String")
    source = SsmPolicySource("/aiops/dev/policy", cache_seconds=60, client=ssm)
    first = source.load()

    ssm.put_parameter(Name="/aiops/dev/policy", Value=THREE, Type="String", Overwrite=True)
    moved.advance(59)
    cached = source.load()
    moved.advance(2)
    refreshed = source.load()

    assert cached is first
    assert refreshed.sagemaker_models()["churn"].data.window.objects == 3


def test_given_the_same_text_after_the_cache_when_read_then_it_is_not_parsed_again(
    aws: None, moved: Clock
) -> None:
    ssm = boto3.client("ssm", region_name=REGION)
    ssm.put_parameter(Name="/aiops/dev/policy", Value=DEFAULT, Type="String")
    source = SsmPolicySource("/aiops/dev/policy", cache_seconds=60, client=ssm)
    first = source.load()

    moved.advance(120)

    assert source.load() is first


def test_given_no_parameter_when_read_then_the_services_own_error_comes_out(aws: None) -> None:
    source = SsmPolicySource("/aiops/dev/missing", cache_seconds=0)

    with pytest.raises(ClientError) as missing:
        source.load()

    assert error_code(missing.value) == "ParameterNotFound"


def test_given_an_invalid_parameter_when_read_then_the_error_names_the_parameter(aws: None) -> None:
    ssm = boto3.client("ssm", region_name=REGION)
    ssm.put_parameter(Name="/aiops/dev/policy", Value="version: 1\nmodels: {}\n", Type="String")

    with pytest.raises(PolicyError, match=r"^invalid policy ssm:/aiops/dev/policy: models"):
        SsmPolicySource("/aiops/dev/policy", 0, ssm).load()


def _deployed(content: str) -> tuple[str, str, str]:
    """An application, environment and profile with `content` deployed; returns their ids."""
    client = boto3.client("appconfig", region_name=REGION)
    ids = appconfig_profile(client)
    deploy_hosted(client, ids, content)
    return ids


def test_given_the_appconfig_store_when_a_new_version_deploys_then_it_is_read_after_the_cache(
    aws_with_appconfig: None, moved: Clock
) -> None:
    app, env, profile = _deployed(DEFAULT)
    source = AppConfigPolicySource(app, env, profile, cache_seconds=60)
    first = source.load()
    moved.advance(61)
    unchanged = source.load()  # AppConfig sends nothing: the session has this version

    boto3.client("appconfig", region_name=REGION).stop_deployment(
        ApplicationId=app, EnvironmentId=env, DeploymentNumber=1
    )  # the all-at-once strategy's bake: stopped, so the next deployment may start
    deploy_hosted(boto3.client("appconfig", region_name=REGION), (app, env, profile), THREE)
    cached = source.load()
    moved.advance(61)
    refreshed = source.load()

    assert unchanged is first
    assert cached is first
    assert refreshed.sagemaker_models()["churn"].data.window.objects == 3


def test_given_nothing_deployed_when_read_then_the_services_error_comes_out(
    aws_with_appconfig: None,
) -> None:
    app, env, profile = appconfig_profile(boto3.client("appconfig", region_name=REGION))

    with pytest.raises(ClientError) as missing:
        AppConfigPolicySource(app, env, profile, 0).load()

    assert error_code(missing.value) == "ResourceNotFoundException"


def test_given_an_invalid_version_served_when_read_then_the_error_names_the_profile(
    aws_with_appconfig: None,
) -> None:
    app, env, profile = _deployed("version: 1\nmodels: {}\n")

    with pytest.raises(PolicyError) as invalid:
        AppConfigPolicySource(app, env, profile, 0).load()

    assert str(invalid.value).startswith(f"invalid policy appconfig:{app}/{env}/{profile}: ")
