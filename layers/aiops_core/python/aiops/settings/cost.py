"""The cost capability's function: cost signals and their remediation."""

from aiops.settings import PARAMETER_PREFIX, required_variable
from aiops.settings.deploy import DeployApprovedSettings


class CostSettings(DeployApprovedSettings):
    """Cost signals: remediation may roll back (the deploy workflow's settings), and each signal
    and action is claimed once (idempotency table)."""

    account_id: str = required_variable(pattern=r"^\d{12}$")
    stack_region: str = required_variable(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")
    serving_parameter_prefix: str = required_variable(pattern=PARAMETER_PREFIX)
