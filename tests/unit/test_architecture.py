"""Structural rules: domain code never imports boto3; a capability never imports another;
state machines match the template."""

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
    "path",
    sorted(p for p in PACKAGE.rglob("*.py") if "pydantic" in imported_modules(p)),
    ids=lambda p: str(p.relative_to(PACKAGE)),
)
def test_modules_defining_pydantic_models_do_not_postpone_annotations(path):
    # Cold start: with `from __future__ import annotations` pydantic evaluates every annotation
    # from its text again when it creates each model class (and each subclass repeats its
    # parents'), at every cold start. Forward references are quoted instead.
    future = {
        alias.name
        for node in ast.parse(path.read_text()).body
        if isinstance(node, ast.ImportFrom) and node.module == "__future__"
        for alias in node.names
    }

    assert "annotations" not in future


# One package per capability beside the shared kernel (aiops.runs, policy, events, ledger,
# registry, …). A capability may import the kernel, never another capability.
KERNEL_PACKAGES = {"runs", "events", "settings"}
CAPABILITIES = sorted(
    p.name
    for p in PACKAGE.iterdir()
    if p.is_dir() and (p / "__init__.py").exists() and p.name not in {"adapters", *KERNEL_PACKAGES}
)


def aiops_imports(path: Path) -> set[str]:
    """Every `aiops.…` module `path` imports, at any depth (lazy imports included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names if a.name.startswith("aiops"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("aiops"):
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def test_the_capabilities_are_packages_of_their_own():
    assert {"retrain", "drift", "gate", "audit"} <= set(CAPABILITIES)
    assert (PACKAGE / "runs" / "__init__.py").exists()


@pytest.mark.parametrize(
    "path",
    sorted(p for c in CAPABILITIES for p in (PACKAGE / c).rglob("*.py")),
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_a_capability_imports_the_kernel_never_another_capability(path):
    own = path.relative_to(PACKAGE).parts[0]
    others = {f"aiops.{c}" for c in CAPABILITIES if c != own}

    crossing = {
        m
        for m in aiops_imports(path)
        if m in others or m.startswith(tuple(o + "." for o in others))
    }

    assert crossing == set()


@pytest.mark.parametrize(
    "path",
    sorted(p for p in PACKAGE.glob("*.py"))
    + sorted(p for k in sorted(KERNEL_PACKAGES) for p in (PACKAGE / k).rglob("*.py")),
    ids=lambda p: p.name,
)
def test_the_kernel_imports_no_capability(path):
    capabilities = tuple(f"aiops.{c}" for c in CAPABILITIES)

    assert {m for m in aiops_imports(path) if m.startswith(capabilities)} == set()


def test_the_rule_catches_a_crossing_import(tmp_path):
    # Given a drift module importing the retrain capability
    module = tmp_path / "bad.py"
    module.write_text("from aiops.retrain.workflow import end_run\n")

    # Then the import is seen (the rule above would fail on it)
    assert "aiops.retrain.workflow" in aiops_imports(module)


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
