"""The suite's shared parsing (tests/support/shared_parsing.py) still reaches what it replaces in
moto and botocore, and changes nothing a test can see: every parse gives a program of its own,
and a bad definition is refused every time."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.stepfunctions.parser.asl.antlr.runtime.ASLParser import ASLParser
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

ROLE = "arn:aws:iam::123456789012:role/sfn"


def fresh_definition() -> str:
    """A definition no other test uses: never parsed before in this process."""
    return json.dumps(
        {
            "Comment": str(uuid.uuid4()),
            "StartAt": "Set",
            "States": {
                "Set": {"Type": "Pass", "Result": {"n": 1}, "Next": "Done"},
                "Done": {"Type": "Succeed"},
            },
        }
    )


@pytest.fixture
def antlr_parses(monkeypatch: pytest.MonkeyPatch) -> list[None]:
    seen: list[None] = []
    parse = ASLParser.state_machine

    def counting(self: ASLParser) -> Any:
        seen.append(None)
        return parse(self)

    monkeypatch.setattr(ASLParser, "state_machine", counting)
    return seen


@pytest.fixture
def sfn() -> Iterator[Any]:
    # The executing backend (as LocalCloud runs it) is the one that parses definitions.
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        yield boto3.client("stepfunctions", region_name="us-east-1")


def test_given_one_definition_parsed_twice_then_antlr_runs_once_and_each_gets_its_own_program(
    antlr_parses: list[None],
) -> None:
    definition = fresh_definition()

    first: Any
    second: Any
    first, first_tree = AmazonStateLanguageParser.parse(definition)
    second, second_tree = AmazonStateLanguageParser.parse(definition)

    assert len(antlr_parses) == 1
    assert second_tree is first_tree
    assert second is not first
    assert second.states is not first.states
    assert [s.name for s in second.states.states.values()] == ["Set", "Done"]
    assert [s.name for s in first.states.states.values()] == ["Set", "Done"]


def test_given_one_definition_when_two_state_machines_are_created_then_it_is_parsed_once(
    sfn: Any, antlr_parses: list[None]
) -> None:
    definition = fresh_definition()

    for name in ("first", "second"):
        sfn.create_state_machine(name=name, definition=definition, roleArn=ROLE)

    assert len(antlr_parses) == 1
    assert len(sfn.list_state_machines()["stateMachines"]) == 2


def test_given_a_bad_definition_when_created_twice_then_it_is_refused_both_times(
    sfn: Any, antlr_parses: list[None]
) -> None:
    definition = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Nope"}}})

    for name in ("first", "second"):
        with pytest.raises(ClientError) as refused:
            sfn.create_state_machine(name=name, definition=definition, roleArn=ROLE)
        assert "ASLParserException" in str(refused.value)
        assert '"Nope"' in str(refused.value)
    assert len(antlr_parses) == 2
    assert sfn.list_state_machines()["stateMachines"] == []


def test_given_two_boto3_sessions_then_they_read_botocores_models_through_one_loader() -> None:
    first = boto3.session.Session(region_name="us-east-1")
    second = boto3.session.Session(region_name="us-east-1")

    loader = first._session.get_component("data_loader")

    assert second._session.get_component("data_loader") is loader
    assert "stepfunctions" in loader.list_available_services("service-2")
