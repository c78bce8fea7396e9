"""Each decision the control plane records is counted once (`Decisions` {model, action}) — in a
function; the CLI's stack records its decisions without writing EMF to the user's terminal."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3

from aiops.adapters.stack import Stack
from aiops.ledger import LedgerAction, record
from aiops.observability import MetricName
from aiops.settings import Settings

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _decisions(out: str) -> list[dict[str, Any]]:
    documents = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return [d for d in documents if MetricName.DECISIONS.value in d]


def _settings(tables: dict[str, str]) -> Settings:
    return Settings(policy_parameter="/aiops/dev/policy", ledger_table=tables["LedgerTable"])


def test_given_a_function_when_it_records_a_decision_then_it_is_counted_once(tables, capfd):
    ledger = Stack(_settings(tables)).ledger

    record(ledger, "churn", NOW, LedgerAction.GATE_REJECTED, "auc 0.69 < floor 0.70", {"v": 4})
    # A retried step records the same decision again: the ledger keeps one, and one is counted.
    record(ledger, "churn", NOW, LedgerAction.GATE_REJECTED, "auc 0.69 < floor 0.70", {"v": 4})
    record(ledger, "churn", NOW, LedgerAction.DEPLOYED, "churn v3 serves churn-prod", {"v": 3})

    counted = [(d["model"], d["action"]) for d in _decisions(capfd.readouterr().out)]
    assert counted == [("churn", "gate_rejected"), ("churn", "deployed")]
    assert len(ledger.for_model("churn")) == 2


def test_given_the_cli_when_it_records_a_decision_then_no_metric_is_printed(tables, capfd):
    client = boto3.client("dynamodb", region_name="us-east-1")
    ledger = Stack(_settings(tables), clients=lambda service: client).ledger

    record(ledger, "churn", NOW, LedgerAction.TRIGGERS_RESUMED, "aiops resume churn", {})

    assert _decisions(capfd.readouterr().out) == []
    assert [e.action for e in ledger.for_model("churn")] == [LedgerAction.TRIGGERS_RESUMED]
