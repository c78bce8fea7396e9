"""The drifted features' distributions on the approval: built from our drift check's
statistics.json, read only when it is the drift check's own, never blocking the approval."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any, cast

import pytest

from aiops.adapters.drift_evidence import (
    DriftStatistics,
    bin_labels,
    distributions_from_statistics,
)
from aiops.approval.model import FeatureDistribution
from aiops.approval.ports import MAX_DRIFT_FEATURES
from aiops.approval.stage import ApprovalDependencies, _summary
from aiops.policy import GatePolicy
from aiops.registry import Candidate
from aiops.runs.requests import RunRequest, RunTrigger
from aiops.runs.steps import ApprovalRequest
from aiops.storage import ObjectUnreadable

URI = "s3://artifacts/drift/churn/2026-11-20T03-00-00Z/statistics.json"
WRITTEN_BY_CHECK = {"aiops-writer": "drift-check", "aiops-model": "churn"}


def numeric(name: str, psi: float, current: list[float] | None = None, **extra: Any) -> dict:
    return {
        "name": name,
        "kind": "numeric",
        "rows": 400,
        "in_current_data": True,
        "completeness": 1.0,
        "baseline_completeness": 1.0,
        "psi": psi,
        "bin_edges": [12.5, 30.0],
        "baseline_shares": [0.3, 0.4, 0.3],
        "current_shares": current if current is not None else [0.1, 0.3, 0.6],
        **extra,
    }


def categorical(name: str, **extra: Any) -> dict:
    return {
        "name": name,
        "kind": "categorical",
        "rows": 400,
        "in_current_data": True,
        "completeness": 1.0,
        "baseline_completeness": 1.0,
        "unseen_share": 0.5,
        "categories": ["no", "yes", "maybe"],
        "baseline_shares": [0.8, 0.2, 0.0, 0.0],
        "current_shares": [0.3, 0.2, 0.5, 0.0],
        **extra,
    }


def violation(feature: str, check: str = "baseline_drift_check") -> dict:
    return {"feature_name": feature, "constraint_check_type": check, "description": "d"}


def statistics(features: list[dict], violated: list[str]) -> dict:
    return {
        "baseline": "s3://artifacts/manifests/churn/run.json",
        "champion": "arn:aws:sagemaker:us-east-1:1:model-package/churn/1",
        "current": "2 capture file(s)",
        "rows": 400,
        "min_rows": 100,
        "enough_data": True,
        "features": features,
        "extra_columns": [],
        "violations": [violation(name) for name in violated],
        "skipped_records": 0,
    }


# --- building the distributions ------------------------------------------------------------------


def test_a_numeric_feature_charts_its_bins_with_readable_labels():
    [dist] = distributions_from_statistics(statistics([numeric("calls", 0.42)], ["calls"]))

    assert dist == FeatureDistribution(
        feature="calls",
        bins=["≤ 12.5", "12.5\u201330", "> 30"],
        baseline=[0.3, 0.4, 0.3],
        current=[0.1, 0.3, 0.6],
        distance=0.42,
    )


def test_a_categorical_feature_charts_its_values_and_drops_an_empty_rest():
    [dist] = distributions_from_statistics(statistics([categorical("plan")], ["plan"]))

    assert dist.bins == ["no", "yes", "maybe"]
    assert dist.baseline == [0.8, 0.2, 0.0]
    assert dist.current == [0.3, 0.2, 0.5]
    assert dist.distance is not None and dist.distance > 0.2


def test_a_rest_that_is_only_float_noise_is_dropped_too():
    noisy = categorical("plan", baseline_shares=[0.8, 0.2, 0.0, 1e-17])

    [dist] = distributions_from_statistics(statistics([noisy], ["plan"]))

    assert dist.bins == ["no", "yes", "maybe"]


def test_the_rest_of_a_categorical_feature_is_other_and_never_taken_for_a_value():
    plain = categorical("plan", baseline_shares=[0.7, 0.2, 0.0, 0.1])
    clash = categorical("state", categories=["other", "x", "y"], current_shares=[0, 0, 0.9, 0.1])

    dists = distributions_from_statistics(statistics([plain, clash], ["plan", "state"]))

    assert {d.feature: d.bins[-1] for d in dists} == {"plan": "other", "state": "(other)"}


def test_only_violated_features_are_charted_most_drifted_first_at_most_twelve():
    features = [numeric(f"f{i:02d}", psi=i / 10) for i in range(20)] + [numeric("calm", 0.01)]

    dists = distributions_from_statistics(statistics(features, [f"f{i:02d}" for i in range(20)]))

    assert len(dists) == MAX_DRIFT_FEATURES
    assert [d.feature for d in dists] == [f"f{i:02d}" for i in range(19, 7, -1)]


@pytest.mark.parametrize(
    "edges,labels",
    [
        ([12.5, 30.0], ["≤ 12.5", "12.5\u201330", "> 30"]),
        ([5.0], ["≤ 5", "> 5"]),
        ([0.1001, 0.1002], ["≤ 0.1001", "0.1001\u20130.1002", "> 0.1002"]),
        ([1234567.0, 2345678.0], ["≤ 1.23e+06", "1.23e+06\u20132.35e+06", "> 2.35e+06"]),
        ([-0.0, 1.0], ["≤ 0", "0\u20131", "> 1"]),
    ],
)
def test_bin_labels_are_short_and_tell_neighbouring_bins_apart(edges, labels):
    assert bin_labels(edges) == labels


@pytest.mark.parametrize(
    "document",
    [
        pytest.param(None, id="null"),
        pytest.param([], id="a list"),
        pytest.param({"features": "x", "violations": []}, id="features not a list"),
        pytest.param({"features": [{"name": "x"}], "violations": []}, id="feature without kind"),
        pytest.param({"features": []}, id="no violations"),
        pytest.param(
            {"features": [numeric("x", 1)], "violations": [{"feature": "x"}]}, id="bad violation"
        ),
    ],
)
def test_a_malformed_document_gives_no_charts(document):
    assert distributions_from_statistics(document) == []


@pytest.mark.parametrize(
    "broken",
    [
        pytest.param(numeric("x", 0.5, current=[0.5, 0.5]), id="fewer current shares"),
        pytest.param(numeric("x", 0.5, bin_edges=[1.0]), id="edges and shares disagree"),
        pytest.param(numeric("x", 0.5, current=[-0.1, 0.5, 0.6]), id="negative share"),
        pytest.param(numeric("x", 0.5, current=[float("nan"), 0.5, 0.5]), id="NaN share"),
        pytest.param(numeric("x", 0.5, current_shares=None), id="written before the shares"),
        pytest.param(numeric("x", 0.5, bin_edges=None), id="no edges"),
        pytest.param(categorical("x", categories=["a"]), id="categories and shares disagree"),
        pytest.param(
            numeric(
                "x",
                0.5,
                bin_edges=[float(i) for i in range(40)],
                baseline_shares=[1 / 41] * 41,
                current_shares=[1 / 41] * 41,
            ),
            id="more bins than a chart holds",
        ),
    ],
)
def test_a_feature_without_consistent_shares_is_left_out_and_the_others_charted(broken):
    dists = distributions_from_statistics(statistics([broken, numeric("ok", 0.3)], ["x", "ok"]))

    assert [d.feature for d in dists] == ["ok"]


def test_an_old_statistics_document_without_shares_gives_no_charts():
    old = numeric("calls", 0.42)
    for key in ("bin_edges", "baseline_shares", "current_shares"):
        del old[key]

    assert distributions_from_statistics(statistics([old], ["calls"])) == []


def test_a_feature_missing_from_the_current_data_is_not_charted():
    gone = {
        "name": "gone",
        "kind": "numeric",
        "rows": 400,
        "in_current_data": False,
        "completeness": 0.0,
        "baseline_completeness": 1.0,
    }

    dists = distributions_from_statistics(statistics([gone], ["gone"]))

    assert dists == []


# --- reading the document ------------------------------------------------------------------------


class FakeObjects:
    def __init__(self, stored: dict[str, tuple[str, dict[str, str]]] | None = None) -> None:
        self.stored = stored or {}
        self.reads: list[str] = []
        self.error: Exception | None = None

    def read_with_metadata(self, uri: str) -> tuple[str, dict[str, str]] | None:
        self.reads.append(uri)
        if self.error is not None:
            raise self.error
        return self.stored.get(uri)


def evidence(objects: FakeObjects) -> DriftStatistics:
    return DriftStatistics(cast(Any, objects))


def stored(text: str, metadata: dict[str, str] = WRITTEN_BY_CHECK) -> FakeObjects:
    return FakeObjects({URI: (text, metadata)})


GOOD = json.dumps(statistics([numeric("calls", 0.42), categorical("plan")], ["calls", "plan"]))


def test_the_drift_checks_statistics_give_the_charts():
    dists = evidence(stored(GOOD)).distributions("churn", URI)

    # plan: half its values never seen (PSI about 4.7) is more drifted than calls (PSI 0.42)
    assert [(d.feature, d.distance) for d in dists] == [
        ("plan", pytest.approx(4.75, abs=0.01)),
        ("calls", 0.42),
    ]


@pytest.mark.parametrize(
    "objects,uri",
    [
        pytest.param(FakeObjects(), URI, id="missing"),
        pytest.param(stored("{not json"), URI, id="not JSON"),
        pytest.param(stored('{"features": 1}'), URI, id="not statistics"),
        pytest.param(stored(GOOD, {}), URI, id="no metadata"),
        pytest.param(
            stored(GOOD, {"aiops-writer": "someone", "aiops-model": "churn"}), URI, id="writer"
        ),
        pytest.param(
            stored(GOOD, {"aiops-writer": "drift-check", "aiops-model": "fraud"}),
            URI,
            id="another model's",
        ),
        pytest.param(
            FakeObjects({"s3://artifacts/x/statistics.json": (GOOD, WRITTEN_BY_CHECK)}),
            "s3://artifacts/x/statistics.json",
            id="outside the model's prefix",
        ),
        pytest.param(FakeObjects(), "https://example.com/statistics.json", id="not s3"),
    ],
)
def test_unusable_evidence_gives_no_charts_and_a_warning(
    objects: FakeObjects, uri: str, caplog: pytest.LogCaptureFixture
):
    with caplog.at_level(logging.WARNING):
        assert evidence(objects).distributions("churn", uri) == []

    assert "drift evidence unusable" in caplog.text


@pytest.mark.parametrize(
    "error",
    [ObjectUnreadable(URI, "cannot be read (AccessDenied)"), RuntimeError("throttled")],
    ids=["unreadable", "any error"],
)
def test_a_failing_read_never_blocks_the_approval(error: Exception):
    objects = stored(GOOD)
    objects.error = error

    assert evidence(objects).distributions("churn", URI) == []


def test_a_foreign_location_is_never_read():
    objects = FakeObjects()

    evidence(objects).distributions("churn", "s3://artifacts/drift/fraud/t/statistics.json")

    assert objects.reads == []


# --- the approval's summary ----------------------------------------------------------------------


class StubRegistry:
    def recent(self, package_group: str, limit: int) -> list[Candidate]:
        return []


class StubTraining:
    def manifest_size(self, candidate: Candidate) -> tuple[int, int] | None:
        return None


class RecordingEvidence:
    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []

    def distributions(self, model: str, uri: str) -> list[FeatureDistribution]:
        self.asked.append((model, uri))
        return [
            FeatureDistribution(feature=f"f{i}", bins=["a"], baseline=[1.0], current=[1.0])
            for i in range(MAX_DRIFT_FEATURES + 3)
        ]


def deps(drift: RecordingEvidence | None) -> ApprovalDependencies:
    unused = cast(Any, None)
    return ApprovalDependencies(
        store=unused,
        resumer=unused,
        notices=unused,
        registry=cast(Any, StubRegistry()),
        alerts=unused,
        ledger=unused,
        training=StubTraining(),
        verdicts=unused,
        drift=drift,
    )


def step(trigger: RunTrigger) -> ApprovalRequest:
    return ApprovalRequest(
        request=RunRequest(model="churn", run_id="churn-d-1", trigger=trigger),
        candidate=Candidate(
            package_arn="arn:aws:sagemaker:us-east-1:1:model-package/churn/2",
            package_group="churn",
            version=2,
            approval_status="PendingManualApproval",
            metrics={"auc": 0.83},
        ),
        gate_reason="passed",
        timeout_seconds=int(timedelta(days=3).total_seconds()),
        execution_name="churn-v2",
    )


DRIFT = RunTrigger(kind="drift", trigger_id="drift:1", reason="drift", evidence_uri=URI)
GATE = GatePolicy(metric="auc")


def test_a_run_with_drift_evidence_has_its_distributions_in_the_summary():
    found = RecordingEvidence()

    summary = _summary(step(DRIFT), GATE, deps(found))

    assert found.asked == [("churn", URI)]
    assert len(summary.drift) == MAX_DRIFT_FEATURES


@pytest.mark.parametrize(
    "trigger",
    [
        RunTrigger(kind="new_data", trigger_id="window:w1", reason="full"),
        RunTrigger(kind="drift", trigger_id="drift:2", reason="Model Monitor"),
    ],
    ids=["new data", "drift without evidence"],
)
def test_a_run_without_drift_evidence_never_asks_for_it(trigger: RunTrigger):
    found = RecordingEvidence()

    summary = _summary(step(trigger), GATE, deps(found))

    assert found.asked == [] and summary.drift == []


def test_dependencies_built_without_drift_evidence_still_open_approvals():
    assert _summary(step(DRIFT), GATE, deps(None)).drift == []
