"""Step Functions executions wait on the virtual clock instead of the wall clock.

moto's ASL interpreter runs each execution in threads and waits with `threading.Event.wait`,
`Thread.join`, `time.sleep` (retry intervals) and `datetime.now()` (Wait until a timestamp). We
swap those names, module by module, for the virtual versions in `virtual_threading`, so a Wait of
six hours or a retry backoff takes no real time, and the clock can tell when every execution is
blocked.
"""

from __future__ import annotations

import importlib
from typing import Any

from aiops_local.clock import TIMER, current_clock
from aiops_local.patches.base import Patcher
from aiops_local.virtual_threading import (
    VirtualEvent,
    VirtualThread,
    datetime_shim,
    threading_shim,
    time_shim,
)

_ASL = "moto.stepfunctions.parser.asl"
_STATE = f"{_ASL}.component.state"

# Modules that use `threading.<Event|Thread|Condition>` through the module name.
THREADING_MODULES = (
    f"{_ASL}.component.program.program",
    f"{_STATE}.exec.execute_state",
    f"{_STATE}.exec.state_parallel.branch_worker",
    f"{_STATE}.exec.state_parallel.branches_decl",
    f"{_STATE}.exec.state_map.iteration.job",
    f"{_STATE}.exec.state_map.iteration.inline_iteration_component",
    f"{_STATE}.exec.state_map.iteration.itemprocessor.map_run_record",
    f"{_STATE}.exec.state_task.service.state_task_service_callback",
    f"{_ASL}.eval.count_down_latch",
    f"{_ASL}.eval.environment",
)
# Modules that imported a primitive by name.
NAMED_IMPORTS = (
    (f"{_STATE}.exec.execute_state", "Thread", VirtualThread),
    ("moto.stepfunctions.parser.backend.execution_worker", "Thread", VirtualThread),
    (f"{_ASL}.eval.callback.callback", "Event", VirtualEvent),
)
TIME_MODULES = (f"{_ASL}.component.common.retry.retrier_decl",)
DATETIME_MODULES = (
    f"{_STATE}.wait.wait_function.timestamp",
    "moto.stepfunctions.parser.backend.execution",
    "moto.stepfunctions.parser.models",
)


def _virtual_wait_interval(self: Any, env: Any, wait_seconds: int) -> None:
    # The original measures the real time that passed and waits again for the rest, which would
    # never end on a virtual clock. A stop or failure of the execution sets program_state_event.
    clock = current_clock()
    if wait_seconds > 0 and clock is not None and not clock.closed:
        clock.sleep(
            wait_seconds, interrupt=env.program_state_event, kind=TIMER, description="Wait state"
        )


def _virtual_timestamp() -> Any:
    clock = current_clock()
    assert clock is not None
    return clock.now()


def install(patcher: Patcher) -> None:
    threading_module = threading_shim()
    for name in THREADING_MODULES:
        patcher.replace(importlib.import_module(name), "threading", threading_module)
    for module_name, attribute, value in NAMED_IMPORTS:
        patcher.replace(importlib.import_module(module_name), attribute, value)
    time_module = time_shim()
    for name in TIME_MODULES:
        patcher.replace(importlib.import_module(name), "time", time_module)
    datetime_module = datetime_shim()
    for name in DATETIME_MODULES:
        patcher.replace(importlib.import_module(name), "datetime", datetime_module)

    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import (
        WaitFunction,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager

    patcher.replace(WaitFunction, "_wait_interval", _virtual_wait_interval)
    patcher.replace(EventManager, "_get_current_timestamp", staticmethod(_virtual_timestamp))
