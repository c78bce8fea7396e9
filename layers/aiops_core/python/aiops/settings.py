"""Environment of the Lambda functions, validated once at cold start."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Names of the stack's resources, as template.yaml's Globals set them."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    stage: str = Field(default="dev")
    control_table: str = Field(min_length=3)
    ledger_table: str = Field(min_length=3)
    idempotency_table: str = Field(min_length=3)
    alerts_topic_arn: str = Field(pattern=r"^arn:aws[a-z-]*:sns:")
    artifacts_bucket: str = Field(min_length=3)
    retrain_state_machine_arn: str = Field(pattern=r"^arn:aws[a-z-]*:states:")
    policy_parameter: str = Field(pattern=r"^/")
    policy_cache_seconds: int = Field(default=60, ge=0)
    # Set on asynchronously invoked functions: where they keep events that can never succeed.
    dead_letter_queue_url: str | None = Field(default=None, pattern=r"^https://")
