"""Seeded mutations of good records: every mutation that breaks a rule is refused with a field
and a line, and no input, however broken, makes the validator raise."""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable
from typing import Any

import pytest

from aiops.base_models import BaseModelSpec, base_model
from aiops.finetune.validation import KINDS, Problem, check_record, validate

from .test_validation import CLAUDE, CONVERSATION, PROMPT

MUTATIONS_PER_FORMAT = 600


def model(model_id: str) -> BaseModelSpec:
    spec = base_model(model_id)
    assert spec is not None
    return spec


CASES = [
    ("conversation", CONVERSATION, model("amazon.nova-lite-v1:0")),
    ("claude-messages", CLAUDE, model("anthropic.claude-3-haiku-20240307-v1:0")),
    ("prompt-completion", PROMPT, model("amazon.titan-text-express-v1")),
]


def objects(value: Any) -> list[dict[str, Any]]:
    """Every JSON object in `value`, outermost first."""
    found: list[dict[str, Any]] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            found.append(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def strings(record: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    """(holder, key) of every string value held by an object."""
    return [(o, k) for o in objects(record) for k, v in o.items() if isinstance(v, str)]


def texts(record: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    """(holder, key) of every text the model reads (not roles or the schema version)."""
    return [(o, k) for o, k in strings(record) if k not in ("role", "schemaVersion")]


# Each mutation breaks a documented rule, so the record must be refused.
def drop_key(record: dict[str, Any], rng: random.Random) -> bytes:
    holders = [o for o in objects(record) if o]
    holder = rng.choice(holders)
    # "system" is optional: dropping it breaks nothing.
    keys = [k for k in holder if k != "system"] or list(holder)
    key = rng.choice(keys)
    if key == "system":
        holder["extra"] = 1
    del holder[key]
    return json.dumps(record).encode()


def add_key(record: dict[str, Any], rng: random.Random) -> bytes:
    rng.choice(objects(record))[rng.choice(("metadata", "id", "x-label", "ünïcode"))] = 1
    return json.dumps(record).encode()


def change_type(record: dict[str, Any], rng: random.Random) -> bytes:
    holder, key = rng.choice(strings(record))
    holder[key] = rng.choice((None, 42, 4.5, True, ["text"], {"text": "x"}))
    return json.dumps(record).encode()


def swap_role(record: dict[str, Any], rng: random.Random) -> bytes:
    messages = record.get("messages")
    if not messages:
        return drop_key(record, rng)
    message = rng.choice(messages)
    message["role"] = "assistant" if message["role"] == "user" else "user"
    return json.dumps(record).encode()


def reserved(record: dict[str, Any], rng: random.Random, spec: BaseModelSpec) -> bytes:
    if not spec.reserved_strings:
        return change_type(record, rng)
    holder, key = rng.choice(texts(record))
    text = holder[key]
    at = rng.randrange(len(text) + 1)
    holder[key] = text[:at] + rng.choice(spec.reserved_strings) + text[at:]
    return json.dumps(record).encode()


def empty_text(record: dict[str, Any], rng: random.Random) -> bytes:
    # Claude's system string is optional: an empty one is no system prompt, not a broken one.
    holder, key = rng.choice([(o, k) for o, k in texts(record) if (o, k) != (record, "system")])
    holder[key] = rng.choice(("", " ", "\n\t"))
    return json.dumps(record).encode()


def truncate(record: dict[str, Any], rng: random.Random) -> bytes:
    line = json.dumps(record).encode()
    return line[: rng.randrange(1, len(line))]


def invalid_utf8(record: dict[str, Any], rng: random.Random) -> bytes:
    line = json.dumps(record, ensure_ascii=False).encode()
    at = rng.randrange(len(line) + 1)
    return line[:at] + rng.choice((b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x80")) + line[at:]


def deep_nesting(record: dict[str, Any], rng: random.Random) -> bytes:
    depth = rng.choice((50, 5_000, 100_000))
    holder, key = rng.choice(texts(record))
    holder[key] = "\x00"
    line = json.dumps(record)
    return line.replace('"\\u0000"', "[" * depth + "]" * depth, 1).encode()


def huge_number(record: dict[str, Any], rng: random.Random) -> bytes:
    holder, key = rng.choice(texts(record))
    holder[key] = "\x00"
    number = rng.choice(("9" * 5000, "1e999", "-1e999", "1" + "0" * 400))
    return json.dumps(record).replace('"\\u0000"', number, 1).encode()


def non_finite(record: dict[str, Any], rng: random.Random) -> bytes:
    holder, key = rng.choice(texts(record))
    holder[key] = "\x00"
    return json.dumps(record).replace('"\\u0000"', rng.choice(("NaN", "Infinity")), 1).encode()


def duplicate_key(record: dict[str, Any], rng: random.Random) -> bytes:
    holder = rng.choice([o for o in objects(record) if o])
    key = rng.choice(list(holder))
    holder["\x00dup"] = holder[key]
    return json.dumps(record).replace('"\\u0000dup"', json.dumps(key), 1).encode()


def not_an_object(record: dict[str, Any], rng: random.Random) -> bytes:
    return json.dumps(rng.choice(([record], "record", 3, None, True))).encode()


# These may or may not break a rule: only "no raise, well-formed problems" is asserted.
def flip_bytes(record: dict[str, Any], rng: random.Random) -> bytes:
    line = bytearray(json.dumps(record, ensure_ascii=False).encode())
    for _ in range(rng.randrange(1, 4)):
        line[rng.randrange(len(line))] = rng.randrange(256)
    return bytes(line.replace(b"\n", b" "))


BREAKING: list[Callable[..., bytes]] = [
    drop_key,
    add_key,
    change_type,
    swap_role,
    empty_text,
    truncate,
    invalid_utf8,
    deep_nesting,
    huge_number,
    non_finite,
    duplicate_key,
    not_an_object,
]


def assert_well_formed(problems: list[Problem], line: int) -> None:
    for problem in problems:
        assert problem.line == line
        assert problem.field
        assert problem.reason
        assert problem.kind in KINDS
        assert problem.kind != "internal_error", problem


@pytest.mark.parametrize(("record", "spec"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_given_seeded_mutations_when_checked_then_each_breaking_one_is_refused(record, spec):
    rng = random.Random(f"fuzz-{spec.model_id}")  # a reproducible corpus
    lines: list[tuple[bytes, bool]] = []
    for n in range(1, MUTATIONS_PER_FORMAT + 1):
        mutated = copy.deepcopy(record)
        choice = rng.randrange(len(BREAKING) + 2)
        if choice < len(BREAKING):
            line, breaks = BREAKING[choice](mutated, rng), True
        elif choice == len(BREAKING):
            line, breaks = reserved(mutated, rng, spec), True
        else:
            line, breaks = flip_bytes(mutated, rng), False
        problems = check_record(line, spec, line=n)
        assert_well_formed(problems, n)
        if breaks:
            assert problems, (n, line[:300])
        lines.append((line, bool(problems)))

    # The same corpus as one stream, with an over-long line, gets the same verdicts.
    verdicts: list[bool] = []
    stream = b"\n".join(line for line, _ in lines) + b"\n" + b"[" * 3000 + b"\n"
    report = validate(
        [stream[i : i + 777] for i in range(0, len(stream), 777)],
        spec,
        max_line_bytes=2000,
        on_record=lambda n, raw, problems: verdicts.append(bool(problems)),
    )
    expected = [bad or len(line) > 2000 for line, bad in lines] + [True]
    assert verdicts == expected
    assert report.bad == sum(expected)
    assert report.problems[0].count >= 1


@pytest.mark.parametrize("seed", range(5))
def test_given_random_bytes_when_checked_then_nothing_raises(seed):
    rng = random.Random(seed)
    spec = CASES[seed % 3][2]
    for n in range(200):
        line = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 200)))
        assert_well_formed(check_record(line, spec, line=n), n)
