"""What every workflow starts runs with and alerts through (ports; adapters implement them)."""

from __future__ import annotations

from typing import Protocol

from aiops.runs.requests import RunRequest


class RunStarter(Protocol):
    def start(self, request: RunRequest) -> str:
        """Start the retrain workflow for `request`; idempotent on its run id."""
        ...


class Alerts(Protocol):
    def publish(self, subject: str, message: str) -> None: ...
