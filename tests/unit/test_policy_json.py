"""A policy as JSON (what `aiops policy publish` sends AppConfig) reads as its YAML does; what
strict JSON refuses is read as YAML, whose errors name the line."""

from __future__ import annotations

import json

import pytest

from aiops.policy import MAX_YAML_DEPTH, PolicyError, load_yaml, parse_policy, published_form
from bench.policies import generated_policy
from tests.support.template import ROOT

DEFAULT = (ROOT / "policies" / "default.yaml").read_text()


def test_given_the_default_policy_as_json_when_parsed_then_it_is_the_yaml_policy():
    as_json = json.dumps(load_yaml(DEFAULT), indent=1)

    assert parse_policy(as_json) == parse_policy(DEFAULT)
    assert parse_policy(as_json.encode()) == parse_policy(DEFAULT)


def test_given_a_json_policy_with_a_key_twice_when_parsed_then_the_yaml_reader_names_it():
    document = '{"version": 1, "version": 1, "models": {}}'

    with pytest.raises(PolicyError, match="found the key 'version' twice"):
        parse_policy(document)


def test_given_json_nested_deeper_than_a_policy_may_be_when_parsed_then_refused_at_its_line():
    document = '{"models": ' + "[" * (MAX_YAML_DEPTH + 1) + "]" * (MAX_YAML_DEPTH + 1) + "}"

    with pytest.raises(PolicyError, match=f"nested deeper than {MAX_YAML_DEPTH} levels"):
        parse_policy(document)


def test_given_a_yaml_flow_mapping_that_is_not_json_when_parsed_then_it_is_read_as_yaml():
    document = "{version: 1, models: {}}"

    with pytest.raises(PolicyError, match="models: Value error, declare at least one model"):
        parse_policy(document)


def test_given_a_bad_field_in_a_json_policy_when_parsed_then_it_is_named():
    document = load_yaml(DEFAULT)
    assert isinstance(document, dict)
    document["models"]["churn"]["gate"]["floor"] = "high"

    with pytest.raises(PolicyError, match=r"models\.churn\.gate\.floor: Input should be"):
        parse_policy(json.dumps(document))


def test_given_overlapping_prefixes_among_many_models_when_parsed_then_the_pair_is_named():
    document = load_yaml(generated_policy(300))
    assert isinstance(document, dict)
    document["models"]["model-250"]["data"]["prefix"] = "raw/model-002/late/"

    with pytest.raises(PolicyError) as overlap:
        parse_policy(json.dumps(document))

    assert "model-250: prefix 'raw/model-002/late/' overlaps model-002's 'raw/model-002/'" in str(
        overlap.value
    )


def test_given_a_generated_policy_of_a_thousand_models_when_parsed_then_each_is_there():
    text = generated_policy(1000)

    policy = parse_policy(json.dumps(load_yaml(text)))

    assert len(policy.models) == 1000
    assert len(policy.sagemaker_models()) == 500


def test_given_a_key_that_is_not_a_string_when_published_then_refused_naming_where() -> None:
    # Given churn renamed `123` (YAML reads an integer key; JSON would make it "123")
    text = DEFAULT.replace("\n  churn:\n", "\n  123:\n", 1)
    assert text != DEFAULT

    # Then neither the check nor the published form takes it
    with pytest.raises(PolicyError):
        parse_policy(text)
    with pytest.raises(PolicyError, match="models: key 123 is not a string"):
        published_form(text)
