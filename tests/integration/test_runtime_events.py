"""An S3 write as S3's event, a handler's story on the timeline, and dead letters."""

from __future__ import annotations

import io
import json
from pathlib import Path

from aiops_local import LocalCloud
from aiops_local.timeline import KINDS, render


def test_an_object_put_becomes_the_event_s3_sends(toy_project: Path) -> None:
    with LocalCloud(toy_project) as cloud:
        bucket = cloud.bucket("DataBucket")
        first = cloud.put_object("DataBucket", "in/a.csv", body=b"a,b\n1,2\n")
        cloud.put_object("DataBucket", "in/b.csv", size=10)
        cloud.put_object("QuietBucket", "in/c.csv", size=10)  # no EventBridge notifications
        cloud.run_until_quiet()
        events = [e["event"] for e in cloud.timeline.find("event", source="aws.s3")]
    assert len(events) == 2
    event = events[0]
    assert event["source"] == "aws.s3" and event["detail-type"] == "Object Created"
    assert event["account"] == "123456789012" and event["region"] == "us-east-1"
    assert event["resources"] == [f"arn:aws:s3:::{bucket}"]
    assert event["time"].endswith("Z") and "T" in event["time"]
    detail = event["detail"]
    assert detail["version"] == "0"
    assert detail["bucket"] == {"name": bucket}
    assert detail["object"]["key"] == "in/a.csv"
    assert detail["object"]["size"] == 8
    assert detail["object"]["etag"] == first["ETag"].strip('"')
    assert detail["object"]["version-id"] == first["VersionId"]
    assert detail["reason"] == "PutObject"
    assert detail["requester"] == "123456789012"
    assert {"request-id", "source-ip-address"} <= set(detail)
    sequencers = [e["detail"]["object"]["sequencer"] for e in events]
    assert sequencers == sorted(sequencers) and len(set(sequencers)) == 2


def test_a_handlers_story_is_on_the_timeline(toy_project: Path) -> None:
    with LocalCloud(toy_project) as cloud:
        cloud.put_object("DataBucket", "in/a.csv", size=3)
        cloud.run_until_quiet()
        timeline = cloud.timeline
        (invoke,) = timeline.find("invoke", function="HelloFunction")
        apis = timeline.find("api", function="HelloFunction")
        (decision,) = timeline.find("decision")
        (notify,) = timeline.find("notify")
        started = timeline.find("execution", state_machine="toy-dev-flow", status="RUNNING")
        stream = io.StringIO()
        render(timeline.entries(), stream, as_json=True)
    assert invoke["status"] == "ok" and invoke["api_calls"] == 3
    assert [(a["service"], a["operation"]) for a in apis] == [
        ("dynamodb", "PutItem"),
        ("sns", "Publish"),
        ("stepfunctions", "StartExecution"),
    ]
    assert (decision["model"], decision["action"], decision["reason"]) == (
        "toy",
        "noticed",
        "hello in/a.csv",
    )
    assert notify["topic"] == "toy-dev-alerts" and notify["subject"] == "noticed in/a.csv"
    assert notify["message"] == "hey from the layer"  # the layer was on the import path
    assert started
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert {line["kind"] for line in lines} <= set(KINDS)
    assert [line["seq"] for line in lines] == list(range(len(lines)))


def test_a_failing_async_invocation_ends_in_the_dead_letter_queue(
    toy_project: Path,
) -> None:
    with LocalCloud(toy_project) as cloud:
        event_id = cloud.send_event({"source": "toy.fail", "detail-type": "Bad", "detail": {}})
        cloud.run_until_quiet()
        attempts = cloud.timeline.find("invoke", function="FailFunction")
        (dlq,) = cloud.timeline.find("dlq")
        (message,) = cloud.dead_letters("FailDeadLetterQueue")
    # The first attempt and Lambda's two retries, one and two minutes apart.
    assert [a["t"] for a in attempts] == [0, 60, 180]
    assert all(a["error"] == "detail.size must be >= 0" for a in attempts)
    assert dlq["function"] == "FailFunction" and dlq["error"] == "detail.size must be >= 0"
    body = json.loads(message["Body"])
    assert body["id"] == event_id and body["source"] == "toy.fail"
    attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    assert attributes["ErrorMessage"] == "detail.size must be >= 0"
    assert set(attributes) == {"RequestID", "ErrorCode", "ErrorMessage"}
