"""Bedrock Runtime answers: the settings the `bedrock_runtime` patch answers with.

The patch (`aiops_local.patches.bedrock_runtime`) answers Converse and InvokeModel as the call
happens; this simulator holds what it answers with, so a scenario sets it like any simulator's
(`simulators.bedrock_runtime`, or a `configure` step), and counts the answers it gave.

Settings:
  quality: 0.85       (share of known prompts a custom model answers with the reference itself;
                       the others get a paraphrase of it; 0 to 1)
  toxic_share: 0.0    (share of prompts whose answer holds one of `TOXIC_PHRASES`; 0 to 1)
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, ClassVar

from aiops_local.patches import bedrock_runtime
from aiops_local.patches.botocore_calls import ApiCall
from aiops_local.simulators.base import Simulator, SimulatorHost, register
from aiops_local.simulators.settings import check_known, check_number


@register
class BedrockRuntimeSimulator(Simulator):
    name = "bedrock_runtime"
    watches: ClassVar[frozenset[tuple[str, str]]] = frozenset(
        {("bedrock-runtime", "Converse"), ("bedrock-runtime", "InvokeModel")}
    )

    def __init__(self, host: SimulatorHost) -> None:
        super().__init__(host)
        self._settings: dict[str, Any] = dict(bedrock_runtime.DEFAULTS)
        self._lock = threading.Lock()
        self.answered = 0  # calls answered (not refused)

    def configure(self, settings: dict[str, Any]) -> None:
        if not isinstance(settings, dict):
            raise ValueError("bedrock_runtime: settings are a mapping")
        check_known(self.name, settings, tuple(bedrock_runtime.DEFAULTS), takes_next=False)
        for key in settings:
            check_number(self.name, settings, key, 0, 1)
        with self._lock:
            self._settings.update(settings)

    @property
    def settings(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._settings)

    def on_call(self, call: ApiCall) -> None:
        if call.error is None and call.result is not None:
            with self._lock:
                self.answered += 1


def runtime_settings(simulators: Mapping[str, Simulator]) -> dict[str, Any]:
    """The running `bedrock_runtime` simulator's settings (the defaults before it exists)."""
    simulator = simulators.get(BedrockRuntimeSimulator.name)
    if isinstance(simulator, BedrockRuntimeSimulator):
        return simulator.settings
    return dict(bedrock_runtime.DEFAULTS)
