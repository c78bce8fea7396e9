"""Alarm actions offline: a state change publishes CloudWatch's notification (its real subject and
JSON message) to the SNS topics of the new state's actions, a `notify` entry in the timeline;
composite alarms are created (moto lacks PutCompositeAlarm) and follow their children; the
template's alarms start settled, announcing nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.cloudwatch.responses import CloudWatchResponse

from aiops_local import LocalCloud
from aiops_local.patches import cloudwatch_composite
from aiops_local.patches.base import Patcher, PatchError
from aiops_local.simulators.composite_alarms import RuleError, parse_rule, referenced

START = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
TOPIC = "arn:aws:sns:us-east-1:123456789012:ops-dev-alerts"
QUEUE = "aiops-dev-FailDeadLetterQueue"


@pytest.fixture
def cloud(ops_project: Path) -> Any:
    with LocalCloud(ops_project, start=START) as running:
        yield running


def notifications(cloud: LocalCloud) -> list[tuple[float, str]]:
    return [(e["t"], e["subject"]) for e in cloud.timeline.find("notify")]


def message(cloud: LocalCloud, subject: str) -> dict[str, Any]:
    (entry,) = [e for e in cloud.timeline.find("notify") if e["subject"] == subject]
    body: dict[str, Any] = json.loads(entry["message"])
    return body


def dead_letter(cloud: LocalCloud) -> None:
    cloud.send_event({"source": "ops.fail", "detail-type": "Fail", "detail": {}})
    cloud.run_until_quiet()


def empty_the_queue(cloud: LocalCloud) -> None:
    sqs = cloud.client("sqs")
    url = sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"]
    for message_ in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message_["ReceiptHandle"])
    cloud.run_until_quiet()


def states(cloud: LocalCloud) -> dict[str, str]:
    response = cloud.client("cloudwatch").describe_alarms(
        AlarmTypes=["MetricAlarm", "CompositeAlarm"]
    )
    return {
        a["AlarmName"]: a["StateValue"]
        for a in response["MetricAlarms"] + response["CompositeAlarms"]
    }


# ---------------------------------------------------------------------- a deployed stack
def test_given_the_template_is_provisioned_then_its_alarms_start_settled_and_silent(
    cloud: LocalCloud,
):
    assert states(cloud) == {
        "ops-dev-dead-letter": "OK",
        "ops-dev-flow-failed": "OK",
        "ops-dev-orders": "OK",
        "ops-dev-any": "OK",
    }
    cloud.run_until_quiet()
    assert [e for e in cloud.timeline.entries() if e["kind"] in ("event", "notify")] == []


# ---------------------------------------------------------------------- notifications
def test_given_a_dead_letter_then_its_alarm_notifies_alarm_and_ok_in_cloudwatchs_shape(
    cloud: LocalCloud,
):
    dead_letter(cloud)
    cloud.advance("4m")
    empty_the_queue(cloud)  # at minute 5; the next minute's depth is 0

    assert notifications(cloud) == [
        (60.0, 'ALARM: "ops-dev-dead-letter" in US East (N. Virginia)'),
        (60.0, 'ALARM: "ops-dev-any" in US East (N. Virginia)'),
        (360.0, 'OK: "ops-dev-dead-letter" in US East (N. Virginia)'),
    ]  # the composite has no OK action
    alarm = message(cloud, 'ALARM: "ops-dev-dead-letter" in US East (N. Virginia)')
    reason = alarm.pop("NewStateReason")
    assert reason.startswith("Threshold Crossed: 1 out of the last 1 datapoints [1.0 (20/11/26 ")
    assert "was greater than the threshold (0.0)" in reason
    assert alarm == {
        "AlarmName": "ops-dev-dead-letter",
        "AlarmDescription": "The fail function's dead-letter queue holds an event.",
        "AWSAccountId": "123456789012",
        "AlarmConfigurationUpdatedTimestamp": "2026-11-20T02:00:00.000+0000",
        "NewStateValue": "ALARM",
        "StateChangeTime": "2026-11-20T02:01:00.000+0000",
        "Region": "US East (N. Virginia)",
        "AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:ops-dev-dead-letter",
        "OldStateValue": "OK",
        "OKActions": [TOPIC],
        "AlarmActions": [TOPIC],
        "InsufficientDataActions": [],
        "Trigger": {
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Namespace": "AWS/SQS",
            "StatisticType": "Statistic",
            "Statistic": "MAXIMUM",
            "Unit": None,
            "Dimensions": [{"value": QUEUE, "name": "QueueName"}],
            "Period": 60,
            "EvaluationPeriods": 1,
            "ComparisonOperator": "GreaterThanThreshold",
            "Threshold": 0.0,
            "TreatMissingData": "- TreatMissingData:                    notBreaching",
            "EvaluateLowSampleCountPercentile": "",
        },
    }
    ok = message(cloud, 'OK: "ops-dev-dead-letter" in US East (N. Virginia)')
    assert (ok["OldStateValue"], ok["NewStateValue"]) == ("ALARM", "OK")
    assert ok["StateChangeTime"] == "2026-11-20T02:06:00.000+0000"


def test_given_a_metric_math_alarm_then_its_trigger_lists_the_metrics_and_the_expression(
    cloud: LocalCloud,
):
    cloud.client("stepfunctions").start_execution(
        stateMachineArn="arn:aws:states:us-east-1:123456789012:stateMachine:ops-dev-flow",
        name="boom",
        input=json.dumps({"mode": "fail"}),
    )
    cloud.run_until_quiet()

    trigger = message(cloud, 'ALARM: "ops-dev-flow-failed" in US East (N. Virginia)')["Trigger"]

    assert trigger["Period"] == 60
    assert [(m["Id"], m.get("Expression"), m["ReturnData"]) for m in trigger["Metrics"]] == [
        ("m1", None, False),
        ("m2", None, False),
        ("e1", "m1 + m2", True),
    ]
    assert trigger["Metrics"][0]["MetricStat"]["Metric"]["MetricName"] == "ExecutionsFailed"


def test_given_an_alarm_whose_data_stops_then_insufficient_data_actions_run(cloud: LocalCloud):
    cloud.client("cloudwatch").put_metric_alarm(
        AlarmName="orders-watched",
        Namespace="Ops/dev",
        MetricName="Orders",
        Dimensions=[{"Name": "service", "Value": "ops"}],
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=100,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="missing",
        InsufficientDataActions=[TOPIC],
    )
    cloud.client("cloudwatch").put_metric_data(
        Namespace="Ops/dev",
        MetricData=[
            {
                "MetricName": "Orders",
                "Dimensions": [{"Name": "service", "Value": "ops"}],
                "Value": 5,
                "Timestamp": START,
            }
        ],
    )
    cloud.run_until_quiet()

    assert [(s, e["event"]["detail"]["state"]["value"]) for s, e in _changes(cloud)] == [
        ("orders-watched", "OK"),
        ("orders-watched", "INSUFFICIENT_DATA"),
    ]
    assert notifications(cloud) == [
        (120.0, 'INSUFFICIENT_DATA: "orders-watched" in US East (N. Virginia)')
    ]


def _changes(cloud: LocalCloud) -> list[tuple[str, dict[str, Any]]]:
    return [
        (e["event"]["detail"]["alarmName"], e)
        for e in cloud.timeline.find("event", detail_type="CloudWatch Alarm State Change")
    ]


def test_given_actions_disabled_then_the_change_is_announced_but_nobody_is_notified(
    cloud: LocalCloud,
):
    cloud.client("cloudwatch").disable_alarm_actions(
        AlarmNames=["ops-dev-dead-letter", "ops-dev-any"]
    )

    dead_letter(cloud)

    assert [name for name, _ in _changes(cloud)] == ["ops-dev-dead-letter", "ops-dev-any"]
    assert notifications(cloud) == []


def test_given_an_action_that_is_no_topic_then_it_is_listed_as_not_run_offline(
    cloud: LocalCloud,
):
    function = "arn:aws:lambda:us-east-1:123456789012:function:page-someone"
    cloud.client("cloudwatch").put_composite_alarm(
        AlarmName="page", AlarmRule='ALARM("ops-dev-dead-letter")', AlarmActions=[function, TOPIC]
    )
    cloud.run_until_quiet()

    dead_letter(cloud)

    assert cloud.simulators["cloudwatch_alarms"].skipped_actions == [  # type: ignore[attr-defined]
        ("page", function)
    ]
    assert (60.0, 'ALARM: "page" in US East (N. Virginia)') in notifications(cloud)


def test_given_an_alarm_deleted_and_created_again_then_its_next_alarm_is_announced_again(
    cloud: LocalCloud,
):
    # Given an alarm that went to ALARM and was deleted
    cloudwatch = cloud.client("cloudwatch")
    alarm = {
        "AlarmName": "recreated",
        "Namespace": "Ops",
        "MetricName": "Failures",
        "Statistic": "Sum",
        "Period": 60,
        "EvaluationPeriods": 1,
        "Threshold": 1.0,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "AlarmActions": [TOPIC],
    }
    cloudwatch.put_metric_alarm(**alarm)
    cloudwatch.set_alarm_state(AlarmName="recreated", StateValue="ALARM", StateReason="first")
    cloud.run_until_quiet()
    cloudwatch.delete_alarms(AlarmNames=["recreated"])

    # When it is created again and goes to ALARM
    cloudwatch.put_metric_alarm(**alarm)
    cloudwatch.set_alarm_state(AlarmName="recreated", StateValue="ALARM", StateReason="again")
    cloud.run_until_quiet()

    # Then both changes were announced and notified (the new alarm started INSUFFICIENT_DATA)
    changes = [e["event"]["detail"] for name, e in _changes(cloud) if name == "recreated"]
    assert [(c["previousState"]["value"], c["state"]["reason"]) for c in changes] == [
        ("INSUFFICIENT_DATA", "first"),
        ("INSUFFICIENT_DATA", "again"),
    ]
    subject = 'ALARM: "recreated" in US East (N. Virginia)'
    assert [s for _, s in notifications(cloud)].count(subject) == 2


# ---------------------------------------------------------------------- composite alarms
def test_given_a_composite_alarm_then_it_follows_its_rule_and_names_the_triggering_child(
    cloud: LocalCloud,
):
    dead_letter(cloud)

    composite = message(cloud, 'ALARM: "ops-dev-any" in US East (N. Virginia)')

    assert composite["AlarmRule"] == 'ALARM("ops-dev-dead-letter") OR ALARM(ops-dev-flow-failed)'
    assert composite["NewStateReason"] == (
        "arn:aws:cloudwatch:us-east-1:123456789012:alarm:ops-dev-dead-letter transitioned to "
        "ALARM at Friday 20 November, 2026 02:01:00 UTC"
    )
    assert composite["TriggeringChildren"] == [
        {
            "Arn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:ops-dev-dead-letter",
            "State": {"Value": "ALARM", "Timestamp": "2026-11-20T02:01:00.000+0000"},
        }
    ]
    assert "Trigger" not in composite
    empty_the_queue(cloud)
    cloud.advance("2m")
    assert states(cloud)["ops-dev-any"] == "OK"


@pytest.mark.parametrize(
    ("rule", "children", "expected"),
    [
        ('ALARM("a") AND NOT OK(b)', {"a": "ALARM", "b": "INSUFFICIENT_DATA"}, "ALARM"),
        ('ALARM("a") AND NOT OK(b)', {"a": "ALARM", "b": "OK"}, "OK"),
        ("(ALARM(a) OR ALARM(b)) AND INSUFFICIENT_DATA(c)", {"b": "ALARM", "c": "OK"}, "OK"),
        ("(ALARM(a) OR ALARM(b)) AND INSUFFICIENT_DATA(c)", {"b": "ALARM"}, "ALARM"),
        (
            'ALARM("arn:aws:cloudwatch:us-east-1:123456789012:alarm:a") OR FALSE',
            {"a": "ALARM"},
            "ALARM",
        ),
        ("TRUE", {}, "ALARM"),
    ],
)
def test_given_a_rule_then_the_composite_is_alarm_exactly_while_it_holds(
    cloud: LocalCloud, rule: str, children: dict[str, str], expected: str
):
    cloudwatch = cloud.client("cloudwatch")
    for name in ("a", "b", "c"):
        cloudwatch.put_metric_alarm(
            AlarmName=name,
            Namespace="AWS/EC2",  # not evaluated offline: states are set by hand
            MetricName="CPUUtilization",
            Statistic="Average",
            Period=60,
            EvaluationPeriods=1,
            Threshold=90,
            ComparisonOperator="GreaterThanThreshold",
        )
    cloudwatch.put_composite_alarm(AlarmName="rule", AlarmRule=rule)
    cloud.run_until_quiet()
    for name, state in children.items():
        cloud.set_alarm(name, state)
    cloud.run_until_quiet()

    assert states(cloud)["rule"] == expected


def test_given_a_rule_it_cannot_read_then_the_composite_is_left_as_it_is_and_says_why(
    cloud: LocalCloud,
):
    cloud.client("cloudwatch").put_composite_alarm(
        AlarmName="quorum", AlarmRule='AT_LEAST(2, ALARM, ("a", "b", "c"))'
    )
    cloud.run_until_quiet()

    unreadable = cloud.simulators["composite_alarms"].unreadable  # type: ignore[attr-defined]
    assert unreadable == {"quorum": "unexpected 'AT_LEAST' in the rule"}
    assert [name for name, _ in _changes(cloud)] == []

    # And once deleted, it is no longer listed
    cloud.client("cloudwatch").delete_alarms(AlarmNames=["quorum"])
    assert unreadable == {}


@pytest.mark.parametrize(
    "rule", ["ALARM(a", "ALARM() OR OK(b)", "ALARM(a) OR", "ALARM(a) XOR ALARM(b)", "a"]
)
def test_given_a_malformed_rule_then_it_is_refused(rule: str):
    with pytest.raises(RuleError):
        parse_rule(rule)
    assert referenced(rule) == []


# ---------------------------------------------------------------------- the moto patch
def test_moto_lacks_put_composite_alarm_so_the_patch_adds_it_on_its_own_alarm_store():
    # Once moto has its own handler, Patcher.add refuses: use moto's and drop the patch.
    assert not hasattr(CloudWatchResponse, "put_composite_alarm")
    patcher = Patcher()
    cloudwatch_composite.install(patcher)
    try:
        with pytest.raises(PatchError, match="exists now"):
            cloudwatch_composite.install(Patcher())
        with mock_aws():
            client = boto3.client("cloudwatch", region_name="us-east-1")
            client.put_composite_alarm(
                AlarmName="any",
                AlarmRule='ALARM("x")',
                AlarmDescription="d",
                AlarmActions=[TOPIC],
                ActionsEnabled=False,
            )
            (alarm,) = client.describe_alarms(AlarmTypes=["CompositeAlarm"])["CompositeAlarms"]
            client.set_alarm_state(AlarmName="any", StateValue="ALARM", StateReason="r")
            state = client.describe_alarms(AlarmNames=["any"])["CompositeAlarms"][0]["StateValue"]
    finally:
        patcher.restore()
    assert (alarm["AlarmRule"], alarm["AlarmActions"], alarm["ActionsEnabled"]) == (
        'ALARM("x")',
        [TOPIC],
        False,
    )
    assert state == "ALARM"
    assert not hasattr(CloudWatchResponse, "put_composite_alarm")
