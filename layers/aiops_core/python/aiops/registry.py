"""The model registry as the domain sees it: candidates, the champion, approval decisions."""

import json
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict


class Candidate(BaseModel):
    # A NaN or infinite metric must reach the gate (which rejects it), but JSON has no such
    # numbers: between workflow steps they travel as the strings "NaN" / "Infinity".
    model_config = ConfigDict(frozen=True, ser_json_inf_nan="strings", defer_build=True)
    package_arn: str
    package_group: str
    version: int
    approval_status: str
    metrics: dict[str, float]
    pipeline_execution_arn: str | None = None

    def as_payload(self) -> dict[str, Any]:
        """The candidate as valid JSON for Step Functions (non-finite metrics as strings)."""
        payload: dict[str, Any] = json.loads(self.model_dump_json())
        return payload


class ModelRegistry(Protocol):
    def find_candidate(
        self, package_group: str, pipeline_execution_arn: str
    ) -> Candidate | None: ...

    def champion(self, package_group: str) -> Candidate | None:
        """The latest Approved package of the group: the model to beat."""
        ...

    def set_status(
        self, package_arn: str, status: Literal["Approved", "Rejected"], description: str
    ) -> None: ...


class PackageState(BaseModel):
    """A model package's approval as the registry holds it now, and who last changed it."""

    model_config = ConfigDict(frozen=True, defer_build=True)
    package_arn: str
    package_group: str
    version: int
    approval_status: str
    description: str = ""
    # SageMaker's LastModifiedBy: the Studio user profile, else the IAM identity, if it says.
    modified_by: str | None = None
