"""A policy version checked before AppConfig deploys it: the work of AppConfig's LAMBDA validator.

AppConfig invokes the validator with the version's content (base64) when a deployment starts, and
refuses the deployment when the function raises (Lambda's `X-Amz-Function-Error`): the previous
policy stays served. The check is the one every reader of the policy applies (`parse_policy`),
so a version that deploys is one the functions will accept.
"""

import base64
import binascii
import math

from pydantic import BaseModel, ConfigDict, Field

from aiops.events import parse_event
from aiops.policy import MAX_POLICY_BYTES, FieldProblem, PolicyError, parse_policy

# The base64 of the largest policy we read (AppConfig's hosted configurations hold 1 MB).
MAX_CONTENT_CHARS = 4 * math.ceil(MAX_POLICY_BYTES / 3)
_ID = r"^[A-Za-z0-9_.-]{1,128}$"


class ConfigurationValidation(BaseModel):
    """The event AppConfig sends a LAMBDA validator (AppConfig User Guide, "Understanding
    validators"): the version's identifiers, its content in base64, and its URI."""

    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)

    # AppConfig's own field names.
    applicationId: str = Field(pattern=_ID)
    configurationProfileId: str = Field(pattern=_ID)
    configurationVersion: str = Field(min_length=1, max_length=1024)
    content: str = Field(max_length=MAX_CONTENT_CHARS)
    uri: str = Field(default="", max_length=2048)


class Validated(BaseModel):
    """A version AppConfig may deploy."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    action: str = "accepted"
    source: str
    models: int
    reason: str


def validate_configuration(raw: object) -> Validated:
    """Accept the version in AppConfig's validation event `raw`, or raise: `InvalidEvent` for an
    event that is not AppConfig's, `PolicyError` naming the version and each bad field."""
    event = parse_event(ConfigurationValidation, raw)
    source = (
        f"appconfig:{event.applicationId}/{event.configurationProfileId} "
        f"version {event.configurationVersion}"
    )
    try:
        content = base64.b64decode(event.content, validate=True)
    except (binascii.Error, ValueError):
        raise PolicyError(
            source, [FieldProblem(field="(content)", reason="not base64, as AppConfig sends it")]
        ) from None
    policy = parse_policy(content, source=source)
    count = len(policy.models)
    return Validated(
        source=source,
        models=count,
        reason=f"{count} model{'s' if count != 1 else ''}, {len(content)} bytes",
    )
