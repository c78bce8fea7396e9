"""ROUGE-L and exact match against hand-computed values."""

from __future__ import annotations

import pytest

from aiops.finetune.scoring import exact_match, rouge_l


def test_given_identical_answers_when_scored_then_rouge_l_is_one():
    assert rouge_l("The refund is on its way", "the refund is on its way.") == 1.0


def test_given_a_partial_answer_when_scored_then_rouge_l_is_the_lcs_f1():
    # candidate 4 tokens, reference 6, LCS "the cat on mat" = 4: P = 1, R = 4/6, F1 = 0.8
    assert rouge_l("the cat on mat", "the cat sat on the mat") == pytest.approx(0.8)


def test_given_reordered_words_when_scored_then_only_the_subsequence_counts():
    # LCS of "a b c d" and "d c b a" is 1: P = R = 1/4, F1 = 0.25
    assert rouge_l("a b c d", "d c b a") == pytest.approx(0.25)


def test_given_no_common_word_when_scored_then_rouge_l_is_zero():
    assert rouge_l("refund issued", "parcel delayed") == 0.0


def test_given_both_empty_when_scored_then_rouge_l_is_one_and_one_empty_is_zero():
    assert rouge_l("", "  ") == 1.0
    assert rouge_l("", "something") == 0.0
    assert rouge_l("something", "") == 0.0


def test_given_a_longer_candidate_when_scored_then_precision_drops():
    # LCS 2 ("order shipped"); P = 2/4, R = 2/2, F1 = 2/3
    assert rouge_l("your order was shipped", "order shipped") == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    ("candidate", "reference"),
    [
        ("Paris.", "paris"),
        ("  The   answer is\tB!  ", "the answer is b"),
        ("\uff21\uff22\uff23", "abc"),  # full-width letters, NFKC
        ("Straße", "STRASSE"),  # case folding
    ],
)
def test_given_answers_equal_after_normalising_when_matched_then_exact_match_is_one(
    candidate, reference
):
    assert exact_match(candidate, reference) == 1.0


def test_given_different_answers_when_matched_then_exact_match_is_zero():
    assert exact_match("Paris, France", "Paris") == 0.0
    assert exact_match("", "x") == 0.0
