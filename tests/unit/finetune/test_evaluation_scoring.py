"""How a held-out record becomes an evaluation prompt, and how the candidate's evaluated
answers become the metrics the gate reads (failing closed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aiops.base_models import RecordFormat
from aiops.finetune.model import EvaluatedRecord
from aiops.finetune.prompts import evaluation_prompt
from aiops.finetune.workflow import EvaluationFailed, score_evaluation
from aiops.policy import parse_policy

POLICY = parse_policy(
    (
        Path(__file__).resolve().parents[3]
        / "scenarios"
        / "policies"
        / "support_assistant_finetune.yaml"
    ).read_text()
).bedrock_model("support-assistant")


def line(record: dict[str, object]) -> bytes:
    return json.dumps(record).encode()


def test_a_conversation_becomes_its_context_and_last_question_with_the_answer_as_reference():
    raw = line(
        {
            "schemaVersion": "bedrock-conversation-2024",
            "system": [{"text": "You are a support agent."}],
            "messages": [
                {"role": "user", "content": [{"text": "My order is late."}]},
                {"role": "assistant", "content": [{"text": "Which order number?"}]},
                {"role": "user", "content": [{"text": "A-1234."}]},
                {"role": "assistant", "content": [{"text": "It ships tomorrow."}]},
            ],
        }
    )

    prompt = json.loads(evaluation_prompt(raw, RecordFormat.CONVERSATION) or b"")

    assert prompt["referenceResponse"] == "It ships tomorrow."
    assert prompt["prompt"] == (
        "You are a support agent.\n\nuser: My order is late.\n\nassistant: Which order number?"
        "\n\nA-1234."
    )


def test_claude_messages_and_prompt_completion_records_become_prompts_too():
    claude = line(
        {
            "system": "Be brief.",
            "messages": [
                {"role": "user", "content": "Reset my password"},
                {"role": "assistant", "content": "Use the link on the sign-in page."},
            ],
        }
    )
    pair = line({"prompt": "Refund policy?", "completion": "30 days."})

    from_claude = json.loads(evaluation_prompt(claude, RecordFormat.CLAUDE_MESSAGES) or b"")
    from_pair = json.loads(evaluation_prompt(pair, RecordFormat.PROMPT_COMPLETION) or b"")

    assert from_claude["prompt"] == "Be brief.\n\nReset my password"
    assert from_claude["referenceResponse"] == "Use the link on the sign-in page."
    assert (from_pair["prompt"], from_pair["referenceResponse"]) == ("Refund policy?", "30 days.")


def test_a_record_with_a_blank_answer_gives_no_prompt():
    raw = line({"prompt": "Refund policy?", "completion": "   "})

    assert evaluation_prompt(raw, RecordFormat.PROMPT_COMPLETION) is None


def evaluated(response: str | None, reference: str, toxicity: float | None) -> EvaluatedRecord:
    scores = {} if toxicity is None else {"Toxicity": toxicity}
    return EvaluatedRecord(prompt="q", reference=reference, response=response, scores=scores)


def test_metrics_average_over_every_record_and_safety_counts_answers_at_most_max_toxicity():
    records = [
        evaluated("it ships tomorrow", "it ships tomorrow", 0.01),
        evaluated("it ships soon", "it ships tomorrow", 0.02),
        evaluated("you idiot it ships", "it ships tomorrow", 0.93),
        evaluated("it ships tomorrow", "it ships tomorrow", 0.5),  # at the limit: safe
    ]

    metrics = score_evaluation(iter(records), POLICY)

    assert metrics["exact_match"] == pytest.approx(0.5)
    assert metrics["safety_pass_rate"] == pytest.approx(0.75)
    assert metrics["holdout_records"] == 4
    assert 0.5 < metrics["rougeL"] < 1


def test_a_missing_answer_or_toxicity_score_fails_closed():
    records = [
        evaluated(None, "it ships tomorrow", 0.01),  # no answer: scores 0, not safe
        evaluated("it ships tomorrow", "it ships tomorrow", None),  # no score: not safe
        evaluated("it ships tomorrow", "it ships tomorrow", 0.01),
    ]

    metrics = score_evaluation(iter(records), POLICY)

    assert metrics["safety_pass_rate"] == pytest.approx(1 / 3)
    assert metrics["exact_match"] == pytest.approx(2 / 3)


def test_a_non_finite_score_is_dropped_not_averaged():
    record = EvaluatedRecord(
        prompt="q", reference="a", response="a", scores={"Toxicity": float("nan")}
    )

    assert record.scores == {}
    assert score_evaluation(iter([record]), POLICY)["safety_pass_rate"] == 0


def test_an_evaluation_with_no_record_is_a_failure_not_a_perfect_score():
    with pytest.raises(EvaluationFailed, match="no evaluated record"):
        score_evaluation(iter([]), POLICY)
