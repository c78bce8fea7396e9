"""What a person running `aiops local run` reads: virtual clock times, the control plane's own
writes that no rule matched left out of the story (a user's upload no rule matched kept), and the
runtime's own libraries' log in a file instead of on the terminal."""

from __future__ import annotations

import json
import logging
import textwrap
import threading
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from aiops_cli.main import main
from aiops_local import LocalCloud
from aiops_local.clock import VirtualClock
from aiops_local.logcapture import RuntimeLog
from aiops_local.timeline import Story, Timeline, to_human_line

# A bucket whose `in/` uploads a function answers by writing `out/<name>` to the same bucket (the
# control plane's own write: no rule matches it), and a state machine whose only task is an
# aws-sdk call that fails (moto logs a warning about it from its interpreter).
TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.12
    Timeout: 30
Resources:
  DataBucket:
    Type: AWS::S3::Bucket
    Properties:
      NotificationConfiguration: {EventBridgeConfiguration: {EventBridgeEnabled: true}}
  WriterFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/writer/
      Handler: app.handler
      Environment: {Variables: {BUCKET: !Ref DataBucket}}
      Events:
        Uploaded:
          Type: EventBridgeRule
          Properties:
            Pattern:
              source: [aws.s3]
              detail-type: [Object Created]
              detail: {object: {key: [{prefix: in/}]}}
  ProbeStateMachine:
    Type: AWS::Serverless::StateMachine
    Properties:
      Name: story-probe
      DefinitionUri: statemachines/probe.asl.json
      DefinitionSubstitutions: {Bucket: !Ref DataBucket}
      Events:
        Probe:
          Type: EventBridgeRule
          Properties:
            Pattern: {source: [story.probe]}
"""

WRITER = """
import os
import boto3

def handler(event, context):
    name = event["detail"]["object"]["key"].rsplit("/", 1)[-1]
    boto3.client("s3").put_object(Bucket=os.environ["BUCKET"], Key="out/" + name, Body=b"done")
    return {"ok": True}
"""

PROBE = {
    "StartAt": "ReadMissing",
    "States": {
        "ReadMissing": {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
            "Parameters": {"Bucket": "${Bucket}", "Key": "no/such/key"},
            "End": True,
        }
    },
}

POLICY = """\
models:
  story:
    kind: sagemaker
    pipeline: story-train
    package_group: story
"""

MOTO_WARNING = "No normalised service error name for aws-sdk integration"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    files = {
        "template.yaml": TEMPLATE,
        "functions/writer/app.py": WRITER,
        "statemachines/probe.asl.json": json.dumps(PROBE, indent=1),
        "policies/default.yaml": POLICY,
    }
    for name, text in files.items():
        path = tmp_path / "story" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return tmp_path / "story" / "template.yaml"


def scenario(project: Path, steps: list[dict[str, Any]], start: str) -> Path:
    path = project.parent / "scenario.yaml"
    path.write_text(
        yaml.safe_dump(
            {"name": "story", "template": "template.yaml", "start": start, "steps": steps}
        )
    )
    return path


STEPS: list[dict[str, Any]] = [
    {"put_object": {"bucket": "DataBucket", "key": "in/a.csv", "size": 3}},
    {"put_object": {"bucket": "DataBucket", "key": "elsewhere/b.csv", "size": 3}},
    {"put_object": {"bucket": "DataBucket", "key": "elsewhere/c.csv", "size": 3, "after": "30m"}},
    {"advance": "1h"},
]


def timeline_lines(out: str) -> list[str]:
    """The story's timeline lines (not the step headers, notes or summary)."""
    return [line for line in out.splitlines() if line[:1] in ("2", " ") and "  " in line[:22]]


def test_given_a_scenario_when_run_then_the_story_shows_clock_times_with_the_date_when_it_changes(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = scenario(project, STEPS, "2026-11-20T23:50:00Z")
    code = main(["local", "run", "--runtime-log", str(tmp_path / "rt.log"), str(path)])
    out = capsys.readouterr().out
    assert code == 0
    lines = timeline_lines(out)
    assert lines[0].startswith("2026-11-20 23:50:00  event     aws.s3 · Object Created")
    assert all(line.startswith(" " * 11 + "23:50:00") for line in lines[1:3])
    # The upload scheduled 30 minutes later happens after midnight: the date is shown again,
    # once, then only the time.
    next_day = [i for i, line in enumerate(lines) if line.startswith("2026-11-21 ")]
    assert len(next_day) == 1
    assert lines[next_day[0]].startswith("2026-11-21 00:20:00  event")
    assert all(line.startswith(" " * 11) for line in lines[next_day[0] + 1 :])
    assert not any(line.lstrip().startswith("+") for line in lines)


def test_given_uploads_no_rule_matches_then_the_story_keeps_the_users_and_hides_the_control_planes(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = scenario(project, STEPS, "2026-11-20T02:00:00Z")
    log = str(tmp_path / "rt.log")
    assert main(["local", "run", "--no-api", "--runtime-log", log, str(path)]) == 0
    out = capsys.readouterr().out
    unmatched = [line for line in out.splitlines() if "no rule matched" in line]
    # The scenario's own uploads (also the one scheduled for later) say nothing answered them.
    assert len(unmatched) == 2
    assert "/elsewhere/b.csv" in unmatched[0] and "/elsewhere/c.csv" in unmatched[1]
    # The function's write is not in the story...
    assert "/out/a.csv" not in out
    assert "invoke    WriterFunction ← rule" in out

    # ... but it is in the JSON timeline, as every event is.
    assert main(["local", "run", "--json", "--runtime-log", log, str(path)]) == 0
    events = [
        entry
        for entry in map(json.loads, capsys.readouterr().out.splitlines())
        if entry["kind"] == "event" and entry.get("source") == "aws.s3"
    ]
    by_key = {e["event"]["detail"]["object"]["key"]: e for e in events}
    assert {k: (e["origin"], e["matched"]) for k, e in by_key.items()} == {
        "in/a.csv": ("scenario", 1),
        "out/a.csv": ("control_plane", 0),
        "elsewhere/b.csv": ("scenario", 0),
        "elsewhere/c.csv": ("scenario", 0),
    }
    assert all({"t", "time"} <= set(e) for e in events)


def test_given_an_event_sent_by_hand_that_no_rule_matches_then_send_shows_it(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = tmp_path / "events.json"
    events.write_text(json.dumps({"source": "nobody.listens", "detail-type": "Ping", "detail": {}}))
    argv = ["local", "send", "--template", str(project), "--runtime-log", str(tmp_path / "rt.log")]
    assert main([*argv, str(events)]) == 0
    assert "nobody.listens · Ping — no rule matched" in capsys.readouterr().out


def test_given_work_a_simulator_schedules_when_it_writes_then_it_is_the_control_planes(
    project: Path,
) -> None:
    with LocalCloud(project) as cloud:
        # As a simulated AWS service does when a job it runs for the control plane ends.
        def job_ends() -> None:
            cloud.put_object("DataBucket", "jobs/r.json")

        cloud.agenda.after(60, "job ends", job_ends)
        cloud.run_until_quiet()
        (event,) = cloud.timeline.find("event", source="aws.s3")
    assert (event["origin"], event["matched"]) == ("control_plane", 0)
    assert Story().lines([event]) == []
    assert to_human_line(event).endswith("— no rule matched")


def test_given_a_failing_aws_sdk_task_when_run_then_motos_log_goes_to_the_runtime_log_not_stderr(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    steps = [{"event": {"source": "story.probe", "detail-type": "Go", "detail": {}}}]
    path = scenario(project, steps, "2026-11-20T02:00:00Z")
    log = tmp_path / "logs" / "runtime.log"
    assert main(["local", "run", "--runtime-log", str(log), str(path)]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    # The failure itself is in the story, in one line.
    assert "execution story-probe/" in captured.out and " FAILED: s3.NoSuchKey" in captured.out
    assert MOTO_WARNING in log.read_text()
    assert captured.out.splitlines()[-1].startswith(f"runtime log: {log} (")


def test_given_nothing_logged_then_the_runtime_log_is_not_mentioned(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = scenario(project, STEPS[:1], "2026-11-20T02:00:00Z")
    assert main(["local", "run", "--runtime-log", str(tmp_path / "rt.log"), str(path)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1].startswith("summary: ")
    assert "runtime log" not in out


def test_given_a_runtime_log_then_library_records_warnings_and_dying_threads_go_to_it(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    # A logger with a handler of its own (as Powertools' in the handlers) keeps its records.
    own = logging.getLogger("story.handler")
    own_records: list[logging.LogRecord] = []

    class Kept(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            own_records.append(record)

    handler = Kept()
    own.addHandler(handler)
    path = tmp_path / "runtime.log"
    before = (list(logging.getLogger().handlers), warnings.showwarning, threading.excepthook)
    try:
        with RuntimeLog(path) as log:
            logging.getLogger("moto.stepfunctions.parser").error("computation ended")
            logging.getLogger("botocore.credentials").warning("found credentials")
            with warnings.catch_warnings():
                warnings.simplefilter("always")
                warnings.warn("old API", DeprecationWarning, stacklevel=1)
            thread = threading.Thread(target=lambda: 1 / 0, name="interpreter")
            thread.start()
            thread.join()
            own.warning("the handler's own")
    finally:
        own.removeHandler(handler)
    text = path.read_text()
    assert capfd.readouterr().err == ""
    assert "ERROR moto.stepfunctions.parser" in text and "computation ended" in text
    assert "found credentials" in text and "DeprecationWarning: old API" in text
    assert "thread interpreter died" in text and "ZeroDivisionError" in text
    assert "the handler's own" not in text and len(own_records) == 1
    assert log.records == 4
    assert (
        log.note()
        == f"runtime log: {path} (4 lines: moto, botocore and other libraries' own output)"
    )
    # Closed, it leaves logging as it found it.
    assert (logging.getLogger().handlers, warnings.showwarning, threading.excepthook) == before


def test_given_entries_with_a_state_then_only_execution_states_and_api_calls_are_nested() -> None:
    start = datetime(2026, 11, 20, 23, 59, tzinfo=UTC)
    clock = VirtualClock(start)
    timeline = Timeline(clock)
    timeline.add("execution", "flow/x → Work", status="RUNNING", state="Work")
    timeline.add("api", "s3.PutObject", service="s3", operation="PutObject")
    clock.advance(120)
    timeline.add("notify", 'alerts: ALARM: "x"', topic="alerts", state="ALARM")
    assert Story().lines(timeline.entries()) == [
        "2026-11-20 23:59:00      execution flow/x → Work",
        "           23:59:00      api       s3.PutObject",
        '2026-11-21 00:01:00  notify    alerts: ALARM: "x"',
    ]
    assert Story(show_api=False).lines(timeline.entries())[1].endswith('ALARM: "x"')


def _tick_entries(action: str | None = None, status: str = "ok") -> list[dict[str, Any]]:
    at = {"t": 1200.0, "time": "2026-11-20T02:20:00Z"}
    invoke: dict[str, Any] = {
        **at,
        "kind": "invoke",
        "text": "WindowSweepFunction ← schedule WindowSweepFunctionSweep: ok",
        "function": "WindowSweepFunction",
        "status": status,
        "via": "schedule WindowSweepFunctionSweep",
    }
    if action:
        invoke["action"] = action
    return [
        {
            **at,
            "kind": "event",
            "text": "schedule WindowSweepFunctionSweep (rate(5 minutes))",
            "source": "aws.scheduler",
            "schedule": "WindowSweepFunctionSweep",
        },
        {**at, "kind": "api", "text": "dynamodb Query", "function": "WindowSweepFunction"},
        {**at, "kind": "execution", "text": "other run → Wait", "state": "Wait"},
        invoke,
    ]


def test_given_a_schedule_tick_that_did_nothing_then_the_story_leaves_only_it_out() -> None:
    lines = Story(show_api=True).lines(_tick_entries())

    assert len(lines) == 1 and "other run → Wait" in lines[0]


@pytest.mark.parametrize("action, status", [("runs_started", "ok"), (None, "error")])
def test_given_a_schedule_tick_that_acted_or_failed_then_the_story_shows_it_with_its_calls(
    action: str | None, status: str
) -> None:
    lines = Story(show_api=True).lines(_tick_entries(action, status))

    assert [line.split()[2] if line[0].isdigit() else line.split()[1] for line in lines] == [
        "execution",
        "event",
        "api",
        "invoke",
    ]
