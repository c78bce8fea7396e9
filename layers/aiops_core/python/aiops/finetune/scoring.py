"""The gate's text metrics for a fine-tuned candidate's answers against the labeled ones."""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"\w+")
_SPACE = re.compile(r"\s+")


def _tokens(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _lcs_length(a: list[str], b: list[str]) -> int:
    """Longest common subsequence of two token lists, by dynamic programming over one row of
    the shorter list (memory O(min(len(a), len(b))))."""
    if len(a) < len(b):
        a, b = b, a
    previous = [0] * (len(b) + 1)
    for token in a:
        current = [0] * (len(b) + 1)
        for j, other in enumerate(b, start=1):
            if token == other:
                current[j] = previous[j - 1] + 1
            else:
                current[j] = max(previous[j], current[j - 1])
        previous = current
    return previous[-1]


def rouge_l(candidate: str, reference: str) -> float:
    """ROUGE-L F1 on lower-cased word tokens: 1.0 when both are empty, 0.0 when one is."""
    cand, ref = _tokens(candidate), _tokens(reference)
    if not cand and not ref:
        return 1.0
    if not cand or not ref:
        return 0.0
    lcs = _lcs_length(cand, ref)
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(cand), lcs / len(ref)
    return 2 * precision * recall / (precision + recall)


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _SPACE.sub(" ", text).strip()
    # Trailing punctuation (Unicode category P*) does not change an answer: "Paris." is "paris".
    end = len(text)
    while end and (text[end - 1].isspace() or unicodedata.category(text[end - 1])[0] == "P"):
        end -= 1
    return text[:end]


def exact_match(candidate: str, reference: str) -> float:
    """1.0 when the answers are equal after Unicode NFKC, case folding, collapsing whitespace and
    dropping trailing punctuation; else 0.0."""
    return 1.0 if _normalise(candidate) == _normalise(reference) else 0.0
