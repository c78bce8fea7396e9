"""The runtime on its miniature project (tests/support/toy_project.py): the runtime's own tests
do not depend on what the control plane's handlers do; `tests/e2e` runs the real project."""

from __future__ import annotations

from pathlib import Path

from aiops_local.template import CloudTemplate


def test_toy_template_expands_with_its_rules_and_schedule(toy_project: Path) -> None:
    template = CloudTemplate(toy_project)
    rules = {r.logical_id for r in template.of_type("AWS::Events::Rule")}
    assert rules == {"HelloFunctionCreated", "FailFunctionFailing", "FlowStateMachineGo"}
    assert [r.logical_id for r in template.of_type("AWS::Scheduler::Schedule")] == [
        "TickFunctionTick"
    ]
    assert "OwnerTopic" not in template.resources  # its condition is false
