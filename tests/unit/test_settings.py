"""The functions' settings: read from the environment at cold start, as Lambda gives it."""

from __future__ import annotations

import importlib
import pkgutil
import re

import pytest
from pydantic import BaseModel, ValidationError

import aiops.settings as settings_module
from aiops.settings import Settings
from aiops.settings.deploy import StartDeploymentSettings
from aiops.settings.retrain import NewDataSettings

CONTROL = "aiops-dev-control"
RETRAIN = "arn:aws:states:us-east-1:123456789012:stateMachine:aiops-dev-retrain"
TOPIC = "arn:aws:sns:us-east-1:123456789012:aiops-dev-alerts"

# Every capability's model, as the functions' app.py files name them: the package's own (the
# kernel's functions) and each capability module's (aiops.settings.<capability>).
SETTINGS_MODULES = [settings_module] + [
    importlib.import_module(f"{settings_module.__name__}.{info.name}")
    for info in pkgutil.iter_modules(settings_module.__path__)
]
CAPABILITY_MODELS = sorted(
    {
        model
        for module in SETTINGS_MODULES
        for model in vars(module).values()
        if isinstance(model, type) and issubclass(model, Settings) and model is not Settings
    },
    key=lambda model: model.__name__,
)


@pytest.fixture
def environment(monkeypatch):
    """An environment holding none of the settings' variables, in any case."""
    import os

    names = set(Settings.model_fields)
    for variable in list(os.environ):
        if variable.lower() in names:
            monkeypatch.delenv(variable)
    monkeypatch.setenv("POLICY_PARAMETER", "/aiops/dev/policy")
    return monkeypatch


def test_given_a_functions_variables_when_its_settings_are_read_then_each_field_holds_its_variable(
    environment,
):
    environment.setenv("CONTROL_TABLE", CONTROL)
    environment.setenv("LEDGER_TABLE", "aiops-dev-ledger")
    environment.setenv("RETRAIN_STATE_MACHINE_ARN", RETRAIN)
    environment.setenv("POLICY_CACHE_SECONDS", "30")

    settings = NewDataSettings()

    assert settings.control_table == CONTROL
    assert settings.ledger_table == "aiops-dev-ledger"
    assert settings.retrain_state_machine_arn == RETRAIN
    assert settings.policy_parameter == "/aiops/dev/policy"
    assert settings.policy_cache_seconds == 30
    assert settings.stage == "dev"
    assert settings.alerts_topic_arn is None


def test_given_a_variable_missing_when_settings_are_read_then_the_error_names_it(environment):
    environment.setenv("CONTROL_TABLE", CONTROL)
    environment.setenv("LEDGER_TABLE", "aiops-dev-ledger")

    with pytest.raises(ValidationError) as error:
        NewDataSettings()

    assert [e["loc"] for e in error.value.errors()] == [("retrain_state_machine_arn",)]
    assert error.value.errors()[0]["type"] == "missing"


def test_given_an_empty_variable_when_settings_are_read_then_it_is_an_unset_one(environment):
    # Offline, the runtime empties (never removes) a variable another function was given.
    environment.setenv("CONTROL_TABLE", "")
    environment.setenv("ALERTS_TOPIC_ARN", "")
    environment.setenv("MODEL_EXECUTION_ROLE_ARN", "")

    assert Settings().control_table is None
    assert Settings().alerts_topic_arn is None
    with pytest.raises(ValidationError, match="control_table\n  Field required"):
        NewDataSettings()
    # An unset role reads as the model's default: deployments then fail closed, naming it.
    environment.setenv("LEDGER_TABLE", "aiops-dev-ledger")
    environment.setenv("CONTROL_TABLE", CONTROL)
    environment.setenv("ALERTS_TOPIC_ARN", TOPIC)
    environment.setenv("DEPLOY_STATE_MACHINE_ARN", RETRAIN.replace("retrain", "deploy"))
    assert StartDeploymentSettings().model_execution_role_arn == ""


def test_given_a_malformed_variable_when_settings_are_read_then_the_error_names_it_and_the_rule(
    environment,
):
    environment.setenv("ALERTS_TOPIC_ARN", "arn:aws:sqs:us-east-1:123456789012:not-a-topic")
    environment.setenv("POLICY_CACHE_SECONDS", "soon")

    with pytest.raises(ValidationError) as error:
        Settings()

    problems = {e["loc"][0]: e["type"] for e in error.value.errors()}
    assert problems == {
        "alerts_topic_arn": "string_pattern_mismatch",
        "policy_cache_seconds": "int_parsing",
    }


def test_given_arguments_and_variables_when_settings_are_built_then_the_arguments_win(
    environment,
):
    environment.setenv("CONTROL_TABLE", CONTROL)
    environment.setenv("ALERTS_TOPIC_ARN", TOPIC)

    settings = Settings(control_table="cli-control", alerts_topic_arn=None)

    assert settings.control_table == "cli-control"
    assert settings.alerts_topic_arn is None
    assert settings.policy_parameter == "/aiops/dev/policy"


def test_given_a_variable_in_lower_case_when_settings_are_read_then_it_is_read(environment):
    environment.setenv("control_table", CONTROL)

    assert Settings().control_table == CONTROL


def test_given_variables_no_setting_names_when_settings_are_read_then_they_are_ignored(
    environment,
):
    environment.setenv("SOMETHING_ELSE", "x")

    assert "something_else" not in Settings().model_dump()
    assert Settings(something_else="x").model_dump() == Settings().model_dump()


def test_given_the_environment_changes_when_settings_are_read_again_then_they_see_the_change(
    environment,
):
    # Read when built (at each function's cold start), never frozen at import.
    environment.setenv("CONTROL_TABLE", "first-table")
    first = Settings()
    environment.setenv("CONTROL_TABLE", "second-table")

    assert (first.control_table, Settings().control_table) == ("first-table", "second-table")


def test_given_settings_when_a_field_is_assigned_then_it_is_refused(environment):
    settings = Settings()

    with pytest.raises(ValidationError, match="frozen"):
        settings.stage = "prod"  # type: ignore[misc]


def test_given_a_variable_the_function_was_not_given_when_required_then_it_names_the_variable(
    environment,
):
    settings = Settings()

    with pytest.raises(RuntimeError, match=r"^DEAD_LETTER_QUEUE_URL is not set for this function$"):
        settings.required("dead_letter_queue_url")
    assert Settings(control_table=CONTROL).required("control_table") == CONTROL


@pytest.mark.parametrize("model", CAPABILITY_MODELS, ids=lambda model: model.__name__)
def test_given_no_variables_when_a_capability_model_is_read_then_each_required_one_is_named(
    environment, model: type[BaseModel]
):
    environment.delenv("POLICY_PARAMETER")
    required = {name for name, field in model.model_fields.items() if field.is_required()}

    with pytest.raises(ValidationError) as error:
        model()

    assert {e["loc"][0] for e in error.value.errors()} == required
    assert "policy_parameter" in required


def test_every_model_a_function_validates_at_cold_start_is_among_the_capability_models():
    from tests.support.template import ROOT

    named = {
        match.group(1)
        for app in (ROOT / "functions").glob("*/app.py")
        for match in re.finditer(r"STACK = Stack\((\w+)\(\)\)", app.read_text())
    }

    assert named, "the functions' app.py files name their settings models"
    assert named <= {model.__name__ for model in CAPABILITY_MODELS}
