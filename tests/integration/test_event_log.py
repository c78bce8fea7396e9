"""The optional event log (template parameter EventLog): one catch-all rule that sends every event
the control plane consumes to a CloudWatch Logs group, and the offline runtime's Logs target."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from typing import Any

import pytest
from moto.events.models import EventPattern

from aiops_local.cloud import LocalCloud
from aiops_local.patches.events_pattern import flatten
from aiops_local.template import CloudTemplate
from tests.support.events import all_event_files, load_event
from tests.support.template import ROOT, TEMPLATE

ENABLED = {"EventLog": "enabled"}
EVENT_LOG_RESOURCES = {"EventLogGroup", "EventLogWriteAccess", "EventLogRule"}


@cache
def enabled() -> CloudTemplate:
    return CloudTemplate(TEMPLATE, ENABLED)


def _patterns(template: CloudTemplate) -> dict[str, dict[str, Any]]:
    """Every rule's event pattern, resolved: logical id → pattern."""
    patterns = {}
    for rule in template.of_type("AWS::Events::Rule"):
        pattern = template.properties(rule.logical_id).get("EventPattern")
        if pattern:
            patterns[rule.logical_id] = json.loads(pattern) if isinstance(pattern, str) else pattern
    return patterns


def _covers(branch: Any, pattern: Any) -> bool:
    """`branch` matches every event `pattern` matches: it asks for no field the pattern does not,
    and where both list the values a field may take, the branch's include the pattern's."""
    if isinstance(branch, dict):
        return isinstance(pattern, dict) and all(
            key in pattern and _covers(value, pattern[key]) for key, value in branch.items()
        )
    if isinstance(branch, list) and isinstance(pattern, list):
        allowed = {json.dumps(v, sort_keys=True) for v in branch}
        return all(json.dumps(v, sort_keys=True) in allowed for v in pattern)
    return bool(branch == pattern)


def _matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    loaded = EventPattern.load(json.dumps(pattern))
    # The runtime's flattening: EventBridge matches fields inside arrays of objects.
    return bool(loaded._does_event_match(flatten(json.loads(json.dumps(event))), pattern))


def test_the_event_log_is_off_by_default_and_its_resources_come_with_the_parameter() -> None:
    default = CloudTemplate(TEMPLATE)
    assert not EVENT_LOG_RESOURCES & set(default.resources)
    assert set(enabled().resources) >= EVENT_LOG_RESOURCES
    assert default.source["Parameters"]["EventLog"]["Default"] == "disabled"
    output = default.source["Outputs"]["EventLogGroupName"]
    assert output["Condition"] == "EventLogEnabled"


def test_the_event_log_rule_covers_every_rule_of_the_template() -> None:
    patterns = _patterns(enabled())
    catch_all = patterns.pop("EventLogRule")
    branches = catch_all["$or"]
    assert set(catch_all) == {"$or"}
    uncovered = [
        logical_id
        for logical_id, pattern in patterns.items()
        if not any(_covers(branch, pattern) for branch in branches)
    ]
    assert patterns and uncovered == []
    # And no more: each branch is one rule's pattern (the rules it covers besides ask for less).
    assert all(any(_covers(b, p) and _covers(p, b) for p in patterns.values()) for b in branches)


@pytest.mark.parametrize("path", all_event_files(), ids=lambda p: p.stem)
def test_a_sample_event_is_logged_exactly_when_a_trigger_takes_it(path: Any) -> None:
    patterns = _patterns(enabled())
    catch_all = patterns.pop("EventLogRule")
    event = json.loads(path.read_text())
    taken = any(_matches(p, event) for p in patterns.values())
    assert _matches(catch_all, event) == taken


def test_the_log_group_is_retained_encrypted_and_only_eventbridge_may_write_to_it() -> None:
    template = enabled()
    group = template.properties("EventLogGroup")
    assert group["LogGroupName"] == "/aws/events/aiops-dev"
    assert group["RetentionInDays"] == template.parameters["LogRetentionDays"]
    assert group["KmsKeyId"] == template.get_att("DataKey", "Arn")
    policy = json.loads(template.properties("EventLogWriteAccess")["PolicyDocument"])
    (statement,) = policy["Statement"]
    assert statement["Principal"] == {
        "Service": ["events.amazonaws.com", "delivery.logs.amazonaws.com"]
    }
    assert statement["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert statement["Resource"] == template.get_att("EventLogGroup", "Arn")
    (target,) = template.properties("EventLogRule")["Targets"]
    assert target["Arn"].endswith(":log-group:/aws/events/aiops-dev")
    assert "RoleArn" not in target  # EventBridge writes to Logs by the group's resource policy


def test_offline_every_consumed_event_is_logged_as_eventbridge_writes_it() -> None:
    consumed = load_event("s3_object_created_training")
    # 24 days before the cloud's clock: CloudWatch Logs would refuse it by the real clock.
    old = load_event("sagemaker_endpoint_state_change_in_service")
    ignored = load_event(
        "s3_object_created_training",
        id="11111111-2222-4333-8444-555555555555",
        **{"detail.bucket.name": "aiops-dev-artifacts-123456789012-us-east-1"},
    )
    start = datetime(2026, 11, 30, tzinfo=UTC)
    policy = ROOT / "policies" / "default.yaml"
    with LocalCloud(TEMPLATE, policy=policy, parameters=ENABLED, start=start) as cloud:
        for event in (consumed, old, ignored, consumed):
            cloud.send_event(event)
        cloud.advance(0.0)
        logged = cloud.client("logs").filter_log_events(logGroupName="/aws/events/aiops-dev")
        errors = cloud.timeline.find("error")
    records = logged["events"]
    assert errors == []
    # The same delivery twice is logged twice (into its stream); the artifacts write not at all.
    assert [r["logStreamName"] for r in records].count(consumed["id"]) == 2
    assert {r["logStreamName"] for r in records} == {consumed["id"], old["id"]}
    by_stream = {r["logStreamName"]: r for r in records}
    for event in (consumed, old):
        record = by_stream[event["id"]]
        assert json.loads(record["message"]) == event
        moment = datetime.fromisoformat(event["time"].replace("Z", "+00:00"))
        assert record["timestamp"] == int(moment.timestamp() * 1000)
