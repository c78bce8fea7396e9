"""The drifted features' distributions for the approval page, from our drift check's
statistics.json (`aiops.drift.stats`: the comparison, with each feature's chart shares).

The document is read as plain JSON and validated by the models below, so the approval capability
never depends on the drift capability's classes. It is trusted only under the model's
`drift/<model>/` prefix and with the drift check's S3 metadata (only the drift check's role may
write there, and the approval function may read only the artifacts bucket). Extra detail for
the approvers never blocks the approval: a missing, foreign, unreadable or malformed document
gives no charts and a warning.
"""

import itertools
import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from aiops.adapters.s3 import S3Objects, split_uri
from aiops.approval.model import FeatureDistribution
from aiops.approval.ports import MAX_DRIFT_FEATURES
from aiops.observability import logger

MAX_BINS = 40  # FeatureDistribution's limit
OTHER = "other"
EN_DASH = "\u2013"  # between a bin's bounds: "12.5\u201330"
# Floor for a share in the distance of a categorical feature (as the drift check's PSI).
EPSILON = 1e-4
# Digits kept of each share: the approval item stays small, the chart is the same.
SHARE_DIGITS = 6
EMPTY_SHARE = 0.5 * 10**-SHARE_DIGITS  # rounds to 0 (float noise of 1 - sum of the others)


class _Feature(BaseModel):
    """One feature of statistics.json: what a chart needs (older statistics lack the shares)."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    name: str
    kind: Literal["numeric", "categorical"]
    psi: float | None = None
    bin_edges: list[float] | None = None
    categories: list[str] | None = None
    baseline_shares: list[float] | None = None
    current_shares: list[float] | None = None


class _Violation(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    feature_name: str
    constraint_check_type: str


class _Statistics(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    features: list[_Feature]
    violations: list[_Violation]


class DriftStatistics:
    """`aiops.approval.ports.DriftEvidence` over statistics.json in S3."""

    def __init__(self, objects: S3Objects) -> None:
        self.objects = objects

    def distributions(self, model: str, uri: str) -> list[FeatureDistribution]:
        # Imported when a drift run's approval opens: the other approval functions never pay
        # for the drift modules at cold start.
        from aiops.drift.reports import (
            DRIFT_CHECK_WRITER,
            REPORT_MODEL_KEY,
            REPORT_WRITER_KEY,
            drift_report_prefix,
        )

        try:
            _, key = split_uri(uri)
            if not key.startswith(drift_report_prefix(model)):
                return _unusable(uri, f"outside {drift_report_prefix(model)}")
            found = self.objects.read_with_metadata(uri)
            if found is None:
                return _unusable(uri, "no such object")
            text, metadata = found
            writer, written_for = metadata.get(REPORT_WRITER_KEY), metadata.get(REPORT_MODEL_KEY)
            if writer != DRIFT_CHECK_WRITER or written_for != model:
                return _unusable(uri, f"not written by the drift check for {model}")
            return drifted_distributions(_Statistics.model_validate_json(text))
        except Exception as exc:  # noqa: BLE001 - extra detail for the approvers: never blocks the approval
            return _unusable(uri, type(exc).__name__)


def _unusable(uri: str, why: str) -> list[FeatureDistribution]:
    logger.warning("drift evidence unusable", extra={"uri": uri, "why": why})
    return []


def distributions_from_statistics(document: Any) -> list[FeatureDistribution]:
    """The drifted features of a statistics.json document (parsed JSON); [] when it is not one."""
    try:
        statistics = _Statistics.model_validate(document)
    except ValidationError:
        return []
    return drifted_distributions(statistics)


def drifted_distributions(statistics: _Statistics) -> list[FeatureDistribution]:
    """The features named in the violations that can be charted, most drifted first, at most
    MAX_DRIFT_FEATURES (a feature absent from the current data has no chart)."""
    named = {v.feature_name for v in statistics.violations}
    charts = [
        chart
        for feature in statistics.features
        if feature.name in named and (chart := distribution(feature)) is not None
    ]
    # distance None (not computable) last; equal distances by name, so the order is stable.
    charts.sort(key=lambda c: (c.distance is None, -(c.distance or 0.0), c.feature))
    return charts[:MAX_DRIFT_FEATURES]


def distribution(feature: _Feature) -> FeatureDistribution | None:
    """One feature's chart, or None when its statistics hold no consistent shares."""
    baseline, current = feature.baseline_shares, feature.current_shares
    if baseline is None or current is None or len(baseline) != len(current):
        return None
    if not all(math.isfinite(s) and s >= 0 for s in baseline + current):
        return None
    if feature.kind == "numeric":
        if feature.bin_edges is None or len(feature.bin_edges) + 1 != len(baseline):
            return None
        if not all(math.isfinite(e) for e in feature.bin_edges):
            return None
        bins = bin_labels(feature.bin_edges)
        distance = feature.psi if feature.psi is not None and math.isfinite(feature.psi) else None
        if distance is None:
            distance = _psi(baseline, current)
    else:
        if feature.categories is None or len(feature.categories) + 1 != len(baseline):
            return None
        other = OTHER if OTHER not in feature.categories else f"({OTHER})"
        bins = [*feature.categories, other]
        distance = _psi(baseline, current)
        if max(baseline[-1], current[-1]) < EMPTY_SHARE:  # nothing else: no empty "other" bar
            bins, baseline, current = bins[:-1], baseline[:-1], current[:-1]
    if not bins or len(bins) > MAX_BINS:
        return None
    return FeatureDistribution(
        feature=feature.name,
        bins=bins,
        baseline=[round(s, SHARE_DIGITS) for s in baseline],
        current=[round(s, SHARE_DIGITS) for s in current],
        distance=round(distance, SHARE_DIGITS),
    )


def bin_labels(edges: list[float]) -> list[str]:
    """Readable labels of the bins inner cut points make: "≤ a", "a\u2013b", …, "> z" (bin i
    holds edges[i-1] < v <= edges[i]), each edge with as few digits as keep neighbours apart."""
    if not edges:
        return ["all values"]
    texts = _edge_texts(edges)
    inner = [f"{low}{EN_DASH}{high}" for low, high in itertools.pairwise(texts)]
    return [f"≤ {texts[0]}", *inner, f"> {texts[-1]}"]


def _edge_texts(edges: list[float]) -> list[str]:
    for digits in range(3, 16):
        texts = [_number(edge, digits) for edge in edges]
        if len(set(texts)) == len(texts):
            return texts
    return [repr(edge) for edge in edges]


def _number(value: float, digits: int) -> str:
    text = f"{value:.{digits}g}"
    return "0" if text == "-0" else text


def _psi(baseline: list[float], current: list[float]) -> float:
    total = 0.0
    for e, a in zip(baseline, current, strict=True):
        e, a = max(e, EPSILON), max(a, EPSILON)
        total += (a - e) * math.log(a / e)
    return total
