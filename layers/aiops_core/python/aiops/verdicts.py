"""The gate's verdict per model package: what later steps check before they trust an approval
(a package approved in the registry that our gate never passed is not ours to act on)."""

from datetime import datetime
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict


class GateVerdict(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)
    package_arn: str
    model: str
    decision: Literal["approve", "await_human", "reject"]
    reason: str
    run_id: str
    at: datetime


class GateVerdicts(Protocol):
    def record(self, verdict: GateVerdict) -> None:
        """Keep the verdict (a retried gate writes the same one again)."""
        ...

    def get(self, package_arn: str) -> GateVerdict | None: ...
