"""`aiops events export`: a deployed stack's event log (moto) → JSON lines → `aiops local replay`.

The stack is a small CloudFormation stack in moto with what the command reads of ours: the
EventLog parameter, the event log group and its output, the policy parameter. The events are
logged as EventBridge logs them (a stream per event, the event as the message, at its time), in
another region and stage than the offline cloud's, so the replay must map them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from aiops_cli.main import main
from tests.support.events import load_event
from tests.support.template import ROOT

REGION = "eu-west-1"
STACK = "aiops-prod"
GROUP = "/aws/events/aiops-prod"
POLICY_PARAMETER = "/aiops/prod/policy"
DEFAULT = ROOT / "policies" / "default.yaml"
# moto's CloudWatch Logs, like AWS, takes log events of the last 14 days (by the real clock).
BASE = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=2)


def stack_template() -> str:
    return json.dumps(
        {
            "Parameters": {
                "Stage": {"Type": "String", "Default": "prod"},
                "EventLog": {"Type": "String", "AllowedValues": ["enabled", "disabled"]},
                "PolicyParameterName": {"Type": "String", "Default": POLICY_PARAMETER},
            },
            "Conditions": {"EventLogEnabled": {"Fn::Equals": [{"Ref": "EventLog"}, "enabled"]}},
            "Resources": {
                "EventLogGroup": {
                    "Type": "AWS::Logs::LogGroup",
                    "Condition": "EventLogEnabled",
                    "Properties": {"LogGroupName": GROUP},
                },
                "PolicyParameter": {
                    "Type": "AWS::SSM::Parameter",
                    "Properties": {
                        "Name": POLICY_PARAMETER,
                        "Type": "String",
                        "Value": DEFAULT.read_text(),
                    },
                },
            },
            "Outputs": {
                "EventLogGroupName": {
                    "Condition": "EventLogEnabled",
                    "Value": {"Ref": "EventLogGroup"},
                }
            },
        }
    )


def upload(n: int, at: datetime) -> dict[str, Any]:
    """A training upload as the prod stack in eu-west-1 receives it."""
    return load_event(
        "s3_object_created_training",
        id=f"00000000-0000-4000-8000-{n:012d}",
        time=at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        region=REGION,
        resources=[f"arn:aws:s3:::aiops-prod-training-123456789012-{REGION}"],
        **{
            "detail.bucket.name": f"aiops-prod-training-123456789012-{REGION}",
            "detail.object.key": f"raw/churn/part-{n}.csv",
            "detail.object.version-id": f"v{n:031d}",
            "detail.object.etag": f"{n:032x}",
        },
    )


UPLOADS = [upload(n, BASE + timedelta(minutes=10 * (n - 1))) for n in (1, 2, 3, 4)]


def log_as_eventbridge(logs: Any, events: list[dict[str, Any]]) -> None:
    for event in events:
        logs.create_log_stream(logGroupName=GROUP, logStreamName=event["id"])
        moment = datetime.fromisoformat(event["time"].replace("Z", "+00:00"))
        logs.put_log_events(
            logGroupName=GROUP,
            logStreamName=event["id"],
            logEvents=[{"timestamp": int(moment.timestamp() * 1000), "message": json.dumps(event)}],
        )


@pytest.fixture
def stack() -> Iterator[Any]:
    """The stack with its event log enabled; yields the Logs client of its region."""
    with mock_aws():
        boto3.client("cloudformation", region_name=REGION).create_stack(
            StackName=STACK,
            TemplateBody=stack_template(),
            Parameters=[{"ParameterKey": "EventLog", "ParameterValue": "enabled"}],
        )
        yield boto3.client("logs", region_name=REGION)


def export(out: Path, *extra: str) -> int:
    return main(
        ["events", "export", "--stack", STACK, "--region", REGION, "--out", str(out), *extra]
    )


def test_given_logged_events_when_exported_then_one_event_per_line_sorted_by_time_with_the_policy(
    stack: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Logged out of order, one of them outside the period asked for.
    too_old = upload(9, BASE - timedelta(days=5))
    log_as_eventbridge(stack, [UPLOADS[2], UPLOADS[0], too_old, UPLOADS[3], UPLOADS[1]])
    out = tmp_path / "events.jsonl"

    code = export(out, "--since", "3d")

    assert code == 0, capsys.readouterr().err
    lines = out.read_text().splitlines()
    assert [json.loads(line) for line in lines] == UPLOADS
    assert (tmp_path / "events.jsonl.policy.yaml").read_text() == DEFAULT.read_text()
    err = capsys.readouterr().err
    assert f"4 events from {GROUP}" in err
    assert f"the stack's policy ({POLICY_PARAMETER})" in err


def test_given_an_until_time_then_later_events_are_left_out(stack: Any, tmp_path: Path) -> None:
    log_as_eventbridge(stack, UPLOADS)
    until = (BASE + timedelta(minutes=15)).strftime("%Y-%m-%dT%H:%M:%SZ")
    out = tmp_path / "events.jsonl"
    assert export(out, "--since", "7d", "--until", until) == 0
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == [
        UPLOADS[0]["id"],
        UPLOADS[1]["id"],
    ]


def test_given_a_stack_with_the_event_log_disabled_then_export_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with mock_aws():
        boto3.client("cloudformation", region_name=REGION).create_stack(
            StackName=STACK,
            TemplateBody=stack_template(),
            Parameters=[{"ParameterKey": "EventLog", "ParameterValue": "disabled"}],
        )
        code = export(tmp_path / "events.jsonl")
    err = capsys.readouterr().err
    assert code == 2
    assert f"stack {STACK} has the event log disabled (EventLog=disabled)" in err
    assert "EventLog=enabled" in err
    assert not (tmp_path / "events.jsonl").exists()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--stack", "nope"], "stack nope does not exist"),
        (["--stack", STACK, "--since", "soon"], "--since: 'soon' is neither a duration"),
        (["--stack", STACK, "--since", "1d", "--until", "2d"], "must be before --until"),
        (["--stack", STACK, "--until", "2026-13-01T00:00:00Z"], "is not a time"),
    ],
)
def test_given_a_bad_command_line_then_export_fails_with_exit_2_naming_it(
    stack: Any, arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["events", "export", "--region", REGION, *arguments])
    assert code == 2
    assert message in capsys.readouterr().err


def test_given_logged_events_when_exported_and_replayed_then_the_new_policy_shows_its_decisions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "events.jsonl"
    with mock_aws():
        boto3.client("cloudformation", region_name=REGION).create_stack(
            StackName=STACK,
            TemplateBody=stack_template(),
            Parameters=[{"ParameterKey": "EventLog", "ParameterValue": "enabled"}],
        )
        log_as_eventbridge(boto3.client("logs", region_name=REGION), UPLOADS)
        assert export(out, "--since", "7d") == 0
    new = tmp_path / "new.yaml"
    old_window = "window: {objects: 5, bytes: 50MB, max_age: 6h}"
    new.write_text(DEFAULT.read_text().replace(old_window, old_window.replace("5", "4", 1)))
    capsys.readouterr()

    code = main(["local", "replay", "--one-at-a-time", "--json", "--policy", str(new), str(out)])

    document = json.loads(capsys.readouterr().out)
    assert code == 1
    # Compared with the stack's policy exported beside the events; replayed as the prod stage
    # of the offline account's region.
    assert document["policies"]["old"] == {
        "path": str(tmp_path / "events.jsonl.policy.yaml"),
        "origin": "recorded",
    }
    assert document["stage"] == "prod"
    assert document["recorded_in"] == {"accounts": ["123456789012"], "regions": [REGION]}
    assert document["events"]["replayed"] == 4
    first = document["differences"][0]
    assert (first["time"], first["old"]["action"], first["new"]["action"]) == (
        UPLOADS[3]["time"],
        "added",
        "retrain_requested",
    )
