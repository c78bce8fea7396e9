"""Offline, a function sees only the variables its template entry gives it, as on AWS."""

from __future__ import annotations

import os
from pathlib import Path

from aiops_local.clock import VirtualClock
from aiops_local.functions import FunctionBinding, Invoker
from aiops_local.timeline import Timeline

HANDLER = """
import os

def handler(event, context):
    return {name: os.environ.get(name) for name in ("ONLY_A", "SHARED", "AWS_REGION")}
"""


def _binding(code: Path, logical_id: str, environment: dict[str, str]) -> FunctionBinding:
    return FunctionBinding(
        logical_id=logical_id,
        name=logical_id,
        arn=f"arn:aws:lambda:us-east-1:123456789012:function:{logical_id}",
        code_dir=code,
        handler="app.handler",
        environment=environment,
    )


def test_a_function_does_not_see_a_variable_another_function_was_given(tmp_path, monkeypatch):
    # Given two functions: A is given ONLY_A, B is not
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "app.py").write_text(HANDLER)
    monkeypatch.setattr(os, "environ", os.environ.copy())
    invoker = Invoker(Timeline(VirtualClock()), "us-east-1", "123456789012")
    a = _binding(tmp_path / "a", "A", {"ONLY_A": "yes", "SHARED": "a"})
    b = _binding(tmp_path / "b", "B", {"SHARED": "b"})
    invoker.bind(a)
    invoker.bind(b)

    # When A runs, then B
    seen_by_a = invoker.invoke(a, {}, via="test").payload
    seen_by_b = invoker.invoke(b, {}, via="test").payload

    # Then B never sees A's value (on AWS the variable would not exist; offline it is empty,
    # which the functions' settings read as unset), and the region stays
    assert seen_by_a == {"ONLY_A": "yes", "SHARED": "a", "AWS_REGION": "us-east-1"}
    assert seen_by_b == {"ONLY_A": "", "SHARED": "b", "AWS_REGION": "us-east-1"}


def test_invocations_never_add_or_remove_environment_variables(tmp_path, monkeypatch):
    # A workflow's thread may copy os.environ while a function is invoked: a key added or
    # removed under it raised KeyError in that thread. Only values may change.
    monkeypatch.setattr(os, "environ", os.environ.copy())
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "app.py").write_text(HANDLER)
    invoker = Invoker(Timeline(VirtualClock()), "us-east-1", "123456789012")
    a = _binding(tmp_path / "a", "A", {"ONLY_A": "yes", "SHARED": "a"})
    b = _binding(tmp_path / "b", "B", {"SHARED": "b"})
    invoker.bind(a)
    invoker.bind(b)
    keys = set(os.environ)

    for binding in (a, b, a):
        invoker.invoke(binding, {}, via="test")
        assert set(os.environ) == keys
