"""The automatic gate: candidate vs champion with the policy's metric, direction and margins."""

from __future__ import annotations

import pytest

from aiops.gate.rules import evaluate_gate
from aiops.policy import GatePolicy

AUC = GatePolicy(metric="auc", higher_is_better=True, min_improvement=0.005, floor=0.70, human=True)


def test_a_candidate_that_beats_the_champion_by_the_margin_waits_for_a_human():
    result = evaluate_gate(AUC, {"auc": 0.82}, {"auc": 0.81})

    assert result.decision == "await_human"
    assert "improvement +0.01" in result.summary


def test_without_a_human_in_the_policy_a_passing_candidate_is_approved():
    gate = AUC.model_copy(update={"human": False})

    assert evaluate_gate(gate, {"auc": 0.82}, {"auc": 0.81}).decision == "approve"


def test_an_improvement_below_the_margin_is_rejected_with_both_values():
    result = evaluate_gate(AUC, {"auc": 0.812}, {"auc": 0.81})

    assert result.decision == "reject"
    assert result.summary == "auc 0.812 vs champion 0.81: improvement +0.002, required 0.005"


def test_a_candidate_below_the_floor_is_rejected_even_without_a_champion():
    result = evaluate_gate(AUC, {"auc": 0.65}, None)

    assert result.decision == "reject"
    assert "auc 0.65 must be at least 0.7" in result.reasons


def test_the_first_candidate_above_the_floor_passes():
    result = evaluate_gate(AUC, {"auc": 0.75}, None)

    assert result.passed and "no champion to beat" in result.summary


def test_lower_is_better_metrics_improve_downwards():
    rmse = GatePolicy(
        metric="rmse", higher_is_better=False, min_improvement=0.1, floor=5.0, human=False
    )

    assert evaluate_gate(rmse, {"rmse": 3.0}, {"rmse": 3.5}).decision == "approve"
    assert evaluate_gate(rmse, {"rmse": 3.45}, {"rmse": 3.5}).decision == "reject"
    assert evaluate_gate(rmse, {"rmse": 6.0}, None).decision == "reject"


def test_a_missing_metric_is_a_rejection_not_a_crash():
    result = evaluate_gate(AUC, {"f1": 0.9}, {"auc": 0.8})

    assert result.decision == "reject"
    assert result.reasons == ["the candidate's evaluation has no auc"]


def test_safety_and_fairness_checks_reject_and_all_reasons_are_listed():
    gate = GatePolicy(
        metric="rougeL",
        min_improvement=0.01,
        safety_min_pass_rate=0.99,
        fairness_max_gap=0.05,
        human=True,
    )

    result = evaluate_gate(
        gate, {"rougeL": 0.30, "safety_pass_rate": 0.97, "fairness_gap": 0.08}, {"rougeL": 0.35}
    )

    assert result.decision == "reject"
    assert len(result.reasons) == 3
    assert "safety_pass_rate 0.97 below 0.99" in result.reasons
    assert "fairness_gap 0.08 above 0.05" in result.reasons


def test_a_required_safety_result_that_is_missing_rejects():
    gate = GatePolicy(metric="rougeL", safety_min_pass_rate=0.99, human=True)

    result = evaluate_gate(gate, {"rougeL": 0.4}, None)

    assert result.decision == "reject" and "no safety_pass_rate" in result.summary


# --- results that are not finite numbers, and required results that are missing: fail closed ---

NOT_FINITE = [float("nan"), float("inf"), float("-inf")]
F1 = GatePolicy(metric="f1", higher_is_better=True, min_improvement=0.0, floor=0.6, human=False)


@pytest.mark.parametrize("value", NOT_FINITE, ids=str)
def test_given_no_champion_when_the_candidates_metric_is_not_finite_then_rejected_with_the_reason(
    value,
):
    result = evaluate_gate(F1, {"f1": value}, None)

    assert result.decision == "reject"
    assert result.reasons == [f"the candidate's f1 is {value:g}, not a finite number"]


@pytest.mark.parametrize("value", NOT_FINITE, ids=str)
def test_given_a_champion_when_the_candidates_metric_is_not_finite_then_rejected(value):
    result = evaluate_gate(F1, {"f1": value}, {"f1": 0.7})

    assert result.decision == "reject"
    assert result.reasons == [f"the candidate's f1 is {value:g}, not a finite number"]


@pytest.mark.parametrize("value", NOT_FINITE, ids=str)
def test_given_a_champion_whose_metric_is_not_finite_when_gated_then_rejected_not_unopposed(value):
    result = evaluate_gate(F1, {"f1": 0.9}, {"f1": value})

    assert result.decision == "reject"
    assert f"the champion's f1 is {value:g}, not a finite number" in result.summary
    assert "no champion to beat" not in result.summary


def test_given_a_champion_without_the_metric_when_gated_then_rejected_as_not_comparable():
    result = evaluate_gate(F1, {"f1": 0.9}, {})

    assert result.decision == "reject"
    assert result.reasons == ["the champion's evaluation has no f1: nothing to compare with"]


@pytest.mark.parametrize("value", NOT_FINITE, ids=str)
def test_given_a_required_safety_result_that_is_not_finite_when_gated_then_rejected(value):
    gate = GatePolicy(metric="rougeL", safety_min_pass_rate=0.99, human=False)

    result = evaluate_gate(gate, {"rougeL": 0.4, "safety_pass_rate": value}, None)

    assert result.decision == "reject"
    assert result.reasons == [
        f"safety_pass_rate is {value:g}, not a finite number; the policy requires 0.99"
    ]


@pytest.mark.parametrize("value", NOT_FINITE, ids=str)
def test_given_a_required_fairness_result_that_is_not_finite_when_gated_then_rejected(value):
    gate = GatePolicy(metric="rougeL", fairness_max_gap=0.05, human=False)

    result = evaluate_gate(gate, {"rougeL": 0.4, "fairness_gap": value}, None)

    assert result.decision == "reject"
    assert result.reasons == [
        f"fairness_gap is {value:g}, not a finite number; the policy requires at most 0.05"
    ]


def test_given_a_required_fairness_result_that_is_missing_when_gated_then_rejected():
    gate = GatePolicy(metric="rougeL", fairness_max_gap=0.05, human=False)

    result = evaluate_gate(gate, {"rougeL": 0.4}, None)

    assert result.decision == "reject"
    assert result.reasons == ["no fairness_gap in the evaluation; the policy requires at most 0.05"]


def test_given_finite_results_within_every_bound_when_gated_then_approved_with_each_check():
    gate = GatePolicy(
        metric="rougeL", safety_min_pass_rate=0.99, fairness_max_gap=0.05, human=False
    )

    result = evaluate_gate(
        gate, {"rougeL": 0.4, "safety_pass_rate": 0.995, "fairness_gap": 0.01}, None
    )

    assert result.decision == "approve"
    assert result.reasons == [
        "no champion to beat: rougeL 0.4",
        "safety_pass_rate 0.995",
        "fairness_gap 0.01",
    ]
