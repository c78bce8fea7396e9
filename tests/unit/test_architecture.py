"""Structural rules: domain code never imports boto3; state machines match the template."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

from tests.support.template import resources

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "layers" / "aiops_core" / "python" / "aiops"
ASL_FILES = sorted((ROOT / "statemachines").glob("*.asl.json"))


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize(
    "path",
    sorted(p for p in PACKAGE.rglob("*.py") if "adapters" not in p.parts),
    ids=lambda p: p.name,
)
def test_domain_modules_never_import_boto3(path):
    assert not imported_modules(path) & {"boto3", "botocore"}


@pytest.mark.parametrize(
    "path", sorted((ROOT / "functions").glob("*/app.py")), ids=lambda p: p.parent.name
)
def test_handlers_do_not_import_boto3_directly(path):
    assert "boto3" not in imported_modules(path)


@pytest.mark.parametrize("path", ASL_FILES, ids=lambda p: p.name)
def test_state_machines_parse_with_the_asl_parser(path):
    program, _ = AmazonStateLanguageParser.parse(path.read_text())

    assert program is not None


def _states(definition: dict) -> dict[str, dict]:
    found: dict[str, dict] = {}
    for name, state in definition["States"].items():
        found[name] = state
        for branch in state.get("Branches", []):
            found.update(_states(branch))
        if "Iterator" in state or "ItemProcessor" in state:
            found.update(_states(state.get("ItemProcessor") or state["Iterator"]))
    return found


@pytest.mark.parametrize("path", ASL_FILES, ids=lambda p: p.name)
def test_every_task_has_retry_and_catch(path):
    tasks = {n: s for n, s in _states(json.loads(path.read_text())).items() if s["Type"] == "Task"}

    missing = [n for n, s in tasks.items() if not s.get("Retry") or not s.get("Catch")]

    assert tasks and missing == []


@pytest.mark.parametrize("path", ASL_FILES, ids=lambda p: p.name)
def test_every_substitution_is_defined_by_the_template(path):
    machines = resources("AWS::Serverless::StateMachine")
    owner = [
        m
        for m in machines.values()
        if m["Properties"]["DefinitionUri"] == f"statemachines/{path.name}"
    ]
    used = set(re.findall(r"\$\{(\w+)\}", path.read_text()))

    assert len(owner) == 1, f"{path.name} is used by exactly one state machine"
    defined = set(owner[0]["Properties"].get("DefinitionSubstitutions", {}))
    assert used == defined
