"""A run's data manifest: the exact object versions it trains on, written before it starts."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from aiops.runs.window import ObjectRef


class DataManifest(BaseModel):
    """The exact data a run trains on: every object version of its windows."""

    model_config = ConfigDict(frozen=True)
    model: str
    run_id: str
    windows: list[int]
    objects: list[ObjectRef]
    created_at: datetime


class ManifestWriter(Protocol):
    def write(self, manifest: DataManifest) -> str:
        """Store the manifest; returns its S3 URI."""
        ...
