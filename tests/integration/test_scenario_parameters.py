"""A scenario's `parameters:`: the template's parameters the offline cloud is built with."""

from __future__ import annotations

from pathlib import Path

import pytest

from aiops_local.scenario import ScenarioError, cloud_for, load_scenario
from aiops_local.template import TemplateError
from tests.support.template import ROOT

STEPS = "steps:\n  - advance: 1m\n"


def scenario(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(f"template: {ROOT / 'template.yaml'}\n{body}{STEPS}")
    return path


def test_given_parameters_when_the_cloud_is_built_then_the_template_has_them(tmp_path):
    loaded = load_scenario(scenario(tmp_path, "parameters:\n  PolicyStore: appconfig\n"))

    cloud = cloud_for(loaded)

    assert loaded.parameters == {"PolicyStore": "appconfig"}
    assert cloud.template.parameters["PolicyStore"] == "appconfig"
    assert "PolicyValidatorFunction" in cloud.template.resources


def test_given_no_parameters_when_the_cloud_is_built_then_the_defaults_hold(tmp_path):
    cloud = cloud_for(load_scenario(scenario(tmp_path, "")))

    assert cloud.template.parameters["PolicyStore"] == "ssm"
    assert "PolicyValidatorFunction" not in cloud.template.resources


def test_given_parameters_that_are_not_a_mapping_when_loaded_then_refused(tmp_path):
    with pytest.raises(ScenarioError, match="parameters: a mapping"):
        load_scenario(scenario(tmp_path, "parameters: [PolicyStore]\n"))


def test_given_a_parameter_the_template_lacks_when_built_then_it_is_named(tmp_path):
    loaded = load_scenario(scenario(tmp_path, "parameters:\n  PolicyStor: appconfig\n"))

    with pytest.raises(TemplateError, match="unknown template parameters: PolicyStor"):
        cloud_for(loaded)
