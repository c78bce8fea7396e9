"""Retrain step: read the model package the pipeline run registered, with its metrics."""

from __future__ import annotations

from typing import Any

from aiops.adapters.stack import Stack
from aiops.clock import now
from aiops.events import parse_event
from aiops.observability import lambda_entry
from aiops.retrain.workflow import read_candidate
from aiops.runs.steps import ReadCandidateInput
from aiops.settings.retrain import RetrainSettings

STACK = Stack(RetrainSettings())


@lambda_entry()
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    step = parse_event(ReadCandidateInput, event)
    candidate = read_candidate(
        step.request,
        step.pipeline_execution_arn,
        STACK.policy.load(),
        STACK.retrain_workflow,
        now(),
    )
    return candidate.as_payload()
