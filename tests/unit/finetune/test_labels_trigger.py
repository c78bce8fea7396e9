"""The labeled-data trigger on its ports (fakes held to the adapters' contracts): what is read,
what a labeler hears, and what counts — including the paths the offline cloud cannot reach
cheaply (a file too large to read, a notice that fails)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aiops.events.s3 import S3ObjectCreated
from aiops.finetune.labels import LabelsDependencies, record_labeled_object
from aiops.policy import parse_policy
from tests.unit.fakes import (
    MemoryClaims,
    MemoryLabeledFiles,
    MemoryLedger,
    MemoryPauses,
    MemoryWindows,
    RecordingAlerts,
    RecordingRunStarter,
)

ROOT = Path(__file__).resolve().parents[3]
POLICY = parse_policy(
    (ROOT / "scenarios" / "policies" / "support_assistant_finetune.yaml").read_text()
)
BUCKET = "aiops-dev-labeled-123456789012-us-east-1"
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def records(good: int, bad: int = 0) -> bytes:
    """Conversation records: `good` valid ones, then `bad` whose roles are out of order."""
    lines = []
    for n in range(good + bad):
        roles = ("user", "assistant") if n < good else ("assistant", "user")
        lines.append(
            json.dumps(
                {
                    "schemaVersion": "bedrock-conversation-2024",
                    "messages": [
                        {"role": roles[0], "content": [{"text": f"Where is order A-{n}?"}]},
                        {"role": roles[1], "content": [{"text": "It ships tomorrow."}]},
                    ],
                }
            )
        )
    return "\n".join(lines).encode() + b"\n"


def deps(files: MemoryLabeledFiles, labelers: object | None = None) -> LabelsDependencies:
    return LabelsDependencies(
        files=files,
        windows=MemoryWindows(),
        runs=RecordingRunStarter(),
        labelers=labelers or RecordingAlerts(),  # type: ignore[arg-type]
        claims=MemoryClaims(),
        ledger=MemoryLedger(),
        pauses=MemoryPauses(),
    )


def created(key: str, size: int, version: str = "v1") -> S3ObjectCreated:
    event = json.loads((ROOT / "events" / "s3_object_created_labeled.json").read_text())
    event["detail"]["object"].update({"key": key, "size": size, "version-id": version})
    return S3ObjectCreated.model_validate(event)


def test_a_file_larger_than_the_base_model_takes_is_rejected_unread_and_the_labelers_told():
    files, alerts = MemoryLabeledFiles(), RecordingAlerts()
    the = deps(files, alerts)

    decision = record_labeled_object(
        created("labeled/support/huge.jsonl", 12 * 10**9), POLICY, the, NOW, owner="r1"
    )

    assert decision.action == "rejected" and files.reads == 0
    ((subject, message),) = alerts.sent
    assert subject == "[aiops] support-assistant: huge.jsonl rejected"
    assert "12,000,000,000 bytes" in message and "at most 10,000,000,000" in message
    report = json.loads(files.objects[(BUCKET, decision.report_uri.split(BUCKET + "/")[1])])
    assert [p["kind"] for p in report["file_problems"]] == ["file_too_large"]


def test_a_counted_file_delivered_again_is_not_read_again():
    files = MemoryLabeledFiles()
    body = records(30)
    files.put(BUCKET, "labeled/support/a.jsonl", body, "v1")
    the = deps(files)
    event = created("labeled/support/a.jsonl", len(body))

    first = record_labeled_object(event, POLICY, the, NOW, owner="r1")
    again = record_labeled_object(event, POLICY, the, NOW, owner="r2")

    assert (first.action, first.good) == ("counted", 30)
    assert again.action == "duplicate" and files.reads == 1


class FailingOnce:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.failed = False

    def publish(self, subject: str, message: str) -> None:
        if not self.failed:
            self.failed = True
            raise ConnectionError("SNS unreachable")
        self.sent.append((subject, message))


def test_a_notice_that_fails_counts_nothing_and_the_retry_tells_and_counts_once():
    files, labelers = MemoryLabeledFiles(), FailingOnce()
    body = records(36, bad=4)
    files.put(BUCKET, "labeled/support/b.jsonl", body, "v1")
    the = deps(files, labelers)
    event = created("labeled/support/b.jsonl", len(body))

    with pytest.raises(ConnectionError):
        record_labeled_object(event, POLICY, the, NOW, owner="r1")
    assert the.windows.seen == set()  # type: ignore[attr-defined]

    retried = record_labeled_object(event, POLICY, the, NOW, owner="r2")

    assert (retried.action, retried.good, retried.bad) == ("counted", 36, 4)
    assert len(labelers.sent) == 1
    actions = [e.action for e in the.ledger.entries]  # type: ignore[attr-defined]
    assert actions.count("labels_quarantined") == 1 and actions.count("labels_counted") == 1


def test_a_file_deleted_before_it_was_read_is_ignored_with_the_reason():
    files = MemoryLabeledFiles()
    the = deps(files)

    decision = record_labeled_object(
        created("labeled/support/gone.jsonl", 100, version="v7"), POLICY, the, NOW, owner="r1"
    )

    assert decision.action == "ignored" and "no longer exists" in decision.reason
    assert the.ledger.entries == []  # type: ignore[attr-defined]


def test_given_paused_triggers_when_labels_reach_the_threshold_then_the_fine_tune_is_held():
    from aiops.finetune.labels import sweep_labels
    from aiops.pauses import Pause

    files = MemoryLabeledFiles()
    the = deps(files)
    the.pauses.pause(
        Pause(model="support-assistant", owner="spend alarm s", reason="tokens", since=NOW)
    )
    body = records(1200)
    files.put(BUCKET, "labeled/support/big.jsonl", body, "v1")

    decision = record_labeled_object(
        created("labeled/support/big.jsonl", len(body)), POLICY, the, NOW, owner="r1"
    )
    paused_sweep = sweep_labels(POLICY, the, NOW, owner="sweep")
    the.pauses.lift("support-assistant")
    resumed_sweep = sweep_labels(POLICY, the, NOW, owner="sweep")

    assert (decision.action, decision.good) == ("held", 1200)
    assert "paused by spend alarm s" in decision.reason
    assert paused_sweep.started == []
    assert [d.action for d in resumed_sweep.started] == ["finetune_started"]
    assert len(the.runs.started) == 1  # type: ignore[attr-defined]
