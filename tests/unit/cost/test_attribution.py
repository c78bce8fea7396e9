"""Which models a cost signal belongs to: specific evidence acts, the service alone only tells."""

from __future__ import annotations

from pathlib import Path

import pytest

from aiops.cost.attribution import Scope, alarm_signal, anomaly_signal, attribute
from aiops.events import InvalidEvent, parse_event
from aiops.events.cloudwatch import AlarmStateChange
from aiops.events.cost import AnomalyDetected
from aiops.policy import parse_policy
from tests.support.events import load_event

ROOT = Path(__file__).resolve().parents[3]
POLICY = parse_policy((ROOT / "policies" / "default.yaml").read_text())
HERE = Scope(region="us-east-1", account="123456789012")


def anomaly(**overrides: object) -> AnomalyDetected:
    return parse_event(AnomalyDetected, load_event("cost_anomaly_detected", **overrides))


def cause(service: str, usage_type: str, contribution: float = 100.0, **extra: str) -> dict:
    return {
        "service": service,
        "usageType": usage_type,
        "region": extra.get("region", "us-east-1"),
        "linkedAccount": extra.get("account", "123456789012"),
        "impact": {"contribution": contribution},
    }


def test_given_a_nova_token_anomaly_when_attributed_then_the_model_naming_its_usage_type_gets_it():
    found, why = attribute(anomaly_signal(anomaly()), POLICY, HERE)

    assert why == ""
    assert [(a.model, a.strength) for a in found] == [("support-assistant", "specific")]
    assert "USE1-NovaLite-output-tokens" in found[0].how
    # The model's share is its root causes' contribution, not the anomaly's whole impact.
    assert found[0].impact_usd == 187.3


def test_given_an_anomaly_on_the_endpoint_hosting_usage_then_the_sagemaker_model_gets_it():
    event = anomaly(**{"detail.rootCauses": [cause("Amazon SageMaker", "USE1-Host:ml.m5.xlarge")]})

    found, _ = attribute(anomaly_signal(event), POLICY, HERE)

    assert [(a.model, a.strength, a.impact_usd) for a in found] == [("churn", "specific", 100.0)]


def test_given_an_anomaly_whose_dimension_is_a_model_tag_then_that_model_gets_all_of_it():
    # A monitor on the aiops:model cost-allocation tag names the tag's value as its dimension.
    event = anomaly(**{"detail.dimensionValue": "aiops:model$churn", "detail.rootCauses": []})

    found, _ = attribute(anomaly_signal(event), POLICY, HERE)

    assert [(a.model, a.strength, a.impact_usd) for a in found] == [("churn", "specific", 212.4)]
    assert "aiops:model" in found[0].how


def test_given_only_the_service_matches_then_the_attribution_is_weak():
    event = anomaly(
        **{"detail.rootCauses": [cause("Amazon SageMaker", "USE1-Train:ml.p3.2xlarge")]}
    )

    found, _ = attribute(anomaly_signal(event), POLICY, HERE)

    assert [(a.model, a.strength) for a in found] == [("churn", "service")]
    assert "usage types" in found[0].how


def test_given_root_causes_in_another_region_then_no_model_gets_it_and_the_reason_says_where():
    event = anomaly(
        **{
            "detail.rootCauses": [
                cause("Amazon Bedrock", "EUW1-NovaLite-output-tokens", region="eu-west-1")
            ]
        }
    )

    found, why = attribute(anomaly_signal(event), POLICY, HERE)

    assert found == []
    assert "region eu-west-1, not the control plane's us-east-1" in why


def test_given_a_service_no_model_uses_then_nothing_is_attributed_with_the_root_causes_named():
    event = anomaly(**{"detail.rootCauses": [cause("Amazon Redshift", "USE1-Node:dc2.large")]})

    found, why = attribute(anomaly_signal(event), POLICY, HERE)

    assert found == []
    assert "Amazon Redshift USE1-Node:dc2.large" in why


def test_given_the_token_spend_alarm_then_the_model_whose_budget_names_it_gets_it():
    signal = alarm_signal(parse_event(AlarmStateChange, load_event("cloudwatch_alarm_token_spend")))

    found, _ = attribute(signal, POLICY, HERE)

    assert [(a.model, a.strength) for a in found] == [("support-assistant", "specific")]
    assert signal.key == "alarm:support-assistant-token-spend@2026-11-21T14:05:33.210+0000"


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("detail.impact.totalImpact", float("nan")),
        ("detail.impact.totalImpact", -5),
        ("detail.impact.maxImpact", 1e13),
        ("detail.anomalyId", ""),
        ("detail.rootCauses", [{"impact": {"contribution": float("inf")}}]),
        ("detail.anomalyStartDate", "yesterday"),
    ],
)
def test_given_an_impossible_anomaly_when_parsed_then_it_is_refused_naming_the_field(path, value):
    with pytest.raises(InvalidEvent) as caught:
        anomaly(**{path: value})

    assert path.split(".")[1] in str(caught.value)
