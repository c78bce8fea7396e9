"""What cost remediation acts through (adapters implement these; fakes in tests are held to
the same contract)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from aiops.cost.model import EndpointState, VariantCapacity


class EndpointCapacity(Protocol):
    def state(self, endpoint: str) -> EndpointState | None:
        """The endpoint's status, `aiops:model` tag and variants' capacity; None when absent."""
        ...

    def set_capacity(self, variants: list[VariantCapacity]) -> None:
        """Run each variant (of one endpoint, in one call) on its `instances`; a `scaled` one's
        scalable target gets its bounds first (so auto scaling does not undo the change).
        ValueError: bounds that do not hold the instances; LookupError: no such endpoint or
        variant."""
        ...


class SavedCapacities(Protocol):
    def save(self, model: str, variants: list[VariantCapacity], cause: dict[str, Any]) -> None:
        """Keep the capacity before a scale-down (with its `saved_by`); a variant already saved
        keeps its first saved capacity (a second anomaly must not make the minimum the one to
        restore)."""
        ...

    def saved(self, model: str) -> list[VariantCapacity]: ...

    def forget(self, model: str, variants: list[VariantCapacity]) -> None:
        """Drop these variants' saved capacity (restored)."""
        ...


class RunningJobs(Protocol):
    def pipeline_executions(self, pipeline: str) -> list[str]:
        """ARNs of the pipeline's executions still running."""
        ...

    def stop_pipeline_execution(self, arn: str) -> bool:
        """Ask SageMaker to stop it; False when it had already ended."""
        ...

    def customization_jobs(self, model: str) -> list[str]:
        """ARNs of the model's customization jobs in progress (tagged `aiops:model`)."""
        ...

    def stop_customization_job(self, arn: str) -> bool:
        """Ask Bedrock to stop it; False when it had already ended."""
        ...


class Rollbacks(Protocol):
    def deployed_at(self, model: str) -> datetime | None:
        """When the version serving the model was deployed (None: nothing we deployed)."""
        ...

    def roll_back(self, model: str, by: str, cause: dict[str, Any]) -> tuple[bool, str]:
        """Back to the last known good, as the rollback alarm would: (rolled back, why)."""
        ...


class ResumeNotices(Protocol):
    def resumed(self, model: str, by: str) -> None:
        """Tell the triggers' sweeps that the model's runs may start again (they start what the
        pause held)."""
        ...
