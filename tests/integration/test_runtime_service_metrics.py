"""The metrics AWS services publish, offline: AWS/Lambda per invocation, AWS/States per execution,
AWS/SQS per queue and minute (without a datapoint per idle minute), and Lambda throttling."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from aiops_local import LocalCloud
from aiops_local.scenario import ScenarioError
from tests.support.runtime import run_steps

START = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:ops-dev-flow"
QUEUE = "aiops-dev-FailDeadLetterQueue"


@pytest.fixture
def cloud(ops_project: Path) -> Any:
    # Nothing here reads what handlers print: a cloud started by a fixture will do.
    with LocalCloud(ops_project, start=START) as running:
        yield running


def statistics(
    cloud: LocalCloud,
    namespace: str,
    metric: str,
    dimension: tuple[str, str],
    period: int = 60,
    hours: float = 2,
) -> list[dict[str, Any]]:
    response = cloud.client("cloudwatch").get_metric_statistics(
        Namespace=namespace,
        MetricName=metric,
        Dimensions=[{"Name": dimension[0], "Value": dimension[1]}],
        StartTime=START - timedelta(hours=1),
        EndTime=START + timedelta(hours=hours),
        Period=period,
        Statistics=["Sum", "SampleCount", "Maximum"],
    )
    return sorted(
        (
            {
                "minute": int((p["Timestamp"].astimezone(UTC) - START).total_seconds() // 60),
                "sum": p["Sum"],
                "count": p["SampleCount"],
                "unit": p["Unit"],
            }
            for p in response["Datapoints"]
        ),
        key=lambda p: p["minute"],
    )


def start_flow(cloud: LocalCloud, name: str, mode: str) -> str:
    response = cloud.client("stepfunctions").start_execution(
        stateMachineArn=MACHINE, name=name, input=json.dumps({"mode": mode})
    )
    return str(response["executionArn"])


# ---------------------------------------------------------------------- AWS/Lambda
def test_given_invocations_then_each_counts_its_invocation_error_and_duration_per_function(
    cloud: LocalCloud,
):
    cloud.advance("5m")
    cloud.send_event({"source": "ops.emf", "detail-type": "Emit", "detail": {}})
    cloud.send_event({"source": "ops.fail", "detail-type": "Fail", "detail": {}})
    cloud.run_until_quiet()

    def lambda_metric(metric: str, function: str) -> list[dict[str, Any]]:
        return statistics(cloud, "AWS/Lambda", metric, ("FunctionName", f"aiops-dev-{function}"))

    assert lambda_metric("Invocations", "EmfFunction") == [
        {"minute": 5, "sum": 1.0, "count": 1.0, "unit": "Count"}
    ]
    assert lambda_metric("Errors", "EmfFunction") == [
        {"minute": 5, "sum": 0.0, "count": 1.0, "unit": "Count"}
    ]
    assert lambda_metric("Errors", "FailFunction") == [
        {"minute": 5, "sum": 1.0, "count": 1.0, "unit": "Count"}
    ]
    durations = lambda_metric("Duration", "FailFunction")
    assert [(d["minute"], d["count"], d["unit"]) for d in durations] == [(5, 1.0, "Milliseconds")]
    assert durations[0]["sum"] >= 0


# ---------------------------------------------------------------------- AWS/States
def test_given_executions_that_end_every_way_then_each_end_is_counted_per_state_machine(
    cloud: LocalCloud,
):
    start_flow(cloud, "ok", "succeed")
    start_flow(cloud, "boom", "fail")
    cloud.run_until_quiet()
    waiting = start_flow(cloud, "stopped", "wait")
    cloud.advance("1m")
    cloud.client("stepfunctions").stop_execution(executionArn=waiting, error="Operator")
    start_flow(cloud, "slow", "wait")  # its 30-minute timeout comes before its 1-hour wait
    cloud.run_until_quiet()

    def ends(metric: str) -> list[tuple[int, float]]:
        points = statistics(cloud, "AWS/States", metric, ("StateMachineArn", MACHINE))
        return [(p["minute"], p["sum"]) for p in points]

    # (The failure's alarm fires at minute 1 and clears at 2: the next runs start at minute 2.)
    assert ends("ExecutionsStarted") == [(0, 2.0), (2, 1.0), (3, 1.0)]
    assert ends("ExecutionsSucceeded") == [(0, 1.0)]
    assert ends("ExecutionsFailed") == [(0, 1.0)]
    assert ends("ExecutionsAborted") == [(3, 1.0)]
    assert ends("ExecutionsTimedOut") == [(33, 1.0)]
    # ExecutionTime in virtual milliseconds: the timed-out run lasted its 30 minutes.
    times = statistics(cloud, "AWS/States", "ExecutionTime", ("StateMachineArn", MACHINE))
    assert times[-1] == {"minute": 33, "sum": 1_800_000.0, "count": 1.0, "unit": "Milliseconds"}


# ---------------------------------------------------------------------- AWS/SQS
def test_given_a_dead_letter_then_the_queue_depth_is_one_each_minute_it_waits(cloud: LocalCloud):
    cloud.advance("2m")
    cloud.send_event({"source": "ops.fail", "detail-type": "Fail", "detail": {}})
    cloud.run_until_quiet()
    cloud.advance("5m")

    depth = statistics(cloud, "AWS/SQS", "ApproximateNumberOfMessagesVisible", ("QueueName", QUEUE))
    sent = statistics(cloud, "AWS/SQS", "NumberOfMessagesSent", ("QueueName", QUEUE))

    # Published from the minute of the first action, for every minute that is over.
    assert [(p["minute"], p["sum"], p["count"]) for p in depth] == [
        (minute, 1.0, 1.0) for minute in range(2, 8)
    ]
    assert [(p["minute"], p["sum"]) for p in sent] == [(2, 1.0)] + [
        (minute, 0.0) for minute in range(3, 8)
    ]


def test_given_a_dead_letter_waiting_for_days_then_nothing_is_done_each_minute_meanwhile(
    cloud: LocalCloud,
):
    cloud.send_event({"source": "ops.fail", "detail-type": "Fail", "detail": {}})
    cloud.run_until_quiet()  # the dead-letter alarm fires a minute later
    assert cloud.clock.elapsed() == timedelta(minutes=1)

    cloud.advance("3d")
    cloud.run_until_quiet()

    # No wake-up per minute: time did not move on its own, nothing waits on the agenda, and the
    # queue's depth is held as changes, not 4,320 datapoints ...
    assert cloud.clock.elapsed() == timedelta(days=3, minutes=1)
    assert cloud.agenda.pending() == []
    key = ("AWS/SQS", "ApproximateNumberOfMessagesVisible", (("QueueName", QUEUE),))
    assert cloud.metrics.influences(key, 0)[1] == [START.timestamp()]
    # ... yet CloudWatch's view has every minute.
    depth = statistics(
        cloud, "AWS/SQS", "ApproximateNumberOfMessagesVisible", ("QueueName", QUEUE), 3600, 80
    )
    assert [p["count"] for p in depth] == [60.0] * 72 + [1.0]


def test_given_the_dead_letter_is_deleted_then_the_depth_is_zero_and_stops_after_six_hours(
    cloud: LocalCloud,
):
    cloud.send_event({"source": "ops.fail", "detail-type": "Fail", "detail": {}})
    cloud.run_until_quiet()
    cloud.advance("2m")
    sqs = cloud.client("sqs")
    url = sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"]
    (message,) = sqs.receive_message(QueueUrl=url)["Messages"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])  # at minute 3
    cloud.advance("8h")

    depth = statistics(
        cloud, "AWS/SQS", "ApproximateNumberOfMessagesVisible", ("QueueName", QUEUE), hours=10
    )

    assert [p["minute"] for p in depth] == list(range(0, 3 + 6 * 60))
    assert {p["minute"]: p["sum"] for p in depth if p["minute"] <= 4} == {
        0: 1.0,
        1: 1.0,
        2: 1.0,
        3: 0.0,
        4: 0.0,
    }


# ---------------------------------------------------------------------- throttling
def test_given_a_throttled_function_then_its_task_sees_too_many_requests_and_retries(
    cloud: LocalCloud, tmp_path: Path
):
    run_steps(
        cloud,
        tmp_path,
        [{"configure": {"lambda_faults": {"throttle": {"function": "WorkFunction", "for": "1m"}}}}],
    )
    start_flow(cloud, "throttled", "call")
    cloud.run_until_quiet()
    cloud.advance("2m")
    start_flow(cloud, "later", "call")
    cloud.run_until_quiet()

    calls = [
        (e["t"], e["status"], e.get("error_type"))
        for e in cloud.timeline.find("invoke", function="WorkFunction")
    ]
    # The Task's Retry (2 s, then 4 s) meets the throttle each time; its Catch ends the run.
    # (Its failure's alarm fires at 60 s and clears at 120 s; two minutes later, no throttle.)
    assert calls == [
        (0.0, "throttled", "TooManyRequestsException"),
        (2.0, "throttled", "TooManyRequestsException"),
        (6.0, "throttled", "TooManyRequestsException"),
        (240.0, "ok", None),
    ]
    statuses = {e.name: e.status for e in cloud.executions("FlowStateMachine")}
    assert statuses == {"throttled": "FAILED", "later": "SUCCEEDED"}
    throttles = statistics(
        cloud, "AWS/Lambda", "Throttles", ("FunctionName", "aiops-dev-WorkFunction")
    )
    assert [(p["minute"], p["sum"]) for p in throttles] == [(0, 3.0)]


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        ({"throttle": {"function": "WorkFunction"}}, r"throttle\[0\]\.for: required"),
        ({"throttle": [{"function": "W", "for": "forever"}]}, r"throttle\[0\]\.for: 'forever'"),
        ({"throttle": {"function": "WorkFunction", "for": "60d"}}, "from 1s to 30d"),
        ({"throttle": {"for": "1m"}}, r"throttle\[0\]\.function: required"),
        ({"slow": {"function": "WorkFunction"}}, "unknown key 'slow'"),
    ],
)
def test_given_a_wrong_throttle_then_it_is_refused_naming_the_field(
    cloud: LocalCloud, tmp_path: Path, settings: dict[str, Any], says: str
):
    with pytest.raises(ScenarioError, match=says):
        run_steps(cloud, tmp_path, [{"configure": {"lambda_faults": settings}}])
