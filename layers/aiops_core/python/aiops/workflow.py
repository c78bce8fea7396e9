"""Inputs of the retrain workflow's Lambda steps, as the state machine passes them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from aiops.triggers import RunRequest


class StepInput(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    request: RunRequest


class StartTrainingInput(StepInput):
    task_token: str = Field(min_length=1)


class ReadCandidateInput(StepInput):
    pipeline_execution_arn: str = Field(min_length=1)


class EndRunInput(StepInput):
    outcome: Literal["succeeded", "failed"]
    error: str | None = None
    cause: str | None = None
