"""What the runtime needs to know from the policy file: nothing but names.

The control plane validates policies with its own pydantic model; the runtime only reads which
SageMaker pipelines and model package groups must exist before the control plane runs (on AWS
they are created by the data-science stack, not by us), so it parses leniently.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiops.policy import PolicyError, load_yaml


@dataclass(frozen=True)
class ModelInfo:
    name: str
    kind: str
    pipeline: str | None
    package_group: str


@dataclass(frozen=True)
class PolicyInfo:
    text: str
    models: tuple[ModelInfo, ...]

    def model_for_pipeline(self, pipeline: str) -> ModelInfo | None:
        return next((m for m in self.models if m.pipeline == pipeline), None)


def read_policy(path: Path) -> PolicyInfo:
    text = path.read_text(encoding="utf-8")
    try:
        # Read as the control plane reads it (YAML 1.2 core, bounded); a policy it would
        # refuse provisions nothing here, and its handlers report why.
        document: Any = load_yaml(text, str(path)) or {}
    except PolicyError:
        document = {}
    models: list[ModelInfo] = []
    raw_models = document.get("models", {}) if isinstance(document, dict) else {}
    for name, body in (raw_models or {}).items():
        body = body if isinstance(body, dict) else {}
        models.append(
            ModelInfo(
                name=str(name),
                kind=str(body.get("kind", "")),
                pipeline=body.get("pipeline"),
                package_group=str(body.get("package_group") or name),
            )
        )
    return PolicyInfo(text, tuple(models))
