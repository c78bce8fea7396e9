"""Spend alarms offline: the `token_usage` / `endpoint_invocations` steps write usage metrics into
moto's CloudWatch at virtual times, `spend_alarm` creates a metric alarm on them, and the
`spend_alarms` simulator evaluates every alarm on those metrics as CloudWatch does, so each state
change comes as one `CloudWatch Alarm State Change` event.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from aiops_local import LocalCloud
from aiops_local.scenario import ScenarioError
from aiops_local.simulators.spend_alarms import Usage
from tests.support.runtime import run_steps, run_steps_unchecked, toy_cloud_fixtures

START = datetime(2026, 11, 21, 14, 0, tzinfo=UTC)
MODEL = "amazon.nova-lite-v1:0"
DEPLOYMENT = "arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment/a1b2c3d4e5f6"
ALARM_NAME = "support-assistant-token-spend"


cloud, shared_cloud = toy_cloud_fixtures(START)


def changes(cloud: LocalCloud, name: str = ALARM_NAME) -> list[tuple[float, str, str]]:
    """The alarm's state changes delivered so far: (t since START, previous state, state)."""
    return [
        (
            e["t"],
            e["event"]["detail"]["previousState"]["value"],
            e["event"]["detail"]["state"]["value"],
        )
        for e in cloud.timeline.entries(0)
        if e["kind"] == "event"
        and e.get("detail_type") == "CloudWatch Alarm State Change"
        and e["event"]["detail"]["alarmName"] == name
    ]


def state_change(cloud: LocalCloud, value: str) -> dict[str, Any]:
    return next(
        e["event"]["detail"]["state"]
        for e in cloud.timeline.entries(0)
        if e["kind"] == "event"
        and e.get("detail_type") == "CloudWatch Alarm State Change"
        and e["event"]["detail"]["state"]["value"] == value
    )


def alarm_state(cloud: LocalCloud, name: str = ALARM_NAME) -> str:
    alarms = cloud.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return str(alarms[0]["StateValue"])


def usage(**arguments: Any) -> dict[str, Any]:
    return {"token_usage": {"model_id": MODEL, **arguments}}


def alarm(**arguments: Any) -> dict[str, Any]:
    return {
        "spend_alarm": {
            "name": ALARM_NAME,
            "metric": "InputTokenCount",
            "model_id": MODEL,
            "threshold": 100_000,
            **arguments,
        }
    }


def invocations_alarm(period: str) -> dict[str, Any]:
    """An alarm on churn-prod's invocations: over 1000 in a period."""
    return {
        "spend_alarm": {
            "name": "churn-prod-invocations",
            "metric": "Invocations",
            "endpoint": "churn-prod",
            "threshold": 1000,
            "period": period,
        }
    }


def minutes(
    cloud: LocalCloud, metric: str, dimensions: dict[str, str], namespace: str = "AWS/Bedrock"
) -> list[dict[str, Any]]:
    response = cloud.client("cloudwatch").get_metric_statistics(
        Namespace=namespace,
        MetricName=metric,
        Dimensions=[{"Name": k, "Value": v} for k, v in dimensions.items()],
        StartTime=START - timedelta(hours=1),
        EndTime=START + timedelta(hours=1),
        Period=60,
        Statistics=["Sum", "SampleCount", "Minimum", "Maximum"],
    )
    points = sorted(response["Datapoints"], key=lambda p: p["Timestamp"])
    return [
        {
            "at": p["Timestamp"].astimezone(UTC),  # botocore gives local time
            "sum": p["Sum"],
            "count": p["SampleCount"],
            "low": p["Minimum"],
            "high": p["Maximum"],
        }
        for p in points
    ]


def usage_metrics(cloud: LocalCloud) -> list[dict[str, Any]]:
    cloudwatch = cloud.client("cloudwatch")
    return [
        metric
        for namespace in ("AWS/Bedrock", "AWS/SageMaker")
        for metric in cloudwatch.list_metrics(Namespace=namespace)["Metrics"]
    ]


# ---------------------------------------------------------------------- usage metrics
def test_given_token_usage_then_each_minute_has_its_datapoint_at_its_virtual_time(
    cloud: LocalCloud, tmp_path: Path
) -> None:
    run_steps(
        cloud,
        tmp_path,
        [usage(input_tokens=1003, output_tokens=500, invocations=10, over="5m")],
    )

    at = [START + timedelta(minutes=m) for m in range(5)]
    inputs = minutes(cloud, "InputTokenCount", {"ModelId": MODEL})
    # 1003 tokens over 10 requests: three of 101, seven of 100; two requests a minute.
    assert inputs == [
        {"at": at[0], "sum": 202.0, "count": 2.0, "low": 101.0, "high": 101.0},
        {"at": at[1], "sum": 201.0, "count": 2.0, "low": 100.0, "high": 101.0},
        {"at": at[2], "sum": 200.0, "count": 2.0, "low": 100.0, "high": 100.0},
        {"at": at[3], "sum": 200.0, "count": 2.0, "low": 100.0, "high": 100.0},
        {"at": at[4], "sum": 200.0, "count": 2.0, "low": 100.0, "high": 100.0},
    ]
    assert [p["sum"] for p in minutes(cloud, "OutputTokenCount", {"ModelId": MODEL})] == [100.0] * 5
    assert [p["sum"] for p in minutes(cloud, "Invocations", {"ModelId": MODEL})] == [2.0] * 5
    assert cloud.clock.now() == at[4]  # the last minute was written when it came
    assert sorted(m["MetricName"] for m in usage_metrics(cloud)) == [
        "InputTokenCount",
        "Invocations",
        "OutputTokenCount",
    ]


@pytest.mark.parametrize(
    ("invocations", "tokens", "spread"),
    [(0, 7, 3), (10, 1003, 5), (3, 10, 5), (7, 0, 4), (1, 10**12, 1440), (10**9, 5, 7)],
)
def test_given_totals_then_the_minutes_add_up_to_them_exactly(
    invocations: int, tokens: int, spread: int
) -> None:
    flow = Usage(
        "AWS/Bedrock",
        (("ModelId", MODEL),),
        invocations,
        (("InputTokenCount", tokens),),
        spread,
        None,
    )

    written: dict[str, float] = {}
    for minute in range(spread):
        for datum in flow.datapoints(minute):
            values = datum["StatisticValues"]
            assert values["Minimum"] <= values["Maximum"]
            assert values["SampleCount"] >= 1
            written[datum["MetricName"]] = written.get(datum["MetricName"], 0) + values["Sum"]

    assert written.get("Invocations", 0) == invocations
    assert written.get("InputTokenCount", 0) == tokens


# ---------------------------------------------------------------------- alarms
def test_given_a_spend_alarm_step_then_the_alarm_exists_and_is_evaluated_at_once(
    cloud: LocalCloud, tmp_path: Path
) -> None:
    run_steps(
        cloud,
        tmp_path,
        [
            alarm(
                description="Input tokens of the support assistant",
                tags={"aiops:model": "support-assistant"},
            )
        ],
    )

    cloudwatch = cloud.client("cloudwatch")
    (created,) = cloudwatch.describe_alarms(AlarmNames=[ALARM_NAME])["MetricAlarms"]
    assert {
        k: created[k]
        for k in (
            "Namespace",
            "MetricName",
            "Dimensions",
            "Statistic",
            "Period",
            "EvaluationPeriods",
            "Threshold",
            "ComparisonOperator",
            "TreatMissingData",
            "AlarmDescription",
        )
    } == {
        "Namespace": "AWS/Bedrock",
        "MetricName": "InputTokenCount",
        "Dimensions": [{"Name": "ModelId", "Value": MODEL}],
        "Statistic": "Sum",
        "Period": 300,
        "EvaluationPeriods": 1,
        "Threshold": 100_000.0,
        "ComparisonOperator": "GreaterThanThreshold",
        "TreatMissingData": "notBreaching",
        "AlarmDescription": "Input tokens of the support assistant",
    }
    assert cloudwatch.list_tags_for_resource(ResourceARN=created["AlarmArn"])["Tags"] == [
        {"Key": "aiops:model", "Value": "support-assistant"}
    ]
    # No usage is no spend (notBreaching): a new alarm goes from INSUFFICIENT_DATA to OK.
    assert changes(cloud) == [(0, "INSUFFICIENT_DATA", "OK")]
    assert alarm_state(cloud) == "OK"


def test_given_usage_above_the_threshold_then_one_alarm_event_and_ok_once_the_window_passes(
    cloud: LocalCloud, tmp_path: Path
) -> None:
    # 50,000 input tokens a minute for 10 minutes against 100,000 per 5 minutes.
    run_steps(cloud, tmp_path, [alarm(), usage(input_tokens=500_000, invocations=100, over="10m")])

    assert changes(cloud) == [
        (0, "INSUFFICIENT_DATA", "OK"),
        (180, "OK", "ALARM"),  # the third minute's datapoint is in: 150,000
        (780, "ALARM", "OK"),  # only minutes 9 and 10 left in the window: 100,000
    ]
    raised = state_change(cloud, "ALARM")
    assert raised["reason"].startswith(
        "Threshold Crossed: 1 out of the last 1 datapoints [150000.0"
    )
    assert "was greater than the threshold (100000.0)" in raised["reason"]
    assert json.loads(raised["reasonData"]) == {
        "version": "1.0",
        "queryDate": "2026-11-21T14:03:00.000+0000",
        "startDate": "2026-11-21T13:58:00.000+0000",
        "period": 300,
        "recentDatapoints": [150000.0],
        "threshold": 100000.0,
        "statistic": "Sum",
    }
    assert alarm_state(cloud) == "OK"
    assert cloud.agenda.pending() == []  # nothing left to evaluate: the window has passed


def test_given_usage_below_the_threshold_then_no_state_change_comes(
    cloud: LocalCloud, tmp_path: Path
) -> None:
    run_steps(cloud, tmp_path, [alarm()])
    created = changes(cloud)

    run_steps(
        cloud,
        tmp_path,
        [usage(input_tokens=90_000, output_tokens=900_000, invocations=30, over="10m")],
    )

    assert changes(cloud) == created == [(0, "INSUFFICIENT_DATA", "OK")]
    assert alarm_state(cloud) == "OK"


def test_given_usage_after_0s_then_the_next_steps_see_the_alarm_while_usage_flows(
    cloud: LocalCloud, tmp_path: Path
) -> None:
    run_steps(
        cloud,
        tmp_path,
        [alarm(), usage(input_tokens=500_000, over="10m", after="0s"), {"advance": "4m"}],
    )
    during = alarm_state(cloud)

    run_steps(cloud, tmp_path, [{"advance": "20m"}])

    assert during == "ALARM"
    assert alarm_state(cloud) == "OK"
    assert [state for _, _, state in changes(cloud)] == ["OK", "ALARM", "OK"]


def test_given_m_out_of_n_on_the_largest_request_then_one_breaching_minute_is_not_enough(
    cloud: LocalCloud, tmp_path: Path
) -> None:
    run_steps(
        cloud,
        tmp_path,
        [
            alarm(
                statistic="Maximum",
                threshold=1000,
                period="1m",
                evaluation_periods=3,
                datapoints_to_alarm=2,
            ),
            # 3,000 tokens a request, one minute: one breaching datapoint of three.
            usage(input_tokens=30_000, invocations=10, over="1m"),
        ],
    )
    once = changes(cloud)

    # Four minutes later (the first minute has left the window), 2,000 tokens a request for two
    # minutes: two of three. (An evaluation that changes nothing does not move time: advance.)
    run_steps(
        cloud,
        tmp_path,
        [{"advance": "4m"}, usage(input_tokens=40_000, invocations=20, over="2m")],
    )

    assert once == [(0, "INSUFFICIENT_DATA", "OK")]
    assert changes(cloud)[1:] == [(360, "OK", "ALARM"), (480, "ALARM", "OK")]
    assert "minimum 2 datapoints for OK -> ALARM" in state_change(cloud, "ALARM")["reason"]


def test_given_missing_data_treated_as_missing_then_the_alarm_ends_insufficient_data(
    cloud: LocalCloud, tmp_path: Path
) -> None:
    run_steps(
        cloud,
        tmp_path,
        [alarm(treat_missing_data="missing"), usage(input_tokens=500_000, over="5m")],
    )

    # 100,000 tokens a minute for 5 minutes: a datapoint at the threshold is not above it.
    assert changes(cloud) == [
        (60, "INSUFFICIENT_DATA", "OK"),
        (120, "OK", "ALARM"),
        (540, "ALARM", "OK"),
        (600, "OK", "INSUFFICIENT_DATA"),  # the window holds no datapoint
    ]
    assert (
        state_change(cloud, "INSUFFICIENT_DATA")["reason"]
        == "Insufficient Data: 1 datapoint was unknown."
    )


def test_given_an_alarm_on_total_tokens_by_metric_math_then_input_and_output_add_up(
    cloud: LocalCloud, tmp_path: Path
) -> None:
    # The shape of events/cloudwatch_alarm_token_spend.json: e1 = m1 + m2.
    def stat(metric: str) -> dict[str, Any]:
        return {
            "Metric": {
                "Namespace": "AWS/Bedrock",
                "MetricName": metric,
                "Dimensions": [{"Name": "ModelId", "Value": DEPLOYMENT}],
            },
            "Period": 300,
            "Stat": "Sum",
        }

    cloud.client("cloudwatch").put_metric_alarm(
        AlarmName=ALARM_NAME,
        Metrics=[
            {"Id": "e1", "Expression": "m1 + m2", "Label": "Total tokens", "ReturnData": True},
            {"Id": "m1", "MetricStat": stat("InputTokenCount"), "ReturnData": False},
            {"Id": "m2", "MetricStat": stat("OutputTokenCount"), "ReturnData": False},
        ],
        EvaluationPeriods=1,
        Threshold=100_000,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching",
    )
    # 12,000 + 12,000 tokens a minute: 120,000 once five minutes are in, 60,000 of each alone.
    run_steps(
        cloud,
        tmp_path,
        [
            {
                "token_usage": {
                    "model_id": DEPLOYMENT,
                    "input_tokens": 60_000,
                    "output_tokens": 60_000,
                    "over": "5m",
                }
            }
        ],
    )

    assert changes(cloud) == [
        (0, "INSUFFICIENT_DATA", "OK"),
        (300, "OK", "ALARM"),
        (360, "ALARM", "OK"),
    ]
    assert "statistic" not in json.loads(state_change(cloud, "ALARM")["reasonData"])


def test_given_endpoint_invocations_then_an_invocations_alarm_on_the_variant_fires(
    cloud: LocalCloud, tmp_path: Path
) -> None:
    run_steps(
        cloud,
        tmp_path,
        [
            invocations_alarm("1m"),
            {"endpoint_invocations": {"endpoint": "churn-prod", "invocations": 3000, "over": "2m"}},
        ],
    )

    variant = {"EndpointName": "churn-prod", "VariantName": "AllTraffic"}
    assert [p["sum"] for p in minutes(cloud, "Invocations", variant, "AWS/SageMaker")] == [
        1500.0,
        1500.0,
    ]
    (created,) = cloud.client("cloudwatch").describe_alarms(AlarmNames=["churn-prod-invocations"])[
        "MetricAlarms"
    ]
    assert (created["Namespace"], created["Dimensions"]) == (
        "AWS/SageMaker",
        [
            {"Name": "EndpointName", "Value": "churn-prod"},
            {"Name": "VariantName", "Value": "AllTraffic"},
        ],
    )
    assert changes(cloud, "churn-prod-invocations") == [
        (0, "INSUFFICIENT_DATA", "OK"),
        (60, "OK", "ALARM"),
        (180, "ALARM", "OK"),
    ]


def test_given_late_datapoints_from_another_writer_then_their_alarm_sees_them_at_once(
    cloud: LocalCloud, tmp_path: Path
) -> None:
    # As the sagemaker_shadow simulator publishes: an hour's datapoint once the hour has passed.
    run_steps(
        cloud,
        tmp_path,
        [
            invocations_alarm("1h"),
            {"advance": "1h"},
        ],
    )
    cloud.client("cloudwatch").put_metric_data(
        Namespace="AWS/SageMaker",
        MetricData=[
            {
                "MetricName": "Invocations",
                "Dimensions": [
                    {"Name": "EndpointName", "Value": "churn-prod"},
                    {"Name": "VariantName", "Value": "AllTraffic"},
                ],
                "Timestamp": START,
                "StatisticValues": {"SampleCount": 5000, "Sum": 5000, "Minimum": 1, "Maximum": 1},
            }
        ],
    )
    cloud.run_until_quiet()

    assert changes(cloud, "churn-prod-invocations") == [
        (0, "INSUFFICIENT_DATA", "OK"),
        (3600, "OK", "ALARM"),
        (3660, "ALARM", "OK"),  # the next minute, the hour it counts in has left the window
    ]


def test_given_alarms_on_other_models_or_metrics_then_usage_leaves_them_as_they_are(
    cloud: LocalCloud, tmp_path: Path
) -> None:
    cloud.client("cloudwatch").put_metric_alarm(
        AlarmName="support-latency",
        Namespace="AWS/Bedrock",
        MetricName="InvocationLatency",
        Dimensions=[{"Name": "ModelId", "Value": MODEL}],
        Statistic="Average",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1.0,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="breaching",
    )
    run_steps(
        cloud,
        tmp_path,
        [
            alarm(name="other-model-tokens", model_id="amazon.titan-text-express-v1"),
            {"alarm": {"name": "churn-prod-5xx", "state": "ALARM"}},
            usage(input_tokens=5_000_000, over="10m"),
        ],
    )

    assert changes(cloud, "other-model-tokens") == [(0, "INSUFFICIENT_DATA", "OK")]
    assert changes(cloud, "support-latency") == []
    assert alarm_state(cloud, "churn-prod-5xx") == "ALARM"
    assert [state for _, _, state in changes(cloud, "churn-prod-5xx")] == ["ALARM"]


def test_given_a_deleted_alarm_then_usage_does_not_evaluate_it(
    cloud: LocalCloud, tmp_path: Path
) -> None:
    run_steps(cloud, tmp_path, [alarm()])
    cloud.client("cloudwatch").delete_alarms(AlarmNames=[ALARM_NAME])

    run_steps(cloud, tmp_path, [usage(input_tokens=5_000_000, over="5m")])

    assert changes(cloud) == [(0, "INSUFFICIENT_DATA", "OK")]


# ---------------------------------------------------------------------- wrong arguments
class TestRefusals:
    """Refused steps leave no metric and no alarm behind (each checks): one cloud serves all."""

    @pytest.mark.parametrize(
        ("step", "says"),
        [
            ({"token_usage": {"input_tokens": 10}}, "model_id: required"),
            (usage(model_id="Nova lite", input_tokens=10), "model_id: must be a Bedrock model id"),
            (usage(input_tokens=-1), "input_tokens: Input should be greater than or equal to 0"),
            (usage(input_tokens=10**13), "input_tokens: Input should be less than or equal to"),
            (usage(input_tokens=1.5), "input_tokens: Input should be a valid integer"),
            (usage(input_tokens=float("nan")), "input_tokens: Input should be a valid integer"),
            (usage(output_tokens=float("inf")), "output_tokens"),
            (usage(invocations=True), "invocations"),
            (usage(invocations=10**10), "invocations: Input should be less than or equal to"),
            (usage(), "no usage: give input_tokens, output_tokens or invocations above 0"),
            (usage(input_tokens=10, over="90s"), "over: must be a whole number of minutes"),
            (usage(input_tokens=10, over="2d"), "over: must be a duration from 1m to 1d"),
            (usage(input_tokens=10, over=float("nan")), "over"),
            (usage(input_tokens=10, after="soon"), "after"),
            (usage(input_tokens=10, colour="red"), "unknown key 'colour'"),
            ({"token_usage": "lots"}, "token_usage takes a mapping: {model_id, "),
        ],
    )
    def test_given_a_wrong_token_usage_then_it_is_refused_naming_the_field(
        self, shared_cloud: LocalCloud, tmp_path: Path, step: dict[str, Any], says: str
    ) -> None:
        with pytest.raises(ScenarioError) as caught:
            run_steps_unchecked(shared_cloud, tmp_path, [step])

        assert str(caught.value).startswith("step 1 (token_usage): token_usage")
        assert says in str(caught.value)
        assert usage_metrics(shared_cloud) == []

    @pytest.mark.parametrize(
        ("arguments", "says"),
        [
            ({"threshold": float("nan")}, "threshold: Input should be a finite number"),
            ({"threshold": float("inf")}, "threshold: Input should be a finite number"),
            ({"threshold": -1}, "threshold: Input should be greater than or equal to 0"),
            ({"threshold": 1e16}, "threshold: Input should be less than or equal to"),
            ({"threshold": "100"}, "threshold"),
            ({"metric": "Tokens"}, "metric: Input should be 'InputTokenCount', 'OutputTokenCount'"),
            ({"period": "90s"}, "period: must be a whole number of minutes"),
            ({"period": "2d"}, "period: must be a duration from 1m to 1d"),
            (
                {"evaluation_periods": 0},
                "evaluation_periods: Input should be greater than or equal to 1",
            ),
            ({"evaluation_periods": 289}, "period x evaluation_periods must be at most 24h"),
            (
                {"period": "1h", "evaluation_periods": 169},
                "period x evaluation_periods must be at most 168h",
            ),
            (
                {"evaluation_periods": 2, "datapoints_to_alarm": 3},
                "datapoints_to_alarm cannot exceed",
            ),
            ({"statistic": "p99"}, "statistic: Input should be 'Sum'"),
            ({"comparison": "Bigger"}, "comparison"),
            ({"treat_missing_data": "zero"}, "treat_missing_data"),
            ({"model_id": None}, "name the metric's owner: model_id (Bedrock) or endpoint"),
            ({"endpoint": "churn-prod"}, "name the metric's owner"),
            ({"model_id": None, "endpoint": "churn-prod"}, "metric: an endpoint has Invocations"),
            (
                {"model_id": None, "endpoint": "churn_prod", "metric": "Invocations"},
                "endpoint: must be 1 to 63",
            ),
            ({"variant": "AllTraffic"}, "variant goes with endpoint"),
            ({"name": ""}, "name: String should have at least 1 character"),
            ({"name": "a\nb"}, "name"),
            ({"tags": ["aiops:model"]}, "tags: Input should be a valid dictionary"),
            ({"colour": "red"}, "unknown key 'colour'"),
        ],
    )
    def test_given_a_wrong_spend_alarm_then_it_is_refused_naming_the_field(
        self, shared_cloud: LocalCloud, tmp_path: Path, arguments: dict[str, Any], says: str
    ) -> None:
        with pytest.raises(ScenarioError) as caught:
            run_steps_unchecked(shared_cloud, tmp_path, [alarm(**arguments)])

        assert str(caught.value).startswith("step 1 (spend_alarm): spend_alarm")
        assert says in str(caught.value)
        assert shared_cloud.client("cloudwatch").describe_alarms()["MetricAlarms"] == []

    @pytest.mark.parametrize(
        ("arguments", "says"),
        [
            ({"endpoint": "churn_prod"}, "endpoint: must be 1 to 63 letters, digits and hyphens"),
            ({"variant": "-blue"}, "variant"),
            ({"invocations": 0}, "invocations: Input should be greater than or equal to 1"),
            ({"invocations": None}, "invocations"),
            ({"colour": "red"}, "unknown key 'colour'"),
        ],
    )
    def test_given_wrong_endpoint_invocations_then_they_are_refused_naming_the_field(
        self, shared_cloud: LocalCloud, tmp_path: Path, arguments: dict[str, Any], says: str
    ) -> None:
        step = {"endpoint_invocations": {"endpoint": "churn-prod", "invocations": 10, **arguments}}

        with pytest.raises(ScenarioError) as caught:
            run_steps_unchecked(shared_cloud, tmp_path, [step])

        assert str(caught.value).startswith("step 1 (endpoint_invocations): endpoint_invocations")
        assert says in str(caught.value)
        assert usage_metrics(shared_cloud) == []
