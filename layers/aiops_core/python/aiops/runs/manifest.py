"""A run's data manifest: the exact object versions it trains on, written before it starts."""

from datetime import datetime
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from aiops.runs.requests import RunRequest
from aiops.runs.window import ObjectRef, WindowStore


class DataManifest(BaseModel):
    """The exact data a run trains on: every object version of its windows."""

    model_config = ConfigDict(frozen=True, defer_build=True)
    model: str
    run_id: str
    windows: list[int]
    objects: list[ObjectRef]
    created_at: datetime


class ManifestWriter(Protocol):
    def write(self, manifest: DataManifest) -> str:
        """Store the manifest; returns its S3 URI."""
        ...


def collect_manifest(
    request: RunRequest, windows: WindowStore, now: datetime, carried: list[int] | None = None
) -> DataManifest:
    """The run's own windows plus those carried over from failed runs, each object once."""
    seqs = sorted(set(request.trigger.windows) | set(carried or []))
    objects: list[ObjectRef] = []
    for seq in seqs:
        closed = windows.get(request.model, seq)
        if closed is None:
            raise LookupError(
                f"{request.model}: window w{seq:06d} of run {request.run_id} does not exist"
            )
        objects.extend(closed.objects)
    return DataManifest(
        model=request.model,
        run_id=request.run_id,
        windows=seqs,
        objects=objects,
        created_at=now,
    )
