"""Retrain step: the automatic gate — reject with the reason, approve, or hand off to a human."""

from __future__ import annotations

import json
from typing import Any

from aiops.adapters.stack import Stack
from aiops.clock import now
from aiops.events import parse_event
from aiops.gate.step import gate_candidate
from aiops.observability import lambda_entry
from aiops.runs.steps import GateInput
from aiops.settings.retrain import GateSettings

STACK = Stack(GateSettings())


@lambda_entry()
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    step = parse_event(GateInput, event)
    outcome = gate_candidate(step.request, step.candidate, STACK.policy.load(), STACK.gate, now())
    payload: dict[str, Any] = json.loads(outcome.model_dump_json())
    return payload
