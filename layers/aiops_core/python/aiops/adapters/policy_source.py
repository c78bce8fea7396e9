"""Where the running control plane reads its policy: an SSM parameter, cached briefly."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiops.adapters.aws import client as default_client
from aiops.clock import now
from aiops.policy import Policy, parse_policy


class SsmPolicySource:
    def __init__(self, parameter: str, cache_seconds: int = 60, client: Any | None = None) -> None:
        self.parameter = parameter
        self.cache_seconds = cache_seconds
        self._client = client
        self._cached: tuple[datetime, Policy] | None = None

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = default_client("ssm")
        return self._client

    def load(self) -> Policy:
        current = now()
        if self._cached and (current - self._cached[0]).total_seconds() < self.cache_seconds:
            return self._cached[1]
        text = self.client.get_parameter(Name=self.parameter)["Parameter"]["Value"]
        policy = parse_policy(text, source=f"ssm:{self.parameter}")
        self._cached = (current, policy)
        return policy
