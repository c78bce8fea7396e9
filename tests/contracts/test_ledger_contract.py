"""The Ledger port (aiops.ledger): MemoryLedger ↔ DynamoLedger."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiops.ledger import LedgerEntry

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


def entry(action: str, minutes: int = 0, model: str = "churn") -> LedgerEntry:
    return LedgerEntry(
        model=model,
        at=NOW + timedelta(minutes=minutes),
        action=action,
        reason=f"because {action}",
        cause={"run_id": f"{model}-w000001"},
    )


def test_a_ledger_entry_with_the_same_seq_is_appended_once(ledger):
    # Given a decision recorded once
    first = ledger.append(entry("run_started"))

    # When a retried step records the same decision again
    again = ledger.append(entry("run_started"))

    # Then it is one entry
    assert (first, again) == (True, False)
    assert ledger.for_model("churn") == [entry("run_started")]


def test_an_entry_reads_back_as_written(ledger):
    written = LedgerEntry(
        model="churn",
        at=datetime(2026, 11, 20, 3, 4, 12, 500_000, tzinfo=UTC),
        action="candidate_registered",
        reason="version 1, auc=0.81 — PendingManualApproval",
        cause={
            "run_id": "churn-w000001",
            "objects": 5,
            "auc": 0.812,
            "champion": None,
            "windows": [1, 2],
            "gate": {"passed": True, "metrics": {"auc": 0.812}},
        },
    )

    ledger.append(written)

    assert ledger.for_model("churn") == [written]


def test_a_models_decisions_read_oldest_first_whatever_the_order_they_were_appended(ledger):
    for minutes, action in [(2, "candidate_registered"), (0, "retrain_requested"), (1, "run")]:
        ledger.append(entry(action, minutes))

    actions = [e.action for e in ledger.for_model("churn")]

    assert actions == ["retrain_requested", "run", "candidate_registered"]


def test_a_limit_keeps_the_newest_decisions_oldest_first(ledger):
    for minutes in range(5):
        ledger.append(entry(f"step-{minutes}", minutes))

    actions = [e.action for e in ledger.for_model("churn", limit=2)]

    assert actions == ["step-3", "step-4"]


def test_another_models_decisions_are_not_read(ledger):
    ledger.append(entry("retrain_requested", model="fraud"))

    assert ledger.for_model("churn") == []
    assert [e.model for e in ledger.for_model("fraud")] == ["fraud"]


def test_the_same_decision_for_two_models_is_two_entries(ledger):
    assert ledger.append(entry("run_started", model="churn")) is True
    assert ledger.append(entry("run_started", model="fraud")) is True
