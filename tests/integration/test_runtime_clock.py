"""Virtual time: Wait states, retries, task timeouts and schedules take no real time."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aiops_local import LocalCloud
from aiops_local.clock import TIMER, VirtualClock, set_current_clock
from aiops_local.virtual_threading import VirtualEvent, VirtualThread

START = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def executions(cloud: LocalCloud, machine: str) -> list[dict]:
    return [
        e
        for e in cloud.timeline.find("execution", state_machine=machine)
        if e.get("status") != "RUNNING"
    ]


def test_a_six_hour_wait_state_is_instant(toy_project: Path) -> None:
    with LocalCloud(toy_project, start=START) as cloud:
        began = time.monotonic()
        cloud.send_event({"source": "toy.flow", "detail-type": "Go", "detail": {}})
        cloud.run_until_quiet()
        real = time.monotonic() - began
        (ended,) = executions(cloud, "toy-dev-flow")
        work = cloud.timeline.find("execution", state="Work")
    assert real < 10
    assert ended["status"] == "SUCCEEDED"
    assert work[0]["t"] == 6 * 3600
    assert ended["t"] == 6 * 3600
    assert cloud.clock.now() == datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def test_retry_intervals_pass_in_virtual_time(toy_project: Path) -> None:
    with LocalCloud(toy_project) as cloud:
        cloud.client("stepfunctions").start_execution(
            stateMachineArn=f"arn:aws:states:us-east-1:{cloud.account}:stateMachine:toy-dev-flow",
            name="failing",
            input=json.dumps({"fail": True}),
        )
        cloud.run_until_quiet()
        attempts = cloud.timeline.find("invoke", function="TaskFunction")
        (ended,) = executions(cloud, "toy-dev-flow")
    # Wait 6h, then the task and its two retries after 1h and 2h (BackoffRate 2).
    assert [a["t"] for a in attempts] == [21600, 25200, 32400]
    assert all(a["status"] == "error" and a["error_type"] == "ToyError" for a in attempts)
    assert ended["status"] == "FAILED" and ended["error"] == "ToyError"


def test_parallel_branches_and_map_iterations_wait_virtually(toy_project: Path) -> None:
    with LocalCloud(toy_project) as cloud:
        cloud.client("stepfunctions").start_execution(
            stateMachineArn=f"arn:aws:states:us-east-1:{cloud.account}:stateMachine:toy-dev-fanout",
            name="fan",
            input=json.dumps({"items": [1, 2, 3]}),
        )
        began = time.monotonic()
        cloud.run_until_quiet()
        (ended,) = executions(cloud, "toy-dev-fanout")
        (info,) = cloud.executions("FanOutStateMachine")
    assert time.monotonic() - began < 10
    assert ended["status"] == "SUCCEEDED"
    # The longer branch (120 s), then the map's iterations (10 s each, concurrently).
    assert ended["t"] == 130
    assert info.output == [1, 2, 3]


def test_a_task_token_waits_for_a_person_not_for_its_timeout(
    toy_project: Path,
) -> None:
    with LocalCloud(toy_project) as cloud:
        machine = f"arn:aws:states:us-east-1:{cloud.account}:stateMachine:toy-dev-token"
        sfn = cloud.client("stepfunctions")
        sfn.start_execution(stateMachineArn=machine, name="waits", input="{}")
        cloud.run_until_quiet()
        # Quiet while the token is out: time did not jump to the 2-hour timeout.
        assert cloud.clock.elapsed().total_seconds() == 0
        assert executions(cloud, "toy-dev-token") == []
        cloud.advance("1h")
        assert executions(cloud, "toy-dev-token") == []
        cloud.advance("90m")
        (ended,) = executions(cloud, "toy-dev-token")
    assert ended["status"] == "FAILED" and ended["error"] == "States.Timeout"
    assert ended["t"] == 7200


def test_a_task_token_answered_resumes_the_execution(toy_project: Path) -> None:
    with LocalCloud(toy_project) as cloud:
        machine = f"arn:aws:states:us-east-1:{cloud.account}:stateMachine:toy-dev-token"
        sfn = cloud.client("stepfunctions")
        sfn.start_execution(stateMachineArn=machine, name="answered", input="{}")
        cloud.run_until_quiet()
        (task,) = [e for e in cloud.timeline.find("invoke", function="TaskFunction")]
        token = cloud.invoker.loaded_module("TaskFunction").STORE["token"]
        cloud.advance("30m")
        sfn.send_task_success(taskToken=token, output=json.dumps({"approved": True}))
        cloud.run_until_quiet()
        (ended,) = executions(cloud, "toy-dev-token")
        (info,) = cloud.executions("TokenStateMachine")
    assert task["status"] == "ok"
    assert ended["status"] == "SUCCEEDED" and ended["t"] == 1800
    assert info.output == {"approved": True}


def test_schedules_fire_as_time_passes_coalesced(toy_project: Path) -> None:
    with LocalCloud(toy_project) as cloud:
        cloud.run_until_quiet()
        assert cloud.timeline.find("invoke", function="TickFunction") == []
        cloud.advance("25m")  # ticks at 10m and 20m: one catch-up firing
        assert len(cloud.timeline.find("invoke", function="TickFunction")) == 1
        cloud.advance("5m")  # the tick at 30m
        ticks = cloud.timeline.find("invoke", function="TickFunction")
    assert [t["t"] for t in ticks] == [1500, 1800]


def test_the_control_plane_reads_virtual_time(toy_project: Path) -> None:
    aiops_clock = pytest.importorskip("aiops.clock")
    with LocalCloud(toy_project, start=START) as cloud:
        assert aiops_clock.now() == START
        cloud.advance("2d")
        assert aiops_clock.now() == datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
    assert abs((aiops_clock.now() - datetime.now(UTC)).total_seconds()) < 5


# ---------------------------------------------------------------------- the clock alone
def test_virtual_sleep_and_event_timeouts_follow_the_clock() -> None:
    clock = VirtualClock(START)
    set_current_clock(clock)
    try:
        event = VirtualEvent()
        results: list[object] = []

        def sleeper() -> None:
            clock.sleep(60, kind=TIMER)
            results.append(("slept", clock.elapsed().total_seconds()))

        def waiter() -> None:
            results.append(("event", event.wait(timeout=3600)))

        threads = [VirtualThread(target=sleeper), VirtualThread(target=waiter)]
        for thread in threads:
            thread.start()
        assert clock.wait_until_idle(lambda: False, real_timeout=5)
        assert clock.runnable() == 0
        assert clock.next_deadline() == START.timestamp() + 60
        clock.advance(60)
        assert clock.wait_until_idle(lambda: False, real_timeout=5)
        assert results == [("slept", 60.0)]
        event.set()
        for thread in threads:
            thread.join()
        assert results[-1] == ("event", True)
        assert clock.live == 0
    finally:
        set_current_clock(None)


def test_a_busy_thread_is_not_quiet() -> None:
    clock = VirtualClock(START)
    set_current_clock(clock)
    release = threading.Event()  # a real one: the clock cannot see this wait
    try:
        thread = VirtualThread(target=release.wait)
        thread.start()
        assert not clock.wait_until_idle(lambda: False, real_timeout=0.2)
        release.set()
        thread.join()
        assert clock.wait_until_idle(lambda: False, real_timeout=5)
    finally:
        set_current_clock(None)


def test_stopping_the_cloud_ends_waiting_executions(toy_project: Path) -> None:
    cloud = LocalCloud(toy_project)
    with cloud:
        machine = f"arn:aws:states:us-east-1:{cloud.account}:stateMachine:toy-dev-token"
        cloud.client("stepfunctions").start_execution(
            stateMachineArn=machine, name="left-waiting", input="{}"
        )
        cloud.run_until_quiet()
        assert cloud.clock.live > 0
    assert cloud.clock.live == 0
    calls_after_stop = len(cloud.timeline)
    time.sleep(0.2)
    assert len(cloud.timeline) == calls_after_stop
