"""What our drift check records for a chart of each feature (baseline against current shares),
and how a drift run carries where those statistics are."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Sequence

import pytest

from aiops.drift.decisions import DriftSignal, drift_evidence_uri, drift_run
from aiops.drift.stats import (
    CHART_CATEGORIES,
    DriftComparison,
    FeatureDrift,
    _CurrentFeature,
    build_baseline,
    compare,
    population_stability_index,
)
from aiops.policy import DriftMonitorPolicy
from aiops.runs.requests import RunTrigger, follow_up_run, run_for_window

POLICY = DriftMonitorPolicy(source="window", label=None, min_rows=10)
Row = dict[str, str | None]


def numbers(values: Sequence[float]) -> list[Row]:
    return [{"x": f"{v:g}"} for v in values]


def feature(comparison: DriftComparison, name: str) -> FeatureDrift:
    return next(f for f in comparison.features if f.name == name)


# --- numeric features ----------------------------------------------------------------------------


def test_given_a_numeric_feature_when_compared_then_both_shares_over_the_baselines_bins_are_kept():
    # Given a baseline of 1..1000 in four bins (cut at 250, 500, 750)
    baseline = build_baseline(numbers(list(range(1, 1001))), label=None, source="t", bins=4)

    # When the current values all fall between 500 and 750, or at 1000
    drift = feature(compare(baseline, numbers([600] * 30 + [1000] * 10), POLICY), "x")

    # Then the chart has the baseline's edges and shares, and the current shares over those bins
    assert drift.bin_edges == [250, 500, 750]
    assert drift.baseline_shares == pytest.approx([0.25, 0.25, 0.25, 0.25])
    assert drift.current_shares == pytest.approx([0, 0, 0.75, 0.25])
    assert drift.categories is None
    # ... and the PSI is the one of those very shares
    assert drift.baseline_shares is not None and drift.current_shares is not None
    assert drift.psi == pytest.approx(
        population_stability_index(drift.baseline_shares, drift.current_shares)
    )


def test_given_numeric_values_with_text_among_them_then_the_current_shares_are_of_the_numbers():
    baseline = build_baseline(numbers(list(range(1, 101))), label=None, source="t", bins=2)
    rows = numbers([10] * 19) + [{"x": "n/a"}] + [{"x": None}] * 5

    drift = feature(compare(baseline, rows, POLICY), "x")

    assert drift.current_shares == pytest.approx([1.0, 0.0])
    assert math.fsum(drift.baseline_shares or []) == pytest.approx(1)


@pytest.mark.parametrize(
    "rows",
    [
        pytest.param([{"x": "n/a"}] * 20, id="no number"),
        pytest.param([{"y": "1"}] * 20, id="column absent"),
        pytest.param([{"x": None}] * 20, id="no value"),
    ],
)
def test_given_no_current_number_to_chart_then_the_feature_has_no_chart(rows: list[Row]):
    baseline = build_baseline(numbers(list(range(1, 101))), label=None, source="t", bins=4)

    drift = feature(compare(baseline, rows, POLICY), "x")

    assert (drift.bin_edges, drift.baseline_shares, drift.current_shares) == (None, None, None)


# --- categorical features ------------------------------------------------------------------------


def categories(counts: dict[str, int], seed: int = 0) -> list[Row]:
    rows: list[Row] = [{"c": value} for value, count in counts.items() for _ in range(count)]
    random.Random(seed).shuffle(rows)
    return rows


def test_given_a_categorical_feature_then_its_values_with_both_shares_and_the_rest_are_kept():
    baseline = build_baseline(
        categories({"a": 60, "b": 30, "c": 10}), label=None, source="t", bins=4
    )

    drift = feature(compare(baseline, categories({"a": 20, "b": 20, "c": 10}), POLICY), "c")

    assert drift.categories == ["a", "b", "c"]
    assert drift.baseline_shares == pytest.approx([0.6, 0.3, 0.1, 0.0])
    assert drift.current_shares == pytest.approx([0.4, 0.4, 0.2, 0.0])
    assert drift.bin_edges is None


def test_given_a_new_dominant_value_then_it_is_charted_beside_the_baselines_most_frequent():
    # Given a baseline of 30 values, v00 the most frequent
    baseline = build_baseline(
        categories({f"v{i:02d}": 60 - i for i in range(30)}), label=None, source="t"
    )

    # When a value never seen before makes up most of the current data
    current = categories({"new": 300, "v00": 50, "v29": 10})
    drift = feature(compare(baseline, current, POLICY), "c")

    # Then at most CHART_CATEGORIES values are charted: the baseline's most frequent first, the
    # new value (baseline share 0) among them, everything else in one last share
    assert drift.categories is not None and len(drift.categories) == CHART_CATEGORIES
    assert drift.categories[0] == "v00"
    assert drift.categories[-1] == "new"
    assert "v29" not in drift.categories  # rare on both sides: in the rest
    assert drift.baseline_shares is not None and drift.current_shares is not None
    assert len(drift.baseline_shares) == len(drift.current_shares) == CHART_CATEGORIES + 1
    assert drift.baseline_shares[-2] == 0
    assert drift.current_shares[-2] == pytest.approx(300 / 360)
    assert drift.current_shares[-1] == pytest.approx(10 / 360)  # v29
    assert math.fsum(drift.baseline_shares) == pytest.approx(1)
    assert math.fsum(drift.current_shares) == pytest.approx(1)
    # ... and the unseen-values check is as before
    assert drift.unseen_share == pytest.approx(300 / 360)


def test_given_many_distinct_unseen_values_then_the_counts_kept_for_the_chart_stay_bounded():
    baseline = build_baseline(categories({"a": 50, "b": 50}), label=None, source="t")
    counter = _CurrentFeature(baseline.feature("c"))

    for i in range(10_000):
        counter.add(f"unseen-{i}")

    assert len(counter.unseen_counts) == CHART_CATEGORIES
    assert len(counter.top_counts) == 2
    # The chart: the baseline's two values (half of it each), then as many unseen ones as fit
    chart = counter.chart()
    assert chart["categories"][:2] == ["a", "b"]
    assert len(chart["categories"]) == CHART_CATEGORIES
    assert math.fsum(chart["current_shares"]) == pytest.approx(1)
    assert chart["current_shares"][-1] == pytest.approx(1 - (CHART_CATEGORIES - 2) / 10_000)


# --- statistics.json -----------------------------------------------------------------------------


def test_statistics_written_before_the_chart_shares_still_read():
    old = {
        "name": "x",
        "kind": "numeric",
        "rows": 10,
        "in_current_data": True,
        "completeness": 1.0,
        "baseline_completeness": 1.0,
        "psi": 0.3,
        "non_numeric_share": 0.0,
        "mean": 5.0,
        "unseen_share": None,
    }

    drift = FeatureDrift.model_validate(old)

    assert drift.current_shares is None and drift.bin_edges is None


def test_a_comparison_with_chart_shares_round_trips_through_json():
    baseline = build_baseline(categories({"a": 50, "b": 50}), label=None, source="t")
    comparison = compare(baseline, categories({"a": 10, "z": 30}), POLICY)

    again = DriftComparison.model_validate_json(json.dumps(comparison.model_dump(mode="json")))

    assert again == comparison
    assert feature(again, "c").categories == ["a", "b", "z"]
    assert [(v.feature_name, v.constraint_check_type) for v in again.violations] == [
        ("c", "categorical_values_check")
    ]


# --- the drift run carries its evidence ----------------------------------------------------------

REPORT = "s3://artifacts/drift/churn/2026-11-20T03-00-00Z/constraint_violations.json"
STATISTICS = "s3://artifacts/drift/churn/2026-11-20T03-00-00Z/statistics.json"


def signal(**fields: object) -> DriftSignal:
    base: dict[str, object] = {"key": "k", "event_id": "e", "model": "churn"}
    return DriftSignal.model_validate(base | fields)


def test_a_drift_run_our_drift_check_started_carries_its_statistics():
    request = drift_run("churn", signal(source="drift_check", report_uri=REPORT), "why", [2])

    assert request.trigger.kind == "drift"
    assert request.trigger.evidence_uri == STATISTICS


@pytest.mark.parametrize(
    "found",
    [
        pytest.param(
            signal(source="model_monitor", report_uri="s3://b/monitor/constraint_violations.json"),
            id="Model Monitor",
        ),
        pytest.param(signal(source="cloudwatch_alarm"), id="alarm"),
        pytest.param(signal(source="drift_check"), id="no report"),
        pytest.param(signal(source="drift_check", report_uri="s3://b/x/other.json"), id="foreign"),
    ],
)
def test_other_drift_runs_carry_no_evidence(found: DriftSignal):
    assert drift_evidence_uri(found) is None
    assert drift_run("churn", found, "why", [2]).trigger.evidence_uri is None


def test_a_follow_up_run_keeps_the_latest_drift_evidence_it_coalesced():
    window = run_for_window("churn", 3, "new_data", "full").trigger
    older = RunTrigger(kind="drift", trigger_id="drift:a", reason="r", evidence_uri="s3://b/1")
    newer = RunTrigger(kind="drift", trigger_id="drift:b", reason="r", evidence_uri="s3://b/2")

    assert follow_up_run("churn", [older, window, newer]).trigger.evidence_uri == "s3://b/2"
    assert follow_up_run("churn", [older, window]).trigger.evidence_uri == "s3://b/1"
    assert follow_up_run("churn", [window]).trigger.evidence_uri is None


def test_a_trigger_stored_before_evidence_was_carried_still_reads():
    stored = {"kind": "drift", "trigger_id": "drift:a", "reason": "r", "windows": [1]}

    assert RunTrigger.model_validate(stored).evidence_uri is None


def test_given_a_training_column_without_values_then_its_baseline_shares_are_all_zero():
    baseline = build_baseline([{"c": None}] * 50, label=None, source="t")

    drift = feature(compare(baseline, categories({"new": 20}), POLICY), "c")

    assert drift.categories == ["new"]
    assert drift.baseline_shares == [0.0, 0.0]
    assert drift.current_shares == [1.0, 0.0]
