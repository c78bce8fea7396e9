"""Our own drift check's statistics: baseline, data capture parsing and Model Monitor's checks."""

from __future__ import annotations

import base64
import csv
import io
import json
import math
import random
from collections.abc import Callable, Iterator

import pytest

from aiops.drift.stats import (
    Baseline,
    BaselineError,
    DriftComparison,
    FeatureDrift,
    FeatureProfiler,
    build_baseline,
    capture_records,
    compare,
    csv_records,
    population_stability_index,
)
from aiops.policy import DriftMonitorPolicy

POLICY = DriftMonitorPolicy(source="window", label="churn", min_rows=100)
FEATURES = ["age", "income", "plan"]

Row = dict[str, str | None]
Change = Callable[[Row, random.Random], None]


def training_rows(seed: int, count: int) -> list[Row]:
    rng = random.Random(seed)
    rows: list[Row] = []
    for _ in range(count):
        plan = rng.choices(["basic", "plus", "pro"], weights=[6, 3, 1])[0]
        rows.append(
            {
                "age": str(int(rng.gauss(40, 10))),
                "income": f"{rng.lognormvariate(10, 0.5):.2f}",
                "plan": plan if rng.random() > 0.02 else None,
                "churn": "1" if rng.random() < 0.2 else "0",
            }
        )
    return rows


def csv_lines(rows: list[Row]) -> list[str]:
    """The rows as a CSV file's lines (header first), without line ends, as iter_lines yields."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().splitlines()


def current(seed: int, count: int = 2000, change: Change | None = None):
    """Current rows, through CSV lines, from the training distribution with an optional change."""
    rng = random.Random(seed + 1000)
    rows = training_rows(seed, count)
    for row in rows:
        if change is not None:
            change(row, rng)
    return csv_records(csv_lines(rows))


@pytest.fixture(scope="module")
def baseline() -> Baseline:
    lines = [line.encode() for line in csv_lines(training_rows(1, 5000))]
    return build_baseline(csv_records(lines), label="churn", source="s3://train/churn/")


def replace_some(column: str, value: str | None, share: float) -> Change:
    """A change that sets `column` to `value` in about `share` of the rows."""

    def change(row: Row, rng: random.Random) -> None:
        if rng.random() < share:
            row[column] = value

    return change


def checks(comparison: DriftComparison) -> list[tuple[str, str]]:
    return [(v.feature_name, v.constraint_check_type) for v in comparison.violations]


def drift_of(comparison: DriftComparison, name: str) -> FeatureDrift:
    return next(f for f in comparison.features if f.name == name)


def capture_line(data: str, encoding: str, content_type: str, event_id: str = "e1") -> str:
    return json.dumps(
        {
            "captureData": {
                "endpointInput": {
                    "observedContentType": content_type,
                    "mode": "INPUT",
                    "data": data,
                    "encoding": encoding,
                },
                "endpointOutput": {
                    "observedContentType": "text/csv; charset=utf-8",
                    "mode": "OUTPUT",
                    "data": "0.12",
                    "encoding": "CSV",
                },
            },
            "eventMetadata": {"eventId": event_id, "inferenceTime": "2025-01-01T10:00:00Z"},
            "eventVersion": "0",
        }
    )


# --- the baseline --------------------------------------------------------------------------------


def test_given_training_csv_when_building_the_baseline_then_features_exclude_the_label(baseline):
    assert baseline.label == "churn"
    assert baseline.columns == FEATURES
    assert [f.name for f in baseline.features] == FEATURES
    assert baseline.rows == 5000
    assert [f.kind for f in baseline.features] == ["numeric", "numeric", "categorical"]


def test_given_a_numeric_feature_when_building_the_baseline_then_bins_are_its_deciles(baseline):
    income = baseline.feature("income")

    assert len(income.bin_edges) == 9
    assert income.bin_edges == sorted(income.bin_edges)
    assert len(income.bin_shares) == 10
    assert all(share == pytest.approx(0.1, abs=0.002) for share in income.bin_shares)
    assert income.sampled == 5000
    assert income.completeness == 1.0


def test_given_a_categorical_feature_when_building_the_baseline_then_shares_per_value(baseline):
    plan = baseline.feature("plan")

    assert list(plan.categories) == ["basic", "plus", "pro"]
    assert sum(plan.categories.values()) == pytest.approx(1.0)
    assert plan.categories["basic"] == pytest.approx(0.6, abs=0.03)
    assert plan.completeness == pytest.approx(0.98, abs=0.01)
    assert plan.bin_edges == []


def test_given_the_same_data_and_seed_when_building_twice_then_the_baselines_are_equal():
    rows = training_rows(3, 3000)

    first = build_baseline(rows, "churn", "src", sample_size=500, seed=7)
    second = build_baseline(rows, "churn", "src", sample_size=500, seed=7)

    assert first == second
    assert first.feature("income").sampled == 500


def test_given_a_baseline_when_dumped_to_json_and_read_back_then_it_is_equal(baseline):
    text = json.dumps(baseline.model_dump(mode="json"))

    restored = Baseline.model_validate(json.loads(text))

    assert restored == baseline
    assert compare(restored, current(2), POLICY) == compare(baseline, current(2), POLICY)


def test_given_a_constant_column_when_building_the_baseline_then_one_bin_holds_everything():
    rows: list[Row] = [{"x": "5"} for _ in range(200)]

    feature = build_baseline(rows, None, "src").feature("x")

    assert feature.kind == "numeric"
    assert feature.bin_edges == [5.0]
    assert feature.bin_shares == [1.0, 0.0]
    assert feature.std == 0.0


def test_given_one_non_number_in_a_column_when_building_the_baseline_then_it_is_categorical():
    rows: list[Row] = [{"x": str(i), "y": str(i), "z": str(i)} for i in range(300)]
    rows[150] = {"x": "n/a", "y": "nan", "z": "inf"}

    baseline = build_baseline(rows, None, "src")

    assert [f.kind for f in baseline.features] == ["categorical"] * 3


def test_given_no_records_when_building_the_baseline_then_it_refuses():
    with pytest.raises(BaselineError, match="no records"):
        build_baseline([], "churn", "s3://train/empty/")


def test_given_a_label_that_is_not_a_column_when_building_the_baseline_then_it_names_it():
    with pytest.raises(BaselineError, match="label 'target' is not a column"):
        build_baseline(training_rows(1, 10), "target", "src")


# --- bounded memory ------------------------------------------------------------------------------


def test_given_200k_distinct_values_when_profiling_then_reservoir_and_categories_stay_capped():
    profiler = FeatureProfiler("x", sample_size=1000, max_categories=1000, seed=0)

    for i in range(200_000):
        profiler.add(str(i))

    assert len(profiler.reservoir) == 1000
    assert len(profiler.categories) == 1000
    assert profiler.untracked == 199_000
    assert profiler.present == 200_000


def test_given_200k_rows_when_building_the_baseline_then_its_size_is_capped_and_sample_uniform():
    def rows() -> Iterator[Row]:  # streamed, never held: ascending numbers, all-distinct ids
        for i in range(200_000):
            yield {"id": f"id-{i}", "x": str(i)}

    baseline = build_baseline(rows(), None, "src", sample_size=10_000)

    ids, x = baseline.feature("id"), baseline.feature("x")
    assert ids.kind == "categorical"
    assert len(ids.categories) == 1000
    assert ids.other_share == pytest.approx(199_000 / 200_000)
    assert x.kind == "numeric"
    assert x.sampled == 10_000
    assert x.categories == {}
    # A sample of the whole ascending stream, not its first 10,000 values: median near 100,000.
    assert x.bin_edges[4] == pytest.approx(100_000, rel=0.05)
    assert len(json.dumps(baseline.model_dump(mode="json"))) < 100_000


# --- the comparison ------------------------------------------------------------------------------


def test_given_data_from_the_training_distribution_when_compared_then_no_violations(baseline):
    comparison = compare(baseline, current(2), POLICY)

    assert comparison.enough_data
    assert comparison.rows == 2000
    assert comparison.violations == []
    drift = {f.name: f for f in comparison.features}
    assert drift["age"].psi is not None and drift["age"].psi < 0.05
    assert drift["income"].psi is not None and drift["income"].psi < 0.05
    assert drift["plan"].unseen_share == 0.0
    assert drift["plan"].psi is None


def test_given_a_shifted_numeric_mean_when_compared_then_drift_on_exactly_that_feature(baseline):
    def older(row: Row, rng: random.Random) -> None:
        row["age"] = str(int(row["age"] or 0) + 15)

    comparison = compare(baseline, current(2, change=older), POLICY)

    assert checks(comparison) == [("age", "baseline_drift_check")]
    description = comparison.violations[0].description
    assert description.startswith("PSI ")
    assert "> 0.2 against the baseline (10 bins, 2000 values)" in description
    age = drift_of(comparison, "age")
    assert age.psi is not None and age.psi > 1.0


def test_given_unseen_categories_when_compared_then_categorical_values_check(baseline):
    enterprise = replace_some("plan", "enterprise", share=0.3)

    comparison = compare(baseline, current(2, change=enterprise), POLICY)

    assert checks(comparison) == [("plan", "categorical_values_check")]
    assert "never seen in the baseline > 10.0% allowed" in comparison.violations[0].description
    assert "'enterprise'" in comparison.violations[0].description
    assert drift_of(comparison, "plan").unseen_share == pytest.approx(0.3, abs=0.03)


def test_given_a_few_unseen_categories_when_compared_then_below_the_threshold(baseline):
    rare = replace_some("plan", "enterprise", share=0.05)

    assert compare(baseline, current(2, change=rare), POLICY).violations == []


def test_given_missing_values_when_compared_then_completeness_check(baseline):
    gaps = replace_some("income", None, share=0.2)

    comparison = compare(baseline, current(2, change=gaps), POLICY)

    assert checks(comparison) == [("income", "completeness_check")]
    assert "vs 100.0% in the baseline" in comparison.violations[0].description
    assert "> 5.0% allowed" in comparison.violations[0].description


def test_given_a_dropped_column_when_compared_then_missing_column_check(baseline):
    def drop(row: Row, rng: random.Random) -> None:
        del row["income"]

    comparison = compare(baseline, current(2, change=drop), POLICY)

    assert checks(comparison) == [("income", "missing_column_check")]
    assert not drift_of(comparison, "income").in_current_data


def test_given_an_extra_column_when_compared_then_extra_column_check(baseline):
    def region(row: Row, rng: random.Random) -> None:
        row["region"] = rng.choice(["eu", "us"])

    comparison = compare(baseline, current(2, change=region), POLICY)

    assert checks(comparison) == [("region", "extra_column_check")]
    assert comparison.extra_columns == ["region"]


def test_given_the_label_in_current_data_or_not_when_compared_then_it_is_never_checked(baseline):
    def no_label(row: Row, rng: random.Random) -> None:
        del row["churn"]

    def shifted_label(row: Row, rng: random.Random) -> None:
        row["churn"] = "yes"

    assert compare(baseline, current(2, change=no_label), POLICY).violations == []
    with_label = compare(baseline, current(2, change=shifted_label), POLICY)
    assert with_label.violations == []
    assert "churn" not in {f.name for f in with_label.features}


def test_given_non_numbers_in_a_numeric_feature_when_compared_then_data_type_check(baseline):
    unknown = replace_some("age", "unknown", share=0.05)

    comparison = compare(baseline, current(2, change=unknown), POLICY)

    assert checks(comparison) == [("age", "data_type_check")]
    assert "'unknown'" in comparison.violations[0].description


def test_given_a_stray_non_number_when_compared_then_no_data_type_check(baseline):
    stray = replace_some("age", "unknown", share=0.003)

    comparison = compare(baseline, current(2, change=stray), POLICY)

    assert comparison.violations == []
    age = drift_of(comparison, "age")
    assert age.non_numeric_share is not None and 0 < age.non_numeric_share < 0.01


def test_given_fewer_rows_than_min_rows_when_compared_then_no_verdict(baseline):
    def broken(row: Row, rng: random.Random) -> None:
        row["age"] = str(int(row["age"] or 0) + 30)
        row["plan"] = "enterprise"

    few = compare(baseline, current(2, count=99, change=broken), POLICY)
    enough = compare(baseline, current(2, count=100, change=broken), POLICY)

    assert few.rows == 99
    assert not few.enough_data
    assert few.violations == []
    assert drift_of(few, "age").psi is not None
    assert enough.enough_data
    assert set(checks(enough)) == {
        ("age", "baseline_drift_check"),
        ("plan", "categorical_values_check"),
    }


def test_given_a_constant_baseline_when_values_move_then_drift(baseline):
    constant = build_baseline([{"x": "5"} for _ in range(500)], None, "src")

    same = compare(constant, [{"x": "5"} for _ in range(200)], POLICY)
    moved = compare(constant, [{"x": "6"} for _ in range(200)], POLICY)

    assert same.violations == []
    assert same.features[0].psi == 0.0
    assert checks(moved) == [("x", "baseline_drift_check")]


def test_given_a_high_cardinality_baseline_when_new_ids_arrive_then_its_tail_is_allowed():
    rows: list[Row] = [{"id": f"id-{i}"} for i in range(5000)]
    ids = build_baseline(rows, None, "src", max_categories=100)
    fresh: list[Row] = [{"id": f"new-{i}"} for i in range(500)]

    comparison = compare(ids, fresh, POLICY)

    assert comparison.features[0].unseen_share == 1.0
    assert comparison.violations == []


def test_given_known_shares_when_computing_psi_then_the_textbook_value():
    expected = 0.4 * math.log(0.9 / 0.5) + (-0.4) * math.log(0.1 / 0.5)

    assert population_stability_index([0.5, 0.5], [0.9, 0.1]) == pytest.approx(expected)
    assert population_stability_index([0.5, 0.5], [0.5, 0.5]) == 0.0
    assert population_stability_index([1.0, 0.0], [0.0, 1.0]) == pytest.approx(
        2 * (1 - 1e-4) * math.log(1 / 1e-4)
    )


# --- reading CSV ---------------------------------------------------------------------------------


def test_given_csv_lines_when_read_then_records_by_header_with_empty_cells_as_none():
    lines = [b"\xef\xbb\xbfa,b,c", b'1,"two', b'lines",', b"", b"4,5,6,7", b"8"]

    reader = csv_records(lines)
    records = list(reader)

    assert records == [
        {"a": "1", "b": "two\nlines", "c": None},
        {"a": "4", "b": "5", "c": "6", "_c3": "7"},
        {"a": "8"},
    ]
    assert reader.skipped == 0


def test_given_an_oversized_csv_field_when_read_then_the_row_is_skipped_and_counted():
    reader = csv_records(["a,b", "x" * 200_000 + ",1", "2,3"])

    assert list(reader) == [{"a": "2", "b": "3"}]
    assert reader.skipped == 1


# --- reading data capture ------------------------------------------------------------------------


def test_given_capture_lines_with_csv_payloads_when_read_then_rows_map_onto_columns():
    lines: list[str | bytes] = [
        capture_line("41,52000.5,pro", "CSV", "text/csv"),
        capture_line("30,,basic\n50,1000,plus,extra", "CSV", "text/csv"),
        capture_line("60", "CSV", "text/csv").encode(),
    ]

    records = list(capture_records(lines, FEATURES))

    assert records == [
        {"age": "41", "income": "52000.5", "plan": "pro"},
        {"age": "30", "income": None, "plan": "basic"},
        {"age": "50", "income": "1000", "plan": "plus", "_c3": "extra"},
        {"age": "60"},
    ]


def test_given_capture_lines_with_json_payloads_when_read_then_objects_and_lists_are_rows():
    payloads = [
        {"age": 41, "income": 52000.5, "plan": "pro"},
        [{"age": 30, "plan": None}, {"age": 31, "plan": "plus"}],
        {"instances": [{"age": 32, "income": 1, "plan": "basic"}]},
        {"instances": [[33, 2, "pro"], {"features": [34, 3, "plus"]}]},
        [35, 4.5, "basic"],
    ]
    lines = [capture_line(json.dumps(p), "JSON", "application/json") for p in payloads]

    records = list(capture_records(lines, FEATURES))

    assert records == [
        {"age": "41", "income": "52000.5", "plan": "pro"},
        {"age": "30", "plan": None},
        {"age": "31", "plan": "plus"},
        {"age": "32", "income": "1", "plan": "basic"},
        {"age": "33", "income": "2", "plan": "pro"},
        {"age": "34", "income": "3", "plan": "plus"},
        {"age": "35", "income": "4.5", "plan": "basic"},
    ]


def test_given_capture_lines_with_base64_payloads_when_read_then_decoded_by_content_type():
    csv_body = base64.b64encode(b"41,52000.5,pro\n42,1,basic").decode()
    json_body = base64.b64encode(json.dumps({"age": 43, "plan": "plus"}).encode()).decode()
    lines = [
        capture_line(csv_body, "BASE64", "text/csv"),
        capture_line(json_body, "BASE64", "application/json; charset=utf-8"),
    ]

    records = list(capture_records(lines, FEATURES))

    assert records == [
        {"age": "41", "income": "52000.5", "plan": "pro"},
        {"age": "42", "income": "1", "plan": "basic"},
        {"age": "43", "plan": "plus"},
    ]


def test_given_malformed_capture_lines_when_read_then_skipped_counted_and_the_rest_read():
    good = capture_line("41,52000.5,pro", "CSV", "text/csv")
    lines: list[str | bytes] = [
        "not json at all",
        good,
        json.dumps({"eventVersion": "0"}),
        capture_line("!!!not base64!!!", "BASE64", "text/csv"),
        capture_line(base64.b64encode(b"\x89PNG").decode(), "BASE64", "image/png"),
        capture_line("{broken", "JSON", "application/json"),
        capture_line('"a string"', "JSON", "application/json"),
        b"\xff\xfe bad bytes",
        "   ",
        good,
    ]

    reader = capture_records(lines, FEATURES)
    records = list(reader)

    assert len(records) == 2
    assert reader.skipped == 7
    assert reader.skip_reasons["not JSON"] == 1
    assert reader.skip_examples[0] == "line 1: not JSON"


def test_given_a_capture_reader_when_compared_then_skipped_lines_are_reported(baseline):
    rows = training_rows(2, 300)
    lines = [
        capture_line(",".join(row[c] or "" for c in FEATURES), "CSV", "text/csv") for row in rows
    ]
    lines.insert(10, "garbage")

    comparison = compare(baseline, capture_records(lines, baseline.columns), POLICY)

    assert comparison.rows == 300
    assert comparison.skipped_records == 1
    assert comparison.violations == []
