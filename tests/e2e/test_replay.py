"""Policy what-if (`aiops local replay`): recorded events replayed under two policies that differ
in one threshold give exactly the decisions that threshold changes; identical policies give none.

The recording: four training uploads for churn, ten minutes apart, as EventBridge delivered them
(JSON lines). Under policies/default.yaml churn's window closes at 5 objects or when its oldest
object is 6 hours old; the new policy closes it at 4 objects. Everything else is the same.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from aiops_cli.main import main
from aiops_cli.replay_cmd import Report
from aiops_local.recorded import RecordingError, read_recordings
from aiops_local.replay import (
    SKIP_JOB_PROGRESS,
    SKIP_OWN_WRITE,
    Decision,
    compare,
    load_policy,
    plan_replay,
    run_policies,
)
from tests.support.events import load_event
from tests.support.template import ROOT, TEMPLATE

pytestmark = pytest.mark.e2e

DEFAULT = ROOT / "policies" / "default.yaml"
UPLOAD_MINUTES = (0, 10, 20, 30)
# Recorded events whose decision rests on content they do not carry: replayed without it.
CONTENT_LESS = [
    load_event("sagemaker_monitoring_job_completed_with_violations", time="2026-11-20T02:40:00Z"),
    load_event("s3_object_created_labeled", time="2026-11-20T02:45:00Z"),
]


def upload(n: int, minute: int) -> dict[str, Any]:
    return load_event(
        "s3_object_created_training",
        id=f"00000000-0000-4000-8000-{n:012d}",
        time=f"2026-11-20T02:{minute:02d}:00Z",
        **{
            "detail.object.key": f"raw/churn/2026/11/20/part-{n}.csv",
            "detail.object.version-id": f"v{n:031d}",
            "detail.object.etag": f"{n:032x}",
            "detail.object.sequencer": f"{n:018X}",
        },
    )


def write_lines(path: Path, events: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    return path


def churn_window(objects: int, directory: Path) -> Path:
    """policies/default.yaml with churn's window closing at `objects`: the one threshold."""
    text = DEFAULT.read_text()
    old = "window: {objects: 5, bytes: 50MB, max_age: 6h}"
    assert text.count(old) == 1
    path = directory / f"churn_window_{objects}.yaml"
    path.write_text(text.replace(old, f"window: {{objects: {objects}, bytes: 50MB, max_age: 6h}}"))
    return path


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> Report:
    directory = tmp_path_factory.mktemp("replay")
    uploads = [upload(n, m) for n, m in enumerate(UPLOAD_MINUTES, 1)]
    events = write_lines(directory / "uploads.jsonl", [*uploads, *CONTENT_LESS])
    old = load_policy(DEFAULT, "default")
    new = load_policy(churn_window(4, directory), "given")
    plan = plan_replay(read_recordings([events]), TEMPLATE)
    old_run, new_run = run_policies(plan, [old, new], workers=1)
    return Report(plan, old, new, old_run, new_run, model=None)


def replayed_decisions(report: Report) -> list[Decision]:
    return [*report.old_run.decisions, *report.new_run.decisions]


def _pairs(document: dict[str, Any]) -> set[tuple[str, str, str, str]]:
    return {
        (
            d["model"],
            d["time"],
            d["old"]["action"] if d["old"] else "—",
            d["new"]["action"] if d["new"] else "—",
        )
        for d in document["differences"]
    }


def test_given_uploads_under_two_window_sizes_then_exactly_the_changed_decisions_differ(
    replayed: Report,
) -> None:
    document = replayed.document()
    # Old: the window waits for its oldest object to be 6h old (02:00 + 6h), the run's candidate
    # comes 20 minutes later (the pipeline simulator's default) and waits 72h for a person.
    # New: the fourth upload fills the window at 02:30. The uploads before it are added alike.
    assert _pairs(document) == {
        ("churn", "2026-11-20T02:30:00Z", "added", "retrain_requested"),
        ("churn", "2026-11-20T02:30:00Z", "—", "run_started"),
        ("churn", "2026-11-20T02:30:00Z", "—", "pipeline_started"),
        ("churn", "2026-11-20T02:50:00Z", "—", "candidate_registered"),
        ("churn", "2026-11-20T02:50:00Z", "—", "awaiting_approval"),
        ("churn", "2026-11-20T02:50:00Z", "—", "run_succeeded"),
        ("churn", "2026-11-20T02:50:00Z", "—", "approval_requested"),
        ("churn", "2026-11-20T08:00:00Z", "retrain_requested", "—"),
        ("churn", "2026-11-20T08:00:00Z", "run_started", "—"),
        ("churn", "2026-11-20T08:00:00Z", "pipeline_started", "—"),
        ("churn", "2026-11-20T08:20:00Z", "candidate_registered", "—"),
        ("churn", "2026-11-20T08:20:00Z", "awaiting_approval", "—"),
        ("churn", "2026-11-20T08:20:00Z", "run_succeeded", "—"),
        ("churn", "2026-11-20T08:20:00Z", "approval_requested", "—"),
        ("churn", "2026-11-23T02:50:00Z", "—", "approval_timed_out"),
        ("churn", "2026-11-23T08:20:00Z", "approval_timed_out", "—"),
    }
    assert len(document["differences"]) == 16
    first = document["differences"][0]
    assert first["old"]["reason"] == "window not full yet"
    assert first["new"]["reason"] == "window reached 4 objects (limit 4)"
    assert first["old"]["event"] == first["new"]["event"] == "00000000-0000-4000-8000-000000000004"
    by_time = {(d["time"], d["old"] and d["old"]["action"]): d for d in document["differences"]}
    assert by_time[("2026-11-20T08:00:00Z", "retrain_requested")]["old"]["reason"] == (
        "oldest object is 6h old (max age 6h)"
    )


def test_given_the_replay_then_its_json_document_counts_events_and_decisions_and_names_policies(
    replayed: Report,
) -> None:
    document = json.loads(json.dumps(replayed.document()))
    assert document["events"] == {
        "read": 6,
        "replayed": 6,
        "without_content": 2,
        "skipped": {},
        "first": "2026-11-20T02:00:00Z",
        "last": "2026-11-20T02:45:00Z",
    }
    # Each run: the retrain's 8 decisions and the Model Monitor execution's missing report.
    assert document["decisions"] == {"old": 9, "new": 9}
    assert document["policies"]["old"] == {"path": str(DEFAULT), "origin": "default"}
    assert document["policies"]["new"]["origin"] == "given"
    assert document["stage"] == "dev"
    assert document["simulators"] == "defaults"
    assert document["after_last_event"] == "1w"  # support-assistant's labels.max_age (7d)
    assert document["errors"] == {"old": 0, "new": 0}


def test_given_events_whose_content_decides_then_the_replay_lists_them_and_what_that_hides(
    replayed: Report,
) -> None:
    document = replayed.document()
    assert [(e["event"], e["missing"]) for e in document["without_content"]] == [
        (CONTENT_LESS[0]["id"], "its Model Monitor violations report (constraint_violations.json)"),
        (CONTENT_LESS[1]["id"], "the labeled records (JSONL) of the uploaded file"),
    ]
    assert document["without_content"][0]["where"].endswith("uploads.jsonl:5")
    limits = document["limits"]
    assert len(limits) == 2
    assert "a change to drift checks, min_violations or cooldown shows no difference" in limits[0]
    assert "a change to labels.min_records or max_age shows no difference" in limits[1]
    # Both runs decide alike on them (no report, no records), and say so; nothing is made up.
    assert not any(d["without_content"] for d in document["differences"])
    decisions = [d for d in replayed_decisions(replayed) if d.without_content]
    assert {(d.model, d.action) for d in decisions} == {
        ("churn", "drift_report_invalid"),
        ("support-assistant", "ignored"),
    }
    out = io.StringIO()
    replayed.print(out)
    assert "replayed without their content (the comparison cannot show" in out.getvalue()
    assert "— without its Model Monitor violations report" in out.getvalue()


def test_given_the_replay_then_the_text_shows_one_line_per_difference_and_a_summary(
    replayed: Report,
) -> None:
    out = io.StringIO()
    replayed.print(out)
    text = out.getvalue()
    assert (
        "churn  2026-11-20T02:30:00Z  added → retrain_requested  "
        "(window not full yet → window reached 4 objects (limit 4))"
    ) in text
    assert "churn  2026-11-20T08:00:00Z  retrain_requested → —  (oldest object is 6h old" in text
    assert "old: " + str(DEFAULT) + " (the project default" in text
    assert text.rstrip().endswith(
        "ledger decisions: 9 under the old policy, 9 under the new; 16 differ"
    )


def test_given_a_timeline_replayed_under_the_same_policy_twice_then_nothing_differs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "uploads.yaml"
    scenario.write_text(
        "name: uploads\nstart: 2026-11-20T02:00:00Z\n"
        f"policy: {DEFAULT}\n"
        "steps:\n"
        "  - put_object: {bucket: TrainingDataBucket, key: 'raw/churn/a/part-{n}.csv', "
        "size: 1024, count: 5}\n"
        "  - put_object: {bucket: TrainingDataBucket, key: scratch/notes.txt, size: 10}\n"
    )
    assert main(["local", "run", "--json", str(scenario)]) == 0
    timeline = tmp_path / "timeline.jsonl"
    timeline.write_text(capsys.readouterr().out)

    code = main(
        [
            *("local", "replay", "--one-at-a-time", "--json"),
            *("--policy", str(DEFAULT), "--against", str(DEFAULT), str(timeline)),
        ]
    )

    document = json.loads(capsys.readouterr().out)
    assert code == 0
    assert document["differences"] == []
    # The six uploads are the recording's inputs; what the run wrote and its pipeline reported
    # are each run's own to make again.
    assert document["events"]["replayed"] == 6
    skipped = document["events"]["skipped"]
    assert skipped.get(SKIP_OWN_WRITE, 0) >= 1 and skipped.get(SKIP_JOB_PROGRESS) == 1
    assert document["decisions"]["old"] == document["decisions"]["new"] >= 3


def test_given_a_bad_line_when_replaying_then_it_names_file_line_and_reason_and_replays_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text(
        json.dumps(upload(1, 0)) + "\n" + '{"source": "aws.s3", "detail-type": "Object Created"\n'
    )
    code = main(["local", "replay", "--policy", str(DEFAULT), str(events)])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{events}:2: not JSON" in err
    assert "Traceback" not in err


def test_given_an_s3_event_whose_object_is_not_an_object_then_replay_exits_2_naming_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    event = upload(1, 0)
    event["detail"]["object"] = "x"
    events = tmp_path / "events.jsonl"
    events.write_text(json.dumps(event) + "\n")
    code = main(["local", "replay", "--policy", str(DEFAULT), str(events)])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{events}:1: detail.object must be a JSON object" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('{"kind": "x"}', "not an EventBridge event"),
        ("[1, 2]", "a JSON object is expected, not list"),
        ('{"source": "aws.s3", "detail-type": "Object Created", "detail": {}}', "no time"),
        (
            '{"source": "aws.s3", "detail-type": "Object Created", "time": "yesterday"}',
            "time must be an ISO 8601 time",
        ),
        ('{"source": "", "detail-type": "x", "time": "2026-11-20T00:00:00Z"}', "source must be"),
        (
            '{"source": "a", "detail-type": "x", "time": "2026-11-20T00:00:00Z", "detail": []}',
            "detail must be a JSON object",
        ),
        ('{"timestamp": 1, "message": "nope"}', "a log record whose message is not JSON"),
    ],
)
def test_given_a_line_that_is_not_a_recorded_event_then_reading_fails_at_that_line(
    tmp_path: Path, line: str, reason: str
) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps(upload(1, 0)) + "\n\n" + line + "\n")
    with pytest.raises(RecordingError) as error:
        read_recordings([path])
    assert error.value.line == 3
    assert reason in error.value.reason


def test_given_the_three_forms_then_each_gives_its_events_in_time_order(tmp_path: Path) -> None:
    lines = write_lines(tmp_path / "a.jsonl", [upload(2, 10)])
    array = tmp_path / "b.json"
    array.write_text(json.dumps([upload(3, 20), upload(1, 0)], indent=2))
    timeline = write_lines(
        tmp_path / "c.jsonl",
        [
            {"seq": 0, "t": 0, "kind": "event", "text": "schedule", "source": "aws.scheduler"},
            {"seq": 1, "t": 0, "kind": "event", "text": "e", "event": upload(4, 30)},
            {"seq": 2, "t": 0, "kind": "invoke", "text": "NewDataFunction ← rule"},
        ],
    )
    log_record = write_lines(
        tmp_path / "d.jsonl", [{"timestamp": 1, "message": json.dumps(upload(5, 40))}]
    )
    recording = read_recordings([lines, array, timeline, log_record])
    assert [e.id[-1] for e in recording.events] == ["1", "2", "3", "4", "5"]
    assert recording.forms == {"event": 3, "timeline": 1, "log record": 1}
    assert (recording.schedule_ticks, recording.other_entries) == (1, 1)


def _decision(
    action: str, time: str = "t1", event: str | None = None, reason: str = "r"
) -> Decision:
    return Decision("churn", time, action, reason, "ledger", event, order=0)


def test_given_decisions_when_compared_then_equal_ones_cancel_and_the_rest_pair_sensibly() -> None:
    old = [
        _decision("added", event="e4", reason="window not full yet"),
        _decision("approval_requested"),
        _decision("awaiting_approval", reason="auc 0.81"),
        _decision("deployed", time="t2"),
    ]
    new = [
        _decision("retrain_requested", event="e4", reason="window reached 4"),
        _decision("approval_requested"),
        _decision("awaiting_approval", reason="auc 0.83"),
        _decision("pipeline_started", event="e9"),
    ]
    differences = {
        (d.old and d.old.action, d.new and d.new.action, d.reason) for d in compare(old, new)
    }
    assert differences == {
        ("added", "retrain_requested", "window not full yet → window reached 4"),
        ("awaiting_approval", "awaiting_approval", "auc 0.81 → auc 0.83"),
        (None, "pipeline_started", "r"),
        ("deployed", None, "r"),
    }
    assert compare(old, list(reversed(old))) == []


def test_given_a_bad_policy_or_an_unknown_model_then_replay_exits_2_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = write_lines(tmp_path / "events.jsonl", [upload(1, 0)])
    bad = tmp_path / "bad.yaml"
    bad.write_text(DEFAULT.read_text().replace("min_violations: 2", "min_violations: -2"))

    assert main(["local", "replay", "--policy", str(bad), str(events)]) == 2
    assert "min_violations" in capsys.readouterr().err
    assert main(["local", "replay", "--policy", str(DEFAULT), "--model", "x", str(events)]) == 2
    assert "--model x: no such model in either policy" in capsys.readouterr().err
