"""The RunStarter port (aiops.retrain): RecordingRunStarter ↔ StepFunctionsRunStarter."""

from __future__ import annotations

from aiops.runs.requests import RunRequest, RunTrigger
from tests.contracts.conftest import STATE_MACHINE


def request(run_id: str = "churn-w000001", reason: str = "window reached 5 objects") -> RunRequest:
    return RunRequest(
        model="churn",
        run_id=run_id,
        trigger=RunTrigger(
            kind="new_data", trigger_id="window:w000001", reason=reason, windows=[1]
        ),
    )


def test_a_started_run_is_one_execution_named_by_its_run_id(starter, started_runs):
    arn = starter.start(request())

    assert arn == (f"arn:aws:states:us-east-1:123456789012:execution:{STATE_MACHINE}:churn-w000001")
    assert started_runs() == [request()]


def test_starting_a_run_twice_starts_one_execution_and_returns_the_same_arn(starter, started_runs):
    first = starter.start(request())

    second = starter.start(request())

    assert second == first
    assert started_runs() == [request()]


def test_a_second_start_with_another_request_of_the_same_run_id_starts_nothing(
    starter, started_runs
):
    first = starter.start(request(reason="window reached 5 objects"))

    second = starter.start(request(reason="oldest object is 6h old"))

    assert second == first
    assert started_runs() == [request(reason="window reached 5 objects")]


def test_different_runs_are_different_executions(starter, started_runs):
    first = starter.start(request("churn-w000001"))
    second = starter.start(request("churn-w000002"))

    assert first != second
    # Started within the same second: their start dates do not order them.
    assert sorted(r.run_id for r in started_runs()) == ["churn-w000001", "churn-w000002"]
