"""AppConfig's LAMBDA validator of the policy (functions/policy_validator): a version it refuses
never deploys, and the refusal names the version and each bad field."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from aiops.events import InvalidEvent
from aiops.policy import PolicyError, load_yaml
from tests.support.handlers import lambda_context, load_handler
from tests.support.template import ROOT

DEFAULT = (ROOT / "policies" / "default.yaml").read_bytes()


@pytest.fixture
def validator(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The handler, as the template's Globals configure it (the policy's variables only)."""
    monkeypatch.setenv("POLICY_PARAMETER", "/aiops/dev/policy")
    return load_handler("policy_validator").handler


def appconfig_event(content: bytes, version: str = "3") -> dict[str, Any]:
    """What AppConfig sends a LAMBDA validator (AppConfig User Guide, "Understanding
    validators")."""
    return {
        "applicationId": "abc1234",
        "configurationProfileId": "ur8hx2f",
        "configurationVersion": version,
        "content": base64.b64encode(content).decode("ascii"),
        "uri": "hosted",
    }


def context() -> Any:
    return lambda_context("policy-validator", 1, memory_mb=1769, remaining_ms=15_000)


def test_given_the_default_policy_when_validated_then_it_is_accepted_with_its_models(validator):
    result = validator(appconfig_event(DEFAULT), context())

    assert result["action"] == "accepted"
    assert result["models"] == 2
    assert result["source"] == "appconfig:abc1234/ur8hx2f version 3"


def test_given_the_policy_as_json_when_validated_then_it_is_accepted_as_its_yaml_is(validator):
    # What `aiops policy publish` sends AppConfig: the same document, as JSON.
    as_json = json.dumps(load_yaml(DEFAULT)).encode()

    result = validator(appconfig_event(as_json), context())

    assert (result["action"], result["models"]) == ("accepted", 2)


def test_given_a_bad_field_when_validated_then_it_raises_naming_the_version_and_the_field(
    validator,
):
    bad = DEFAULT.replace(b"floor: 0.70", b"floor: .nan")

    with pytest.raises(PolicyError) as refused:
        validator(appconfig_event(bad, version="7"), context())

    assert str(refused.value).startswith("invalid policy appconfig:abc1234/ur8hx2f version 7: ")
    assert "models.churn.gate.floor: Input should be a finite number" in str(refused.value)


def test_given_content_that_is_not_base64_when_validated_then_it_raises_saying_so(validator):
    event = {**appconfig_event(DEFAULT), "content": "not base64!"}

    with pytest.raises(PolicyError, match=r"\(content\): not base64"):
        validator(event, context())


def test_given_an_event_that_is_not_appconfigs_when_validated_then_it_raises_naming_the_field(
    validator,
):
    event = appconfig_event(DEFAULT)
    del event["content"]

    with pytest.raises(InvalidEvent, match="content: Field required"):
        validator(event, context())


def test_given_content_larger_than_a_policy_may_be_when_validated_then_it_is_refused_unread(
    validator,
):
    event = {**appconfig_event(b""), "content": "A" * (4 * 2**20)}

    with pytest.raises(InvalidEvent, match="content: String should have at most"):
        validator(event, context())
