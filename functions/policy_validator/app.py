"""AppConfig's LAMBDA validator of the policy: a version it refuses never deploys.

AppConfig refuses the deployment when the function raises; the error names the version and each
bad field (`PolicyError`), as `aiops policy check` does.
"""

from __future__ import annotations

from typing import Any

from aiops.adapters.stack import Stack
from aiops.observability import lambda_entry, logger
from aiops.policy_delivery import validate_configuration
from aiops.settings import PolicyValidatorSettings

# Nothing to build: validated at cold start like every function's settings.
STACK = Stack(PolicyValidatorSettings())


@lambda_entry()
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        validated = validate_configuration(event)
    except ValueError as refused:  # PolicyError, InvalidEvent: AppConfig reports it as ours
        logger.warning("policy refused", extra={"reason": str(refused)})
        raise
    logger.info("policy accepted", extra=validated.model_dump())
    return validated.model_dump()
