"""Who is calling AWS right now: a Lambda invocation, a state machine, or the runtime itself.

A ContextVar, so it follows the code that runs on behalf of an invocation or execution; interpreter
threads copy their creator's context (see `virtual_threading.VirtualThread`).

A second one says whether the runtime acts for the scenario (a step, `aiops local send`: the
person running it) rather than for the control plane: an upload the scenario makes is the user's,
the same upload made by a handler, a state machine or a simulated AWS service working for them is
the control plane's own (the timeline hides those that no rule matched from the human story).
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


_by_scenario: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "aiops_local_by_scenario", default=False
)


def current_actor() -> Actor | None:
    return _current.get()


def caused_by_scenario() -> bool:
    """The code running now acts for the scenario: marked so, and no invocation or execution of
    the control plane is current."""
    return _by_scenario.get() and _current.get() is None


@contextmanager
def on_behalf_of_scenario(scenario: bool = True) -> Iterator[None]:
    """What runs inside acts for the scenario (`True`) or not (`False`: the runtime's loop,
    where simulators and the control plane act)."""
    token = _by_scenario.set(scenario)
    try:
        yield
    finally:
        _by_scenario.reset(token)


@contextmanager
def acting_as(actor: Actor | None) -> Iterator[Actor | None]:
    token = _current.set(actor)
    try:
        yield actor
    finally:
        _current.reset(token)
