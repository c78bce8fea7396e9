"""What the SageMaker operations added to moto share: how they are installed (on moto's backend,
`SageMakerModelBackend`, and on its response handler, `SageMakerResponse`, which moto dispatches
to by the operation's snake_case name) and the time they happen at."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from moto.core.responses import ActionResult
from moto.sagemaker.models import SageMakerModelBackend
from moto.sagemaker.responses import SageMakerResponse

from aiops_local.clock import current_clock
from aiops_local.patches.base import Patcher


def add_operations(
    patcher: Patcher,
    backend_methods: Mapping[str, Callable[..., Any]],
    response_methods: Mapping[str, Callable[[SageMakerResponse], ActionResult]],
) -> None:
    """Add each operation to moto's SageMaker backend and response handler; refuses
    (PatchError) once moto has any of them."""
    for name, method in backend_methods.items():
        patcher.add(SageMakerModelBackend, name, method)
    for name, handler in response_methods.items():
        patcher.add(SageMakerResponse, name, handler)


def operation_time() -> datetime:
    """The runtime's virtual time when a LocalCloud runs, else the real time to the second."""
    clock = current_clock()
    return clock.now() if clock is not None else datetime.now(UTC).replace(microsecond=0)


def utc(moment: datetime) -> datetime:
    """botocore's parsed timestamps reach moto naive, in UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
