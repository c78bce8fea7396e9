"""The simulator contract and registry."""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

from aiops_local.agenda import Agenda
from aiops_local.bus import EventQueue
from aiops_local.clock import VirtualClock
from aiops_local.metrics import MetricStore
from aiops_local.patches.botocore_calls import ApiCall
from aiops_local.policy_info import PolicyInfo
from aiops_local.schedules import Schedules
from aiops_local.timeline import Timeline


class SimulatorHost(Protocol):
    """What a simulator may use of the running cloud."""

    account: str
    region: str
    clock: VirtualClock
    agenda: Agenda
    events: EventQueue
    timeline: Timeline
    policy: PolicyInfo
    schedules: Schedules
    metrics: MetricStore

    @property
    def artifacts_bucket(self) -> str: ...

    def client(self, service: str) -> Any: ...

    def bucket(self, logical_id_or_name: str) -> str: ...

    def put_object(
        self,
        bucket: str,
        key: str,
        body: bytes | None = None,
        size: int | None = None,
        content_type: str | None = None,
    ) -> dict[str, Any]: ...


class Simulator:
    """One piece of AWS behaviour. `watches` names the (service, Operation) calls it follows."""

    name: ClassVar[str]
    watches: ClassVar[frozenset[tuple[str, str]]] = frozenset()

    def __init__(self, host: SimulatorHost) -> None:
        self.host = host

    def configure(self, settings: dict[str, Any]) -> None:
        """Apply a scenario's instructions (defaults, or what the next runs do)."""
        if settings:
            raise ValueError(f"simulator {self.name} takes no settings")

    def on_call(self, call: ApiCall) -> None:
        """A successful or failed call this simulator watches. May run on any thread."""

    def settle(self) -> None:
        """The template was just provisioned: bring what this simulator keeps to the state of a
        stack that has been running (alarm states announce nothing meanwhile)."""


REGISTRY: dict[str, type[Simulator]] = {}


def register(cls: type[Simulator]) -> type[Simulator]:
    REGISTRY[cls.name] = cls
    return cls
