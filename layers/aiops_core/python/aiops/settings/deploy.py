"""The deploy capability's functions: the workflow's steps, its events, Bedrock serving."""

from pydantic import Field

from aiops.settings import PARAMETER_PREFIX, SNS_ARN, STATES_ARN, Settings, required_variable


class DeployWaitSettings(Settings):
    """Parking the deploy workflow's task token (the control table only)."""

    control_table: str = required_variable(min_length=3)


class DeploySettings(DeployWaitSettings):
    """The deploy workflow's steps: endpoint state, ledger, alerts, and the workflow itself
    (a released endpoint starts the deployment that waited)."""

    ledger_table: str = required_variable(min_length=3)
    alerts_topic_arn: str = required_variable(pattern=SNS_ARN)
    deploy_state_machine_arn: str = required_variable(pattern=STATES_ARN)


class StartDeploymentSettings(DeploySettings):
    # The template always sets it; empty (the stack was given no role) reads as "" and the
    # deployment then fails closed naming the ModelExecutionRoleArn parameter.
    model_execution_role_arn: str = Field(
        default="", pattern=r"^(arn:aws[a-z-]*:iam::\d{12}:role/.+)?$"
    )


class DeployEventSettings(DeploySettings):
    """Functions on EventBridge events (endpoint changes, alarms)."""

    dead_letter_queue_url: str = required_variable(pattern=r"^https://")


class DeployApprovedSettings(DeployEventSettings):
    """Approvals: a refusal is alerted once per package (an idempotency claim)."""

    idempotency_table: str = required_variable(min_length=3)


class StartServingSettings(DeploySettings):
    """The deploy workflow's Bedrock swap: it writes serving parameters under the prefix."""

    serving_parameter_prefix: str = required_variable(pattern=PARAMETER_PREFIX)
