"""What each Bedrock base model accepts for fine-tuning, kept as data (`base_models.json`), not
code: its record format, its limits (records, tokens, file size, reserved strings) and the
hyper-parameters it takes. The policy checks a model's `base_model` against it, the labeled-data
validator checks every record against it, and a new base model is a new entry, not a release.
"""

import json
from enum import StrEnum
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

_DATA = Path(__file__).with_name("base_models.json")


class RecordFormat(StrEnum):
    """The JSONL record formats Bedrock fine-tuning reads."""

    # {"schemaVersion": "bedrock-conversation-2024", "system": [{"text"}], "messages": [...]}
    CONVERSATION = "bedrock-conversation-2024"
    # Claude 3 Haiku: {"system": "...", "messages": [{"role", "content": "..."}]}
    CLAUDE_MESSAGES = "claude-messages"
    # Titan, Cohere, Llama 3.1: {"prompt": "...", "completion": "..."}
    PROMPT_COMPLETION = "prompt-completion"


class HyperParameterRange(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)
    min: float
    max: float
    integer: bool = False
    default: float | None = None


class BaseModelSpec(BaseModel):
    """One base model's fine-tuning contract, as its documentation states it."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)
    model_id: str
    format: RecordFormat
    # Tokens of one record (prompt and answer together); estimated without the model's
    # tokenizer at `chars_per_token`, erring towards too many (a record rejected here is
    # reported; one Bedrock rejects fails the whole job an hour later).
    max_record_tokens: int = Field(ge=1)
    chars_per_token: float = Field(default=3.0, gt=0)
    min_training_records: int = Field(ge=1)
    max_training_records: int = Field(ge=1)
    max_validation_records: int = Field(ge=0)
    # The largest labeled file validated (and the largest training file Bedrock takes).
    max_file_bytes: int = Field(ge=1)
    reserved_strings: tuple[str, ...] = ()
    system_allowed: bool = True
    images_allowed: bool = False
    hyper_parameters: dict[str, HyperParameterRange] = Field(default_factory=dict)
    # Whether an on-demand custom model deployment can serve its custom models.
    custom_model_deployment: bool = False
    source: str = Field(description="The documentation page these limits come from.")
    # Where a figure is not in the documentation, the conservative choice made, and why.
    note: str = ""


@cache
def base_models() -> dict[str, BaseModelSpec]:
    """Every base model the control plane can fine-tune, by model id."""
    raw = json.loads(_DATA.read_text(encoding="utf-8"))
    return {entry["model_id"]: BaseModelSpec.model_validate(entry) for entry in raw["models"]}


def base_model(model_id: str) -> BaseModelSpec | None:
    return base_models().get(model_id)
