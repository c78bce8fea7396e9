"""Which store a function reads its policy from: the template's PolicyStore, told by its
variables (AppConfig's three, or the SSM parameter alone)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from aiops.adapters.policy_source import AppConfigPolicySource, SsmPolicySource
from aiops.adapters.stack import Stack
from aiops.settings import Settings
from aiops.settings.retrain import NewDataSettings

APPCONFIG = {
    "POLICY_APPCONFIG_APPLICATION": "abc1234",
    "POLICY_APPCONFIG_ENVIRONMENT": "def5678",
    "POLICY_APPCONFIG_PROFILE": "ghi9012",
}


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    import os

    for variable in list(os.environ):
        if variable.lower() in Settings.model_fields:
            monkeypatch.delenv(variable)
    monkeypatch.setenv("POLICY_PARAMETER", "/aiops/dev/policy")
    return monkeypatch


def test_given_the_ssm_store_when_the_stack_reads_the_policy_then_it_reads_the_parameter(
    environment,
):
    policy = Stack(Settings()).policy

    assert isinstance(policy, SsmPolicySource)
    assert (policy.parameter, policy.source) == ("/aiops/dev/policy", "ssm:/aiops/dev/policy")


def test_given_the_appconfig_store_when_the_stack_reads_the_policy_then_it_reads_appconfig(
    environment,
):
    for name, value in APPCONFIG.items():
        environment.setenv(name, value)
    environment.setenv("POLICY_CACHE_SECONDS", "120")

    policy = Stack(Settings()).policy

    assert isinstance(policy, AppConfigPolicySource)
    assert (policy.application, policy.environment, policy.profile) == (
        "abc1234",
        "def5678",
        "ghi9012",
    )
    assert policy.cache_seconds == 120


def test_given_a_cache_shorter_than_appconfigs_poll_interval_then_it_lasts_the_interval():
    # AppConfig refuses a session polled more often than every 15 seconds.
    assert AppConfigPolicySource("a", "e", "p", cache_seconds=5).cache_seconds == 15
    assert AppConfigPolicySource("a", "e", "p", cache_seconds=0).cache_seconds == 0


def test_given_only_some_appconfig_variables_when_read_then_the_missing_ones_are_named(
    environment,
):
    environment.setenv("POLICY_APPCONFIG_APPLICATION", "abc1234")
    environment.setenv("POLICY_APPCONFIG_PROFILE", "ghi9012")
    environment.setenv("CONTROL_TABLE", "aiops-dev-control")
    environment.setenv("LEDGER_TABLE", "aiops-dev-ledger")
    environment.setenv(
        "RETRAIN_STATE_MACHINE_ARN", "arn:aws:states:us-east-1:123456789012:stateMachine:r"
    )

    with pytest.raises(ValidationError, match="POLICY_APPCONFIG_ENVIRONMENT: required with"):
        NewDataSettings()


def test_given_a_malformed_appconfig_identifier_when_read_then_it_is_refused(environment):
    for name, value in APPCONFIG.items():
        environment.setenv(name, value)
    environment.setenv("POLICY_APPCONFIG_PROFILE", "no spaces/slashes")

    with pytest.raises(ValidationError, match="policy_appconfig_profile"):
        Settings()
