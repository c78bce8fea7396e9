"""Where the running control plane reads its policy: an SSM parameter, cached briefly."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiops.adapters.aws import AwsAdapter
from aiops.clock import now
from aiops.policy import Policy, parse_policy


class SsmPolicySource(AwsAdapter):
    service = "ssm"

    def __init__(self, parameter: str, cache_seconds: int = 60, client: Any | None = None) -> None:
        self.parameter = parameter
        self.cache_seconds = cache_seconds
        super().__init__(client)
        self._cached: tuple[datetime, Policy] | None = None

    def load(self) -> Policy:
        current = now()
        if self._cached and (current - self._cached[0]).total_seconds() < self.cache_seconds:
            return self._cached[1]
        text = self.client.get_parameter(Name=self.parameter)["Parameter"]["Value"]
        policy = parse_policy(text, source=f"ssm:{self.parameter}")
        self._cached = (current, policy)
        return policy
