"""A drift-triggered candidate's approval page shows the drifted features' distributions.

The demo scenario ends with our hourly drift check finding total_day_minutes and
total_eve_minutes drifted; the drift run it starts registers churn v2, which waits for a person.
Its approval item holds the charts' data (from the check's statistics.json) and the page draws
them as inline SVG.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer

from aiops_local import LocalCloud
from aiops_local.approver import Approver
from aiops_local.scenario import ScenarioRunner, cloud_for, load_scenario

pytestmark = pytest.mark.e2e

DEMO = Path(__file__).resolve().parents[3] / "scenarios" / "demo.yaml"
ML_LEAD = "ml-lead@example.com"
DRIFTED = ("total_day_minutes", "total_eve_minutes")


@pytest.fixture(scope="module")
def demo() -> Iterator[LocalCloud]:
    scenario = load_scenario(DEMO)
    # Up to where v2 waits for a person (the demo then approves and deploys it).
    scenario.steps = scenario.steps[: _v2_decision(scenario.steps)]
    with cloud_for(scenario) as cloud:
        results = ScenarioRunner(scenario, cloud).run()
        assert [r.failures for r in results if r.failures] == []
        yield cloud


def _v2_decision(steps: list[Any]) -> int:
    return next(
        i
        for i, step in enumerate(steps)
        if step.kind == "decide" and isinstance(step.arg, dict) and step.arg.get("version") == 2
    )


def approval_item(cloud: LocalCloud, version: int) -> dict[str, Any]:
    response = cloud.client("dynamodb").get_item(
        TableName=cloud.table("ControlTable"),
        Key={"pk": {"S": "APPROVAL#churn"}, "sk": {"S": f"V#{version:010d}"}},
        ConsistentRead=True,
    )
    assert "Item" in response, f"no approval of churn v{version}"
    deserializer = TypeDeserializer()
    return {k: deserializer.deserialize(v) for k, v in response["Item"].items()}


def summary_of(item: dict[str, Any]) -> dict[str, Any]:
    summary = item["summary"]
    return json.loads(summary) if isinstance(summary, str) else summary


def test_the_drift_runs_approval_holds_the_drifted_features_distributions(demo: LocalCloud):
    summary = summary_of(approval_item(demo, 2))

    assert summary["trigger_kind"] == "drift"
    drift = summary["drift"]
    assert {d["feature"] for d in drift} == set(DRIFTED)
    for dist in drift:
        assert len(dist["bins"]) == len(dist["baseline"]) == len(dist["current"]) > 1
        assert abs(sum(float(s) for s in dist["baseline"]) - 1) < 1e-3
        assert abs(sum(float(s) for s in dist["current"]) - 1) < 1e-3
        assert float(dist["distance"]) > 0.2  # the demo policy's max_psi
        assert dist["bins"][0].startswith("≤ ") and dist["bins"][-1].startswith("> ")
    distances = [float(d["distance"]) for d in drift]
    assert distances == sorted(distances, reverse=True), "most drifted first"


def test_the_first_approval_started_by_new_data_has_no_drift_charts(demo: LocalCloud):
    assert summary_of(approval_item(demo, 1))["drift"] == []


def test_the_page_draws_each_drifted_feature_as_an_svg_distribution_chart(demo: LocalCloud):
    approver = Approver(demo)

    page = approver.open(approver.link(ML_LEAD, "churn", 2))

    assert page.status == 200, page.text
    charts = re.findall(r"<svg\b.*?</svg>", page.text, flags=re.DOTALL)
    for feature in DRIFTED:
        drawn = [c for c in charts if f"distribution of {feature}" in c]
        assert len(drawn) == 1, f"no distribution chart of {feature}"
        assert "baseline" in drawn[0] and "current" in drawn[0]
