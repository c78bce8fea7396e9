"""Who is calling AWS right now: a Lambda invocation, a state machine, or the runtime itself.

A ContextVar, so it follows the code that runs on behalf of an invocation or execution; interpreter
threads copy their creator's context (see `virtual_threading.VirtualThread`).
"""

from __future__ import annotations

import contextvars
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass(eq=False)
class Actor:
    kind: str  # "function" | "state_machine"
    name: str  # function logical id or state machine name
    api_calls: int = 0
    logs: io.StringIO = field(default_factory=io.StringIO)


_current: contextvars.ContextVar[Actor | None] = contextvars.ContextVar(
    "aiops_local_actor", default=None
)


def current_actor() -> Actor | None:
    return _current.get()


@contextmanager
def acting_as(actor: Actor | None) -> Iterator[Actor | None]:
    token = _current.set(actor)
    try:
        yield actor
    finally:
        _current.reset(token)
