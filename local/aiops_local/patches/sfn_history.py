"""Step Functions executions report to the timeline, and act as their state machine.

moto records each execution's history through `EventManager.add_event`; we tag every execution's
event manager with who it belongs to (in `ExecutionWorker._get_evaluation_environment`) and pass
start, state-entered and end events on. The execution's thread runs as the state machine's actor,
so AWS calls its service integrations make are attributed to it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

from aiops_local.actors import Actor, acting_as
from aiops_local.patches.base import Patcher

_TAG = "_aiops_local_execution"

_END_STATUS = {
    "ExecutionSucceeded": "SUCCEEDED",
    "ExecutionFailed": "FAILED",
    "ExecutionTimedOut": "TIMED_OUT",
    "ExecutionAborted": "ABORTED",
}


@dataclass(frozen=True)
class ExecutionRef:
    state_machine: str
    name: str
    arn: str


@dataclass(frozen=True)
class HistoryNote:
    execution: ExecutionRef
    status: str | None  # RUNNING on start, the end status at the end, None for a state
    state: str | None
    error: str | None
    cause: str | None
    event_type: str


def _note(execution: ExecutionRef, event_type: str, details: dict[str, Any]) -> HistoryNote | None:
    body: dict[str, Any] = next(iter(details.values()), {}) if details else {}
    if event_type == "ExecutionStarted":
        return HistoryNote(execution, "RUNNING", None, None, None, event_type)
    if event_type in _END_STATUS:
        return HistoryNote(
            execution,
            _END_STATUS[event_type],
            None,
            body.get("error"),
            body.get("cause"),
            event_type,
        )
    if event_type.endswith("StateEntered"):
        return HistoryNote(execution, None, body.get("name"), None, None, event_type)
    if event_type == "TaskTimedOut":
        return HistoryNote(execution, None, None, body.get("error"), body.get("cause"), event_type)
    return None


def install(patcher: Patcher, observe: Callable[[HistoryNote], None]) -> None:
    original_environment = ExecutionWorker._get_evaluation_environment
    original_logic = ExecutionWorker._execution_logic
    original_add_event = EventManager.add_event

    def _get_evaluation_environment(self: ExecutionWorker) -> Any:
        env = original_environment(self)
        details = self._evaluation_details
        ref = ExecutionRef(
            details.state_machine_details.name,
            details.execution_details.name,
            details.execution_details.arn,
        )
        setattr(env.event_manager, _TAG, ref)
        return env

    def _execution_logic(self: ExecutionWorker) -> None:
        name = self._evaluation_details.state_machine_details.name
        with acting_as(Actor("state_machine", name)):
            original_logic(self)

    def add_event(self: EventManager, *args: Any, **kwargs: Any) -> int:
        event_id = original_add_event(self, *args, **kwargs)
        ref: ExecutionRef | None = getattr(self, _TAG, None)
        if ref is not None:
            event_type = kwargs.get("event_type", args[1] if len(args) > 1 else None)
            details = kwargs.get("event_details", args[2] if len(args) > 2 else None)
            note = _note(
                ref,
                str(getattr(event_type, "value", event_type)),
                json.loads(json.dumps(details or {}, default=str)),
            )
            if note is not None:
                observe(note)
        return event_id

    patcher.replace(ExecutionWorker, "_get_evaluation_environment", _get_evaluation_environment)
    patcher.replace(ExecutionWorker, "_execution_logic", _execution_logic)
    patcher.replace(EventManager, "add_event", add_event)
