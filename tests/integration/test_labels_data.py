"""The offline runtime's labeled-data generator: the validator finds exactly the planted bad
records, each with its planted kind, in every format."""

from __future__ import annotations

import pytest

from aiops.base_models import BaseModelSpec, RecordFormat, base_model
from aiops.finetune.validation import validate
from aiops_local.labels_data import (
    BAD_KINDS,
    EXTRA_KINDS,
    labeled_dataset,
    labeled_records,
    labeled_stream,
)

REFERENCE = {
    RecordFormat.CONVERSATION: "amazon.nova-lite-v1:0",
    RecordFormat.CLAUDE_MESSAGES: "anthropic.claude-3-haiku-20240307-v1:0",
    RecordFormat.PROMPT_COMPLETION: "amazon.titan-text-express-v1",
}


def found_kinds(data: bytes, model: str | BaseModelSpec) -> dict[int, set[str]]:
    spec = base_model(model) if isinstance(model, str) else model
    assert spec is not None
    found: dict[int, set[str]] = {}

    def keep(line: int, raw: bytes, problems: list) -> None:
        if problems:
            found[line] = {p.kind for p in problems}

    validate([data[i : i + 5000] for i in range(0, len(data), 5000)], spec, on_record=keep)
    return found


@pytest.mark.parametrize("fmt", list(RecordFormat))
def test_given_planted_bad_records_when_validated_then_exactly_those_are_found(fmt):
    dataset = labeled_dataset(fmt, count=600, bad_share=0.2, seed=7)
    assert len(dataset.planted) == 120
    assert set(dataset.planted.values()) == set(BAD_KINDS[fmt])
    found = found_kinds(dataset.data, REFERENCE[fmt])
    assert found == {line: {kind} for line, kind in dataset.planted.items()}


def spec_for(model_id: str, **changes: object) -> BaseModelSpec:
    spec = base_model(model_id)
    assert spec is not None
    return spec.model_copy(update=changes)


@pytest.mark.parametrize(
    ("kind", "spec"),
    [
        ("system_not_allowed", spec_for("amazon.nova-lite-v1:0", system_allowed=False)),
        ("images_not_allowed", spec_for("amazon.nova-micro-v1:0")),
        ("line_too_long", spec_for("amazon.nova-lite-v1:0")),
    ],
    ids=["system", "images", "line"],
)
def test_given_a_model_dependent_kind_when_asked_for_then_it_is_planted_and_found(kind, spec):
    assert kind in EXTRA_KINDS
    dataset = labeled_dataset(spec.format, count=20, bad_share=0.1, kinds=[kind], seed=1)
    found = found_kinds(dataset.data, spec)
    assert all(found[line] == {kind} for line in dataset.planted)
    if kind != "system_not_allowed":  # good records carry a system prompt more often than not
        assert set(found) == set(dataset.planted)


def test_given_a_seed_when_generated_twice_then_the_data_is_the_same_and_realistic():
    first = labeled_records(RecordFormat.CONVERSATION, 50, bad_share=0.1, seed=3)
    assert first == labeled_records(RecordFormat.CONVERSATION, 50, bad_share=0.1, seed=3)
    assert first != labeled_records(RecordFormat.CONVERSATION, 50, bad_share=0.1, seed=4)
    assert first.count(b"\n") == 50
    assert b"order #" in first


def test_given_a_size_when_streamed_then_about_that_many_bytes_of_good_records_arrive():
    chunks = list(labeled_stream(RecordFormat.PROMPT_COMPLETION, 3_000_000, chunk_bytes=100_000))
    total = sum(map(len, chunks))
    assert 3_000_000 <= total < 3_000_000 + 2_000
    assert max(map(len, chunks)) < 102_000
    assert found_kinds(b"".join(chunks), REFERENCE[RecordFormat.PROMPT_COMPLETION]) == {}
