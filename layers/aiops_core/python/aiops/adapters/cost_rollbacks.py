"""Cost remediation's rollback: the deploy capability's own (`aiops.deploy.rollback`), as a
rollback alarm would do it — the cost capability never imports the deploy one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aiops.policy import BedrockModelPolicy, Policy

if TYPE_CHECKING:
    from aiops.deploy.dependencies import DeployDependencies


class DeployRollbacks:
    def __init__(
        self,
        deploy: Callable[[], DeployDependencies],
        policy: Callable[[], Policy],
        now: Callable[[], datetime],
    ) -> None:
        # Built lazily: a signal that never rolls back never builds the deploy adapters.
        self._deploy = deploy
        self._policy = policy
        self._now = now

    def deployed_at(self, model: str) -> datetime | None:
        policy = self._policy()
        spec = policy.model(model)
        deps = self._deploy()
        if isinstance(spec, BedrockModelPolicy):
            served = deps.bedrock.history.served(model) if deps.bedrock else None
            return served.since if served else None
        deployed = deps.history.deployed(policy.sagemaker_model(model).deploy.endpoint)
        return deployed.since if deployed else None

    def roll_back(self, model: str, by: str, cause: dict[str, Any]) -> tuple[bool, str]:
        from aiops.deploy.rollback import roll_back

        decision = roll_back(
            model, self._policy(), self._deploy(), self._now(), by=by, cause=cause, manual=False
        )
        return decision.action == "rolled_back", decision.reason
