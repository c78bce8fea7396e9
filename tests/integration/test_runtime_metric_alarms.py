"""How alarm evaluation is scheduled offline: at the first minute the state would change, never a
wake-up per minute, so a metric written on a schedule never keeps the cloud busy, and a state
that builds up over minutes (a sum of per-minute samples) changes when CloudWatch's would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from aiops_local import LocalCloud

START = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


@pytest.fixture
def cloud(ops_project: Path) -> Any:
    with LocalCloud(ops_project, start=START) as running:
        yield running


def orders(cloud: LocalCloud, value: float) -> None:
    cloud.client("cloudwatch").put_metric_data(
        Namespace="Ops/dev",
        MetricData=[
            {
                "MetricName": "Orders",
                "Dimensions": [{"Name": "service", "Value": "ops"}],
                "Value": value,
                "Timestamp": cloud.clock.now(),
            }
        ],
    )


def changes(cloud: LocalCloud, name: str) -> list[tuple[float, str]]:
    return [
        (e["t"], e["event"]["detail"]["state"]["value"])
        for e in cloud.timeline.find("event", detail_type="CloudWatch Alarm State Change")
        if e["event"]["detail"]["alarmName"] == name
    ]


def test_given_a_metric_written_on_a_schedule_that_changes_nothing_then_time_never_moves_for_it(
    cloud: LocalCloud,
):
    for _ in range(12):
        cloud.advance("5m")
        at = cloud.clock.time()
        orders(cloud, 2)  # below the threshold of 10, as a watch's count of nothing would be
        cloud.run_until_quiet()

        assert cloud.clock.time() == at
        assert [p for p in cloud.agenda.pending() if "ops-dev-orders" in p] == []

    assert changes(cloud, "ops-dev-orders") == []


def test_given_per_minute_samples_adding_up_then_the_alarm_fires_the_minute_the_sum_crosses(
    cloud: LocalCloud,
):
    cloud.client("cloudwatch").put_metric_alarm(
        AlarmName="dead-letter-lingers",
        Namespace="AWS/SQS",
        MetricName="ApproximateNumberOfMessagesVisible",
        Dimensions=[{"Name": "QueueName", "Value": "aiops-dev-FailDeadLetterQueue"}],
        Statistic="Sum",
        Period=300,
        EvaluationPeriods=1,
        Threshold=3,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching",
    )
    cloud.send_event({"source": "ops.fail", "detail-type": "Fail", "detail": {}})
    cloud.run_until_quiet()

    # One message held: minutes 0..3 are over at 04:00, their sum 4 > 3. It stays: nothing more
    # to evaluate while the message waits.
    assert changes(cloud, "dead-letter-lingers") == [(0.0, "OK"), (240.0, "ALARM")]
    assert cloud.clock.elapsed() == timedelta(minutes=4)


def test_given_a_state_set_by_hand_on_an_alarm_with_no_data_then_it_keeps_it(
    cloud: LocalCloud,
):
    cloud.set_alarm("ops-dev-orders", "ALARM", "set by the scenario")
    cloud.advance("1h")

    assert changes(cloud, "ops-dev-orders") == [(0.0, "ALARM")]


def test_given_a_state_set_by_hand_against_the_data_then_the_next_evaluation_corrects_it(
    cloud: LocalCloud,
):
    orders(cloud, 20)
    cloud.run_until_quiet()  # ALARM a minute later, OK the minute after
    cloud.set_alarm("ops-dev-orders", "ALARM", "set by hand")
    orders(cloud, 5)
    cloud.run_until_quiet()

    assert changes(cloud, "ops-dev-orders") == [
        (60.0, "ALARM"),
        (120.0, "OK"),
        (120.0, "ALARM"),  # by hand
        (180.0, "OK"),  # 02:02's 5 orders: CloudWatch's next evaluation says OK again
    ]
