"""Audit ledger, idempotency claims and the task-token rendezvous on DynamoDB (moto)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from aiops.adapters.idempotency_store import DynamoIdempotencyStore
from aiops.adapters.ledger_store import DynamoLedger
from aiops.adapters.rendezvous_store import DynamoRendezvousStore
from aiops.idempotency import IN_PROGRESS, ActionInProgress, once
from aiops.ledger import LedgerEntry
from aiops.runs.rendezvous import JobOutcome

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


def entry(action: str, minutes: int, model: str = "churn") -> LedgerEntry:
    return LedgerEntry(
        model=model,
        at=NOW + timedelta(minutes=minutes),
        action=action,
        reason=f"because {action}",
        cause={"run_id": "churn-w000001"},
    )


def test_the_ledger_returns_a_models_decisions_oldest_first(tables):
    ledger = DynamoLedger(tables["LedgerTable"])
    for n, action in enumerate(["retrain_requested", "run_started", "candidate_registered"]):
        ledger.append(entry(action, n))
    ledger.append(entry("retrain_requested", 0, model="fraud"))

    actions = [e.action for e in ledger.for_model("churn")]

    assert actions == ["retrain_requested", "run_started", "candidate_registered"]


def test_the_same_decision_recorded_twice_is_one_ledger_entry(tables):
    ledger = DynamoLedger(tables["LedgerTable"])

    assert ledger.append(entry("run_started", 1)) is True
    assert ledger.append(entry("run_started", 1)) is False
    assert len(ledger.for_model("churn")) == 1


def test_a_natural_key_is_acted_on_once_and_again_after_a_failed_action(tables):
    store = DynamoIdempotencyStore(tables["IdempotencyTable"])
    calls: list[str] = []

    def fail() -> None:
        raise RuntimeError("transient")

    with pytest.raises(RuntimeError):
        once(store, "event#1", NOW, timedelta(hours=1), fail)
    ran, _ = once(store, "event#1", NOW, timedelta(hours=1), lambda: calls.append("x"))
    duplicate, _ = once(store, "event#1", NOW, timedelta(hours=1), lambda: calls.append("y"))

    assert ran and not duplicate
    assert calls == ["x"]


def test_a_delivery_that_died_mid_action_is_retried_not_taken_for_a_duplicate(tables):
    # Given a claim taken by a handler that died before confirming or forgetting it
    store = DynamoIdempotencyStore(tables["IdempotencyTable"])
    assert store.claim("event#3", NOW, IN_PROGRESS)
    calls: list[str] = []

    # When the same event is redelivered inside the in-progress window, it must be retried
    with pytest.raises(ActionInProgress):
        once(store, "event#3", NOW + timedelta(minutes=1), timedelta(days=2), lambda: 1)
    # and after it, it acts; later deliveries are duplicates
    late, _ = once(
        store,
        "event#3",
        NOW + IN_PROGRESS + timedelta(seconds=1),
        timedelta(days=2),
        lambda: calls.append("x"),
    )
    again, _ = once(store, "event#3", NOW + timedelta(hours=5), timedelta(days=2), lambda: 1)
    assert (late, again) == (True, False)
    assert calls == ["x"]


def test_an_expired_claim_can_be_claimed_again(tables):
    store = DynamoIdempotencyStore(tables["IdempotencyTable"])
    store.claim("event#2", NOW, timedelta(minutes=5))

    assert store.claim("event#2", NOW + timedelta(minutes=1), timedelta(minutes=5)) is False
    assert store.claim("event#2", NOW + timedelta(minutes=6), timedelta(minutes=5)) is True


def test_the_outcome_arriving_after_the_waiter_resumes_it(tables):
    rendezvous = DynamoRendezvousStore(tables["ControlTable"])
    assert (
        rendezvous.register_waiter("exec-1", "token-1", {"manifest_uri": "s3://m"}, "run-1") is None
    )

    first, resumption = rendezvous.record_outcome("exec-1", JobOutcome(status="Succeeded"))
    duplicate, again = rendezvous.record_outcome("exec-1", JobOutcome(status="Succeeded"))

    assert first and resumption is not None and resumption.task_token == "token-1"
    assert resumption.context == {"manifest_uri": "s3://m"}
    assert (duplicate, again) == (False, None)


def test_the_outcome_arriving_before_the_waiter_is_handed_to_the_waiter(tables):
    rendezvous = DynamoRendezvousStore(tables["ControlTable"])
    first, resumption = rendezvous.record_outcome("exec-2", JobOutcome(status="Failed"))

    parked = rendezvous.register_waiter("exec-2", "token-2", {}, "run-2")

    assert first and resumption is None
    assert parked is not None and parked.outcome.status == "Failed"
    assert parked.task_token == "token-2"


def test_a_run_that_gives_up_waiting_finds_its_job_and_a_later_outcome_resumes_nothing(tables):
    # Given a run parked on its pipeline
    rendezvous = DynamoRendezvousStore(tables["ControlTable"])
    rendezvous.register_waiter("exec-3", "token-3", {"model": "churn"}, "run-3")

    # When the run times out, then the pipeline ends
    abandoned = rendezvous.abandon("run-3", "timed out")
    first, late = rendezvous.record_outcome("exec-3", JobOutcome(status="Succeeded"))

    # Then the run learnt which job to stop, and the outcome comes back as abandoned, tokenless
    assert abandoned is not None and abandoned.key == "exec-3" and abandoned.outcome is None
    assert first and late is not None
    assert late.task_token is None and late.abandoned == "timed out"
    assert late.context == {"model": "churn"}


def test_a_run_giving_up_after_its_job_ended_gets_the_outcome_to_settle(tables):
    # Given a pipeline that ended just as its run timed out (the resume found no task)
    rendezvous = DynamoRendezvousStore(tables["ControlTable"])
    rendezvous.register_waiter("exec-4", "token-4", {}, "run-4")
    rendezvous.record_outcome("exec-4", JobOutcome(status="Succeeded"))

    # When the run gives up
    abandoned = rendezvous.abandon("run-4", "timed out")

    # Then it holds the outcome (its end settles it); a run that parked nothing gets None
    assert abandoned is not None and abandoned.outcome is not None
    assert abandoned.outcome.status == "Succeeded"
    assert rendezvous.abandon("run-never-parked", "timed out") is None


def test_a_late_outcome_whose_settling_failed_is_handed_back_until_settled(tables):
    # Given a run that gave up, and its pipeline's result recorded by an attempt that then failed
    rendezvous = DynamoRendezvousStore(tables["ControlTable"])
    rendezvous.register_waiter("exec-5", "token-5", {"model": "churn"}, "run-5")
    rendezvous.abandon("run-5", "timed out")
    first, late = rendezvous.record_outcome("exec-5", JobOutcome(status="Succeeded"))

    # When the event is delivered again, before and after the outcome was settled
    again_first, again = rendezvous.record_outcome("exec-5", JobOutcome(status="Succeeded"))
    rendezvous.mark_settled("exec-5")
    settled = rendezvous.record_outcome("exec-5", JobOutcome(status="Succeeded"))

    # Then the retry gets the unsettled result to settle; once settled it is a plain duplicate
    assert first and late is not None and late.abandoned == "timed out"
    assert not again_first and again is not None and again.abandoned == "timed out"
    assert settled == (False, None)


def test_a_run_that_failed_before_parking_its_token_still_finds_its_job(tables):
    # Given a run whose pointer to its pipeline was written but whose token never was
    rendezvous = DynamoRendezvousStore(tables["ControlTable"])
    rendezvous.table.client.put_item(
        TableName=rendezvous.table.name,
        Item={"pk": {"S": "RUNWAIT#run-6"}, "sk": {"S": "WAIT"}, "job_key": {"S": "exec-6"}},
    )

    # When the run gives up, then the pipeline ends
    abandoned = rendezvous.abandon("run-6", "failed")
    first, late = rendezvous.record_outcome("exec-6", JobOutcome(status="Succeeded"))

    # Then the run's end can stop the job, and its result is handed back to settle
    assert abandoned is not None and abandoned.key == "exec-6" and abandoned.outcome is None
    assert first and late is not None and late.abandoned == "failed"


def test_a_retried_end_learns_the_result_was_already_settled(tables):
    # Given a late result a run's end settled
    rendezvous = DynamoRendezvousStore(tables["ControlTable"])
    rendezvous.register_waiter("exec-7", "token-7", {}, "run-7")
    rendezvous.record_outcome("exec-7", JobOutcome(status="Succeeded"))
    assert rendezvous.abandon("run-7", "timed out").settled is False
    rendezvous.mark_settled("exec-7")

    # When the end step is retried
    again = rendezvous.abandon("run-7", "timed out")

    # Then it settles nothing twice (no second alert, no second rejection)
    assert again is not None and again.settled is True
