"""Cost Anomaly Detection offline: the `cost_anomaly` scenario step emits `aws.ce` / `Anomaly
Detected` in the documented shape (events/cost_anomaly_detected.json), once or redelivered, now or
later in virtual time; a wrong argument stops the scenario naming the field.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from aiops_local import LocalCloud
from aiops_local.scenario import ScenarioError
from aiops_local.simulators.cost_anomaly import DETAIL_TYPE, SOURCE
from tests.support.events import load_event
from tests.support.runtime import run_steps, run_steps_unchecked, toy_cloud_fixtures

START = datetime(2026, 11, 21, 6, 14, tzinfo=UTC)
ACCOUNT, REGION = "123456789012", "us-east-1"
CONSOLE = "https://console.aws.amazon.com/cost-management/home#/anomaly-detection"


cloud, shared_cloud = toy_cloud_fixtures(START)


def anomalies(cloud: LocalCloud) -> list[dict[str, Any]]:
    """The anomaly events delivered so far, each with `t`: virtual seconds since START."""
    return [
        {**e["event"], "t": e["t"]}
        for e in cloud.timeline.entries(0)
        if e["kind"] == "event" and e.get("detail_type") == DETAIL_TYPE and "event" in e
    ]


def step(**arguments: Any) -> dict[str, Any]:
    return {"cost_anomaly": {"service": "Amazon Bedrock", "impact": 212.4, **arguments}}


def shape(value: Any) -> Any:
    """The keys of every object, recursively (lists by their first item)."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "number"
    return type(value).__name__


# ---------------------------------------------------------------------- the event
def test_given_an_anomaly_step_then_one_event_in_the_documented_shape_is_delivered(
    cloud: LocalCloud, tmp_path: Path
) -> None:
    run_steps(cloud, tmp_path, [step(usage_type="USE1-NovaLite-output-tokens")])

    (event,) = anomalies(cloud)
    sample = load_event("cost_anomaly_detected")
    detail = event["detail"]
    assert (
        (event["source"], event["detail-type"]) == (SOURCE, DETAIL_TYPE) == ("aws.ce", DETAIL_TYPE)
    )
    assert (event["account"], event["region"], event["time"]) == (
        ACCOUNT,
        REGION,
        "2026-11-21T06:14:00Z",
    )
    assert shape(event) == {**shape(sample), "t": "number"}
    assert list(detail) == list(sample["detail"])
    assert event["resources"] == [detail["monitorArn"]]
    monitor_id = detail["monitorArn"].rsplit("/", 1)[1]
    assert detail["monitorArn"] == f"arn:aws:ce::{ACCOUNT}:anomalymonitor/{monitor_id}"
    assert detail["anomalyDetailsLink"] == (
        f"{CONSOLE}/monitors/{monitor_id}/anomalies/{detail['anomalyId']}"
    )
    assert (detail["anomalyStartDate"], detail["anomalyEndDate"]) == (
        "2026-11-21T00:00:00Z",
        "2026-11-21T00:00:00Z",
    )
    assert (detail["accountId"], detail["monitorName"], detail["dimensionValue"]) == (
        ACCOUNT,
        "aiops-services",
        "Amazon Bedrock",
    )
    assert detail["rootCauses"] == [
        {
            "linkedAccount": ACCOUNT,
            "linkedAccountName": "aiops-local",
            "region": REGION,
            "service": "Amazon Bedrock",
            "usageType": "USE1-NovaLite-output-tokens",
            "impact": {"contribution": 212.4},
        }
    ]


def test_given_only_the_impact_then_the_spend_adds_up_and_the_score_is_between_0_and_1(
    cloud: LocalCloud, tmp_path: Path
) -> None:
    run_steps(cloud, tmp_path, [step()])

    detail = anomalies(cloud)[0]["detail"]
    impact = detail["impact"]
    assert impact["totalImpact"] == impact["maxImpact"] == 212.4
    assert impact["totalExpectedSpend"] == 53.1  # a quarter of the impact: a usual day
    assert impact["totalActualSpend"] == round(
        impact["totalExpectedSpend"] + impact["totalImpact"], 2
    )
    assert impact["totalImpactPercentage"] == 400.0
    assert 0 < detail["anomalyScore"]["currentScore"] == detail["anomalyScore"]["maxScore"] < 1
    assert "usageType" not in detail["rootCauses"][0]  # Cost Anomaly Detection may leave it out


def test_given_every_field_then_the_event_says_them(cloud: LocalCloud, tmp_path: Path) -> None:
    run_steps(
        cloud,
        tmp_path,
        [
            step(
                service="Amazon SageMaker",
                usage_type="USE1-ml.g5.xlarge-hosting",
                region="eu-west-1",
                account=210987654321,  # YAML reads an unquoted account id as a number
                impact=300,
                expected=100,
                contribution=250.5,
                id="anomaly-1",
                start="2026-11-19",
                monitor="ml-services",
                dimension="Amazon SageMaker",
            )
        ],
    )

    detail = anomalies(cloud)[0]["detail"]
    assert detail["anomalyId"] == "anomaly-1"
    assert detail["monitorName"] == "ml-services"
    assert detail["anomalyDetailsLink"].endswith("/anomalies/anomaly-1")
    assert (detail["anomalyStartDate"], detail["anomalyEndDate"]) == (
        "2026-11-19T00:00:00Z",
        "2026-11-21T00:00:00Z",
    )
    assert detail["impact"] == {
        "maxImpact": 100.0,  # three days: the largest daily impact is a third
        "totalActualSpend": 400.0,
        "totalExpectedSpend": 100.0,
        "totalImpact": 300.0,
        "totalImpactPercentage": 300.0,
    }
    assert detail["rootCauses"] == [
        {
            "linkedAccount": "210987654321",
            "linkedAccountName": "210987654321",
            "region": "eu-west-1",
            "service": "Amazon SageMaker",
            "usageType": "USE1-ml.g5.xlarge-hosting",
            "impact": {"contribution": 250.5},
        }
    ]
    assert detail["accountId"] == ACCOUNT  # the monitor's (payer) account


def test_given_root_causes_then_they_replace_the_single_one_and_share_the_impact(
    cloud: LocalCloud, tmp_path: Path
) -> None:
    run_steps(
        cloud,
        tmp_path,
        [
            step(
                impact=90,
                root_causes=[
                    {"usage_type": "USE1-NovaLite-input-tokens"},
                    {"usage_type": "USE1-NovaLite-output-tokens", "contribution": 60},
                    {"service": "Amazon SageMaker", "region": "us-west-2"},
                ],
            )
        ],
    )

    causes = anomalies(cloud)[0]["detail"]["rootCauses"]
    assert [(c["service"], c["region"], c.get("usageType")) for c in causes] == [
        ("Amazon Bedrock", REGION, "USE1-NovaLite-input-tokens"),
        ("Amazon Bedrock", REGION, "USE1-NovaLite-output-tokens"),
        ("Amazon SageMaker", "us-west-2", None),
    ]
    assert [c["impact"]["contribution"] for c in causes] == [30.0, 60.0, 30.0]


# ---------------------------------------------------------------------- ids and deliveries
def test_given_repeat_3_then_three_deliveries_carry_the_same_anomaly_with_their_own_ids(
    cloud: LocalCloud, tmp_path: Path
) -> None:
    run_steps(cloud, tmp_path, [step(repeat=3)])

    delivered = anomalies(cloud)
    assert len(delivered) == 3
    assert len({e["id"] for e in delivered}) == 3
    assert len({e["detail"]["anomalyId"] for e in delivered}) == 1
    assert all(e["detail"] == delivered[0]["detail"] for e in delivered)


def test_given_the_same_step_twice_then_it_is_the_same_anomaly_and_another_impact_is_another(
    cloud: LocalCloud, tmp_path: Path
) -> None:
    run_steps(cloud, tmp_path, [step(), step(after="1h"), {"advance": "1h"}, step(impact=99)])

    ids = [e["detail"]["anomalyId"] for e in anomalies(cloud)]
    assert ids[0] == ids[1] != ids[2]


def test_given_after_then_the_anomaly_arrives_that_much_later(
    cloud: LocalCloud, tmp_path: Path
) -> None:
    run_steps(cloud, tmp_path, [step(after="6h", repeat=2), {"advance": "5h"}])
    early = anomalies(cloud)

    run_steps(cloud, tmp_path, [{"advance": "2h"}])

    assert early == []
    assert [e["t"] for e in anomalies(cloud)] == [21600, 21600]


# ---------------------------------------------------------------------- wrong arguments
class TestRefusals:
    """A refused step neither acts nor moves time (each checks no anomaly came): one cloud."""

    @pytest.mark.parametrize(
        ("arguments", "says"),
        [
            ({"impact": float("nan")}, "impact: Input should be a finite number"),
            ({"impact": float("inf")}, "impact: Input should be a finite number"),
            ({"impact": -5}, "impact: Input should be greater than 0"),
            ({"impact": 0}, "impact: Input should be greater than 0"),
            ({"impact": 2e9}, "impact: Input should be less than or equal to 1000000000"),
            ({"impact": True}, "impact"),
            ({"impact": "212.4"}, "impact"),
            ({"impact": None}, "impact"),
            ({"expected": 0}, "expected: Input should be greater than 0"),
            ({"contribution": -1}, "contribution: Input should be greater than or equal to 0"),
            ({"contribution": 500}, "contribution cannot exceed the anomaly's impact"),
            ({"repeat": 0}, "repeat: Input should be greater than or equal to 1"),
            ({"repeat": 11}, "repeat: Input should be less than or equal to 10"),
            ({"repeat": 2.0}, "repeat"),
            ({"service": ""}, "service"),
            ({"account": "12345"}, "account: must be a 12-digit AWS account id"),
            ({"region": "Virginia"}, "region"),
            ({"start": "yesterday"}, "start: must be a date such as 2026-11-21"),
            ({"start": "2026-11-22"}, "start: 2026-11-22 is after today (2026-11-21)"),
            ({"start": "2026-01-01"}, "start: 2026-01-01 is more than 90 days before today"),
            ({"after": "later"}, "after"),
            ({"after": "400d"}, "after: must be a duration from 0s to 365d"),
            ({"root_causes": []}, "root_causes: List should have at least 1 item"),
            ({"root_causes": [{"colour": "red"}]}, "unknown key 'root_causes[0].colour'"),
            ({"root_causes": [{"contribution": float("nan")}]}, "root_causes[0].contribution"),
            (
                {"usage_type": "x", "root_causes": [{"usage_type": "y"}]},
                "usage_type and contribution describe the single root cause",
            ),
            ({"colour": "red"}, "unknown key 'colour'"),
        ],
    )
    def test_given_a_wrong_argument_then_the_step_is_refused_naming_the_field(
        self, shared_cloud: LocalCloud, tmp_path: Path, arguments: dict[str, Any], says: str
    ) -> None:
        with pytest.raises(ScenarioError) as caught:
            run_steps_unchecked(shared_cloud, tmp_path, [step(**arguments)])

        assert "step 1 (cost_anomaly): cost_anomaly" in str(caught.value)
        assert says in str(caught.value)
        assert anomalies(shared_cloud) == []

    def test_given_no_service_or_no_mapping_then_the_step_says_what_it_takes(
        self, shared_cloud: LocalCloud, tmp_path: Path
    ) -> None:
        with pytest.raises(ScenarioError, match="service: required"):
            run_steps_unchecked(shared_cloud, tmp_path, [{"cost_anomaly": {"impact": 10}}])
        with pytest.raises(ScenarioError, match=r"cost_anomaly takes a mapping: \{service, "):
            run_steps_unchecked(shared_cloud, tmp_path, [{"cost_anomaly": "Amazon Bedrock"}])
