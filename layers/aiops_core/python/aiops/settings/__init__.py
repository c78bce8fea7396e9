"""Environment of the Lambda functions, validated once at cold start.

`Settings` is every variable any function may be given; each capability's model requires what
its functions read, so a function missing one fails at cold start naming it, and the template
gives each function only the variables it reads.

A plain pydantic model filled from `os.environ`, as pydantic-settings did (whose import alone
added about 11 ms to every cold start): a field is read from the variable of its name in any case,
an empty variable is an unset one, and arguments given to the constructor win over the
environment. Schemas are built on first use: a function builds only the model it reads.

The base model and the kernel's functions are here; each capability's functions have theirs in a
module of this package (`aiops.settings.retrain`, ...), so a function creates its own model classes
at cold start and not the other capabilities'.
"""

import os
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

SNS_ARN = r"^arn:aws[a-z-]*:sns:"
STATES_ARN = r"^arn:aws[a-z-]*:states:"
PARAMETER_PREFIX = r"^/([A-Za-z0-9_.-]+/)*$"
# AppConfig identifiers (an id, or a name): StartConfigurationSession takes 1-128 characters.
_APPCONFIG_ID = r"^[A-Za-z0-9_.-]{1,128}$"


def required_variable(**constraints: Any) -> Any:
    """A variable the model requires: no default, so its absence fails validation naming it.
    (Typed `Any`: the type checker then lets `XSettings()` be called without it, as the
    environment gives it.)"""
    return Field(**constraints)


class Settings(BaseModel):
    """Names of the stack's resources, as template.yaml sets them per function."""

    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)

    def __init__(self, **values: Any) -> None:
        # Lambda never sets a variable empty: offline, an empty one is one this function was
        # not given (the runtime empties, never removes, another function's variables).
        environment = {name.lower(): value for name, value in os.environ.items() if value != ""}
        fields = type(self).model_fields
        found = {name: environment[name] for name in fields if name in environment}
        super().__init__(**{**found, **values})

    stage: str = Field(default="dev")
    policy_parameter: str = required_variable(pattern=r"^/")
    policy_cache_seconds: int = Field(default=60, ge=0)
    # The template's PolicyStore appconfig: the policy is read from this AppConfig application,
    # environment and configuration profile (ids or names) instead of the SSM parameter.
    policy_appconfig_application: str | None = Field(default=None, pattern=_APPCONFIG_ID)
    policy_appconfig_environment: str | None = Field(default=None, pattern=_APPCONFIG_ID)
    policy_appconfig_profile: str | None = Field(default=None, pattern=_APPCONFIG_ID)
    control_table: str | None = Field(default=None, min_length=3)
    ledger_table: str | None = Field(default=None, min_length=3)
    idempotency_table: str | None = Field(default=None, min_length=3)
    alerts_topic_arn: str | None = Field(default=None, pattern=SNS_ARN)
    artifacts_bucket: str | None = Field(default=None, min_length=3)
    retrain_state_machine_arn: str | None = Field(default=None, pattern=STATES_ARN)
    approvals_topic_arn: str | None = Field(default=None, pattern=SNS_ARN)
    deploy_state_machine_arn: str | None = Field(default=None, pattern=STATES_ARN)
    # The role SageMaker Models run as ("" until the stack is given one: deploys then fail
    # with that reason, closed).
    model_execution_role_arn: str | None = Field(
        default=None, pattern=r"^(arn:aws[a-z-]*:iam::\d{12}:role/.+)?$"
    )
    approval_page_url: str | None = Field(default=None, pattern=r"^https?://[^/?#\s]+/?$")
    finetune_state_machine_arn: str | None = Field(default=None, pattern=STATES_ARN)
    labeled_bucket: str | None = Field(default=None, min_length=3)
    labelers_topic_arn: str | None = Field(default=None, pattern=SNS_ARN)
    # The role Bedrock customization and evaluation jobs run as.
    bedrock_job_role_arn: str | None = Field(
        default=None, pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/.+$"
    )
    # Set on asynchronously invoked functions: where they keep events that can never succeed.
    dead_letter_queue_url: str | None = Field(default=None, pattern=r"^https://")
    # The stack's ServingParameterPrefix: Bedrock serving parameters are written under it only.
    serving_parameter_prefix: str | None = Field(default=None, pattern=PARAMETER_PREFIX)
    # Where the control plane runs: cost root causes elsewhere are not its models'.
    account_id: str | None = Field(default=None, pattern=r"^\d{12}$")
    stack_region: str | None = Field(default=None, pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")

    @model_validator(mode="after")
    def _one_policy_store(self) -> "Settings":
        # Some of the three only: the function would read the SSM parameter while the stack
        # serves the policy from AppConfig (or the reverse), so it fails at cold start instead.
        names = ("application", "environment", "profile")
        given = [n for n in names if getattr(self, f"policy_appconfig_{n}")]
        if given and len(given) < len(names):
            missing = ", ".join(f"POLICY_APPCONFIG_{n.upper()}" for n in names if n not in given)
            raise ValueError(f"{missing}: required with the other POLICY_APPCONFIG_ variables")
        return self

    @property
    def policy_in_appconfig(self) -> bool:
        """Whether the policy is read from AppConfig (else from the SSM parameter)."""
        return self.policy_appconfig_application is not None

    def required(self, name: str) -> str:
        """A variable this function's adapters need (its capability's model requires it)."""
        value = getattr(self, name)
        if not value:
            raise RuntimeError(f"{name.upper()} is not set for this function")
        return str(value)


class PolicyValidatorSettings(Settings):
    """AppConfig's policy validator: it checks the policy AppConfig hands it and reads nothing
    else (the policy's own variables, from the template's Globals, are all it is given)."""


class RunLockSettings(Settings):
    """A run's lock step (retrain and fine-tune alike)."""

    control_table: str = required_variable(min_length=3)
    ledger_table: str = required_variable(min_length=3)


class ControlPlaneWatchSettings(Settings):
    """The control-plane watch: it reads locks and approvals in the control table, nothing else."""

    control_table: str = required_variable(min_length=3)
