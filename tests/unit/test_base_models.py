"""base_models.json: every entry loads and is consistent."""

from __future__ import annotations

import json

import pytest

from aiops.base_models import _DATA, RecordFormat, base_model, base_models

REQUIRED = (
    "amazon.nova-micro-v1:0",
    "amazon.nova-lite-v1:0",
    "amazon.nova-pro-v1:0",
    "anthropic.claude-3-haiku-20240307-v1:0",
    "amazon.titan-text-express-v1",
    "amazon.titan-text-lite-v1",
    "meta.llama3-1-8b-instruct-v1:0",
    "meta.llama3-1-70b-instruct-v1:0",
    "meta.llama3-2-1b-instruct-v1:0",
    "cohere.command-light-text-v14",
)


def test_given_the_data_file_when_loaded_then_every_required_base_model_is_there():
    assert set(REQUIRED) <= set(base_models())


def test_given_the_data_file_when_read_then_model_ids_are_unique():
    ids = [entry["model_id"] for entry in json.loads(_DATA.read_text())["models"]]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("model_id", sorted(base_models()))
def test_given_a_base_model_when_loaded_then_its_limits_are_consistent(model_id):
    spec = base_models()[model_id]
    assert spec.model_id == model_id
    assert spec.format in set(RecordFormat)
    assert spec.min_training_records <= spec.max_training_records
    assert spec.max_validation_records <= spec.max_training_records
    assert spec.source.startswith("https://docs.")
    assert all(s and s.strip() == s for s in spec.reserved_strings)
    for name, bounds in spec.hyper_parameters.items():
        assert bounds.min <= bounds.max, name
        if bounds.default is not None:
            assert bounds.min <= bounds.default <= bounds.max, name
        if bounds.integer:
            assert bounds.min == int(bounds.min) and bounds.max == int(bounds.max), name
    # A prompt/completion record has no system prompt or images to allow.
    if spec.format is RecordFormat.PROMPT_COMPLETION:
        assert not spec.system_allowed and not spec.images_allowed


def test_given_the_formats_when_loaded_then_each_format_has_a_base_model():
    assert {spec.format for spec in base_models().values()} == set(RecordFormat)


def test_given_nova_models_when_loaded_then_custom_model_deployment_is_supported_and_others_not():
    specs = base_models()
    assert all(specs[m].custom_model_deployment for m in REQUIRED[:3])
    assert not any(specs[m].custom_model_deployment for m in REQUIRED[3:])


def test_given_an_unknown_model_when_looked_up_then_none():
    assert base_model("amazon.nova-huge-v9:0") is None
