"""A Ground Truth output-manifest line becomes a record of the base model's format; what is not
a usable line is passed on for the validator to report, never dropped."""

from __future__ import annotations

import json

import pytest

from aiops.base_models import RecordFormat, base_model
from aiops.finetune.ground_truth import to_record
from aiops.finetune.validation import check_record
from aiops.policy import GroundTruthPolicy

SETTINGS = GroundTruthPolicy()
NOVA = base_model("amazon.nova-lite-v1:0")


def manifest_line(answer: object) -> bytes:
    return json.dumps(
        {
            "source": "Where is my order A-1234?",
            "answer": answer,
            "answer-metadata": {"job-name": "labeling-job/support", "human-annotated": "yes"},
        }
    ).encode()


@pytest.mark.parametrize("answer", [{"answer": "It ships tomorrow."}, "It ships tomorrow."])
def test_a_labelers_answer_becomes_a_valid_conversation(answer):
    record = json.loads(
        to_record(manifest_line(answer), "answer", SETTINGS, RecordFormat.CONVERSATION)
    )

    assert record == {
        "schemaVersion": "bedrock-conversation-2024",
        "messages": [
            {"role": "user", "content": [{"text": "Where is my order A-1234?"}]},
            {"role": "assistant", "content": [{"text": "It ships tomorrow."}]},
        ],
    }
    assert NOVA is not None and check_record(json.dumps(record).encode(), NOVA) == []


def test_prompt_completion_and_claude_formats_are_written_as_their_base_models_take_them():
    line = manifest_line({"answer": "It ships tomorrow."})

    pair = json.loads(to_record(line, "answer", SETTINGS, RecordFormat.PROMPT_COMPLETION))
    claude = json.loads(to_record(line, "answer", SETTINGS, RecordFormat.CLAUDE_MESSAGES))

    assert pair == {"prompt": "Where is my order A-1234?", "completion": "It ships tomorrow."}
    assert claude["messages"][1] == {"role": "assistant", "content": "It ships tomorrow."}


def test_a_skipped_answer_is_passed_on_for_the_validator_to_report():
    record = to_record(manifest_line({"answer": ""}), "answer", SETTINGS, RecordFormat.CONVERSATION)

    assert NOVA is not None
    problems = check_record(record, NOVA)
    assert problems and problems[0].field.startswith("messages[1]")


def test_a_line_that_is_not_json_is_passed_on_unchanged():
    assert to_record(b"{not json", "answer", SETTINGS, RecordFormat.CONVERSATION) == b"{not json"
