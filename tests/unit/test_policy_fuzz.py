"""Hostile input files never crash the CLI: generated bad policies and event files.

Every bad policy is `policies/default.yaml` with one deterministic mutation (a bad value in place
of one of its values, a required field removed, an unknown key, the wrong container, bytes that
are not UTF-8, control characters, tabs, a repeated key) or a bad document of its own. Each must
be rejected by the real `aiops policy check`: exit 1, no traceback, and every problem line naming
the mutated field (or an enclosing one, or the mutated line) and a reason.
"""

from __future__ import annotations

import copy
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from aiops_cli.main import main

ROOT = Path(__file__).resolve().parents[2]
VALID = (ROOT / "policies" / "default.yaml").read_text(encoding="utf-8")
SEED = 20_260_101

# What each value of default.yaml is, by its key (a list item: its list's key). A new field in
# default.yaml must be added here, with the bad values of its kind.
KINDS = {
    "version": "int",
    "objects": "int",
    "min_violations": "int",
    "canary_percent": "int",
    "min_records": "int",
    "min_rows": "int",
    "bytes": "size",
    "max_age": "duration",
    "cooldown": "duration",
    "lookback": "duration",
    "timeout": "duration",
    "bake": "duration",
    "run_timeout": "duration",
    "higher_is_better": "bool",
    "human": "bool",
    "dry_run": "bool",
    "floor": "float",
    "min_improvement": "non-negative float",
    "safety_min_pass_rate": "non-negative float",
    "anomaly_min_usd": "non-negative float",
    "max_psi": "non-negative float",
    "prefix": "prefix",
    "kind": "choice",
    "source": "choice",
    "strategy": "choice",
    "format": "choice",
    "actions": "choice",
    "pipeline": "name",
    "package_group": "name",
    "endpoint": "name",
    "serving_parameter": "name",
    "capture_uri": "name",
    "approvers": "email",
    "metric": "text",
    "label": "text",
    "checks": "text",
    "rollback_alarms": "text",
    "base_model": "text",
    "prompt_field": "text",
    "answer_field": "text",
    "quarantine": "choice",
    "task_type": "choice",
    "max_examples": "int",
    "epochCount": "int",
    "holdout_percent": "int",
    "max_toxicity": "non-negative float",
    "poll": "duration",
    "spend_alarms": "text",
    "usage_types": "usage type",
    "pause_for": "duration",
    "resume_on_ok": "bool",
}
# Bad for a value of any kind (YAML text that fits in flow and block context alike).
ANYWHERE = [
    ".nan",
    ".inf",
    "-.inf",
    "1e40",
    "123456789012345678901234567890",
    "{x: 1}",
    "[[[[1]]]]",
    "!!binary aGVsbG8=",
    "!!python/object:os.system {}",
    "*nowhere",
    "{a: 1, a: 2}",
    "[" * 70 + "]" * 70,
]
BAD = {
    "int": ["0", "-1", "1:30", "5.0", '"5"', "true", "٣", "0x", "1_000"],
    "size": ["0", "-1", "0.0001B", "1:30", "٣MB", "5 XB", "true", "1.5.3MB", "10PiB", "50mb"],
    "duration": ["0s", "-1h", "0", "1:30", "٣h", "366d", "99999999999999999d", "soon", "6hours"],
    "bool": ["yes", "no", "on", "off", "1", "0", '"true"', "y", "True_"],
    "float": ['"0.5"', "1:30", "true", "1e13", "-1e13", "0x1p3"],
    "non-negative float": ['"0.5"', "1:30", "true", "-1", "-0.001", "1e13"],
    "prefix": [
        "'*/'",
        "raw/*/",
        "//",
        "/raw/",
        "./",
        "../x/",
        "raw//x/",
        "raw",
        "drift/x/",
        "\uff52aw/",  # a fullwidth r
    ],
    "choice": ["x", "1:30", "true", "Canary", "1"],
    "name": ["'a b'", "-x-", "1:30", "true", "1"],
    "email": ["not-an-email", "a@b", "'a b@c.d'", "true", "1"],
    "text": ["true", "1", "0.5", "false"],
    "usage type": ["true", "1", "'*'", "'**'", "'a b'", "'USE1;Host'", "'-x'"],
}
REQUIRED = [
    ("models",),
    *[
        ("models", "churn", *path)
        for path in [
            ("kind",),
            ("data",),
            ("data", "prefix"),
            ("pipeline",),
            ("package_group",),
            ("gate",),
            ("gate", "metric"),
            ("deploy",),
            ("deploy", "endpoint"),
            ("deploy", "rollback_alarms"),  # a canary needs them
            ("drift", "monitor", "capture_uri"),  # source: data_capture needs it
        ]
    ],
    *[
        ("models", "support-assistant", *path)
        for path in [
            ("kind",),
            ("labels",),
            ("labels", "prefix"),
            ("base_model",),
            ("gate",),
            ("gate", "metric"),
            ("deploy",),
            ("package_group",),
        ]
    ],
]
NOT_UTF8 = [b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\xc0\xaf", b"\x80"]
CONTROL = ["\x00", "\x07", "\x1b", "\x7f", "\ufffe"]
DOCUMENTS = {
    "empty": "",
    "a list": "[]\n",
    "a string": "just text\n",
    "two documents": VALID + "---\nversion: 1\n",
    "no models": "version: 1\n",
    "zero models": "version: 1\nmodels: {}\n",
    "models as a list": "version: 1\nmodels: [churn]\n",
    "version 2": VALID.replace("version: 1", "version: 2"),
    "bad model name": VALID.replace("  churn:\n", "  Churn_Model:\n"),
    "int model name": VALID.replace("  churn:\n", "  123:\n"),
    "overlapping prefixes": VALID.replace("prefix: labeled/support/", "prefix: raw/churn/x/"),
    "over a mebibyte": VALID + "#" * 2**20,
    "deep": "models: " + "[" * 100_000,
    "alias bomb": "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    + "".join(
        f"a{n}: &a{n} [{', '.join(['*a' + ('' if n == 1 else str(n - 1))] * 10)}]\n"
        for n in range(1, 8)
    )
    + VALID.replace("version: 1\n", ""),
    "recursive alias": "version: 1\nmodels: &m {churn: *m}\n",
}

# `  field: reason`, field a dotted path, `line N` or a whole-document marker.
PROBLEM_LINE = re.compile(r"^  (?P<field>line [0-9]+|\((?:root|document|file)\)|[^\s:]+): \S")


@dataclass(frozen=True)
class Case:
    id: str
    content: bytes
    where: str | None  # the mutated field's dotted path, or None: anywhere in the document
    line: int | None = None  # the mutated line, if any


def _scalars(node: yaml.Node, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    if isinstance(node, yaml.MappingNode):
        return [leaf for key, value in node.value for leaf in _scalars(value, (*path, key.value))]
    if isinstance(node, yaml.SequenceNode):
        return [leaf for n, item in enumerate(node.value) for leaf in _scalars(item, (*path, n))]
    return [(path, node)]


def _kind(path: tuple[Any, ...]) -> str:
    key = next(part for part in reversed(path) if isinstance(part, str))
    return KINDS[key]


def _dotted(path: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in path)


def value_cases() -> list[Case]:
    rng = random.Random(SEED)
    cases = []
    for path, node in _scalars(yaml.compose(VALID)):
        start, end = node.start_mark.index, node.end_mark.index
        # Half of the values bad anywhere, a different half each time: the run stays short.
        for bad in rng.sample(ANYWHERE, len(ANYWHERE) // 2) + BAD[_kind(path)]:
            text = VALID[:start] + bad + VALID[end:]
            cases.append(
                Case(
                    f"{_dotted(path)}={bad[:20]}",
                    text.encode(),
                    _dotted(path),
                    node.start_mark.line + 1,
                )
            )
    return cases


def _at(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


def _containers(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    if not isinstance(data, dict | list):
        return []
    found = [(path, data)]
    for key, value in data.items() if isinstance(data, dict) else enumerate(data):
        found += _containers(value, (*path, key))
    return found


def _dumped(data: Any) -> bytes:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True).encode()


def structure_cases() -> list[Case]:
    original = yaml.safe_load(VALID)
    cases = []
    for path in REQUIRED:
        data = copy.deepcopy(original)
        del _at(data, path[:-1])[path[-1]]
        cases.append(Case(f"without {_dotted(path)}", _dumped(data), _dotted(path)))
    for path, container in _containers(original):
        if isinstance(container, dict):
            data = copy.deepcopy(original)
            _at(data, path)["surprise"] = 1
            where = _dotted((*path, "surprise"))
            cases.append(Case(f"unknown key {where}", _dumped(data), where))
        replacements = ["text", 1] + ([[1]] if isinstance(container, dict) else [{"a": 1}])
        for replacement in replacements if path else []:
            data = copy.deepcopy(original)
            _at(data, path[:-1])[path[-1]] = replacement
            cases.append(Case(f"{_dotted(path)} as {replacement!r}", _dumped(data), _dotted(path)))
    return cases


def text_cases() -> list[Case]:
    rng = random.Random(SEED)
    data = VALID.encode()
    lines = VALID.splitlines(keepends=True)
    cases = []
    for n in range(30):
        at = rng.randrange(len(data))
        cases.append(Case(f"not UTF-8 #{n}", data[:at] + rng.choice(NOT_UTF8) + data[at:], None))
    for n in range(15):
        at = rng.randrange(len(VALID))
        text = VALID[:at] + rng.choice(CONTROL) + VALID[at:]
        cases.append(Case(f"control character #{n}", text.encode(), None))
    indented = [n for n, line in enumerate(lines) if line.startswith("  ") and line.strip()]
    for n in rng.sample(indented, 10):
        text = "".join(lines[:n]) + "\t" + lines[n][2:] + "".join(lines[n + 1 :])
        cases.append(Case(f"tab on line {n + 1}", text.encode(), None))
    keyed = [
        n
        for n, line in enumerate(lines)
        if re.match(r"^ *[a-z_]+:", line) and not line.lstrip().startswith("- ")
    ]
    for n in rng.sample(keyed, 15):
        text = "".join(lines[: n + 1]) + lines[n].rstrip("\n") + "\n" + "".join(lines[n + 1 :])
        # A key whose value is a block below it repeats itself on the next line: still twice.
        cases.append(Case(f"line {n + 1} twice", text.encode(), None))
    for name, text in DOCUMENTS.items():
        cases.append(Case(name, text.encode(), None))
    return cases


CASES = value_cases() + structure_cases() + text_cases()


def test_hundreds_of_bad_policies_are_generated():
    assert len(CASES) >= 300
    assert len({case.id for case in CASES}) == len(CASES)


def test_the_unmutated_policy_passes_through_the_same_machinery(tmp_path, capsys):
    # The mutations are what makes each case bad: the original, dumped the same way, is valid.
    path = tmp_path / "policy.yaml"
    path.write_bytes(_dumped(yaml.safe_load(VALID)))

    assert main(["policy", "check", str(path)]) == 0
    assert ": ok" in capsys.readouterr().out


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")  # one directory: a thousand would cost seconds


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_given_a_bad_policy_when_checked_then_exit_1_naming_the_field_and_reason(
    case, workdir, capsys
):
    path = workdir / "policy.yaml"
    path.write_bytes(case.content)

    status = main(["policy", "check", str(path)])

    out, err = capsys.readouterr()
    assert status == 1
    assert "Traceback" not in out + err
    assert out == ""
    header, *lines = err.splitlines()
    assert header == f"{path}: invalid policy"
    assert lines
    fields = []
    for line in lines:
        match = PROBLEM_LINE.match(line)
        assert match, f"not `field: reason`: {line!r}"
        fields.append(match["field"])
    if case.where is not None:
        assert any(
            field == case.where
            or case.where.startswith(field + ".")
            or field == f"line {case.line}"
            for field in fields
        ), f"{case.where} (line {case.line}) not named in {fields}"


# --- `aiops local send`: event files -------------------------------------------------------------


@pytest.mark.parametrize("nesting", ["[" * 100_000, '{"a": ' * 100_000, "[" * 5_000 + "]" * 5_000])
def test_given_a_deeply_nested_event_file_when_sent_then_exit_2_naming_the_file(
    nesting, tmp_path, capsys
):
    path = tmp_path / "event.json"
    path.write_text(nesting)

    status = main(["local", "send", str(path)])

    err = capsys.readouterr().err
    assert status == 2
    assert "Traceback" not in err
    assert err.startswith(f"aiops local send: {path}: ")
