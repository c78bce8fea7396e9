"""The control-plane watch on moto, configured as template.yaml configures it: what it counts, the
EMF it writes for the self-monitoring alarms, and that it reads only what its role allows."""

from __future__ import annotations

import fnmatch
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from aiops import clock
from aiops.adapters.approval_store import DynamoApprovalStore
from aiops.adapters.control_plane_state import DynamoHeldLocks, DynamoOpenApprovals
from aiops.adapters.lock_store import DynamoLockStore
from aiops.approval.model import ApprovalStatus, ApprovalSummary
from aiops.approval.ports import Approval
from aiops.health.watch import HealthDependencies, lock_targets, watch_control_plane
from aiops.observability import MetricName, logger
from aiops.policy import parse_policy
from aiops.runs.requests import RunTrigger
from tests.support.handlers import lambda_context, load_handler
from tests.support.template import ROOT, template

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
POLICY = (ROOT / "policies" / "default.yaml").read_text()


@pytest.fixture
def control_table(tables: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The watch's environment as the template gives it, the policy in SSM, time fixed."""
    boto3.client("ssm", region_name="us-east-1").put_parameter(
        Name="/aiops/dev/policy", Type="String", Value=POLICY
    )
    variables = template()["Resources"]["ControlPlaneWatchFunction"]["Properties"]["Environment"]
    assert set(variables["Variables"]) == {"CONTROL_TABLE"}
    monkeypatch.setenv("CONTROL_TABLE", tables["ControlTable"])
    monkeypatch.setenv("POLICY_PARAMETER", "/aiops/dev/policy")
    clock.set_source(lambda: NOW)
    yield tables["ControlTable"]
    clock.set_source(None)


def a_stale_run_lock(table: str) -> None:
    """A churn run took its 12 h lock 13 h ago and never released it."""
    trigger = RunTrigger(kind="new_data", trigger_id="window:w000003", reason="window 3 full")
    taken = NOW - timedelta(hours=13)
    DynamoLockStore(table).acquire("churn", "churn-w000003", trigger, taken, timedelta(hours=12))


def an_approval(table: str, version: int, created: datetime, wait: timedelta) -> None:
    arn = f"arn:aws:sagemaker:us-east-1:123456789012:model-package/churn/{version}"
    summary = ApprovalSummary(
        model="churn",
        version=version,
        package_arn=arn,
        package_group="churn",
        run_id="r",
        metric="auc",
    )
    approval = Approval(
        model="churn",
        version=version,
        package_arn=arn,
        status=ApprovalStatus.PENDING,
        created_at=created,
        expires_at=created + wait,
        summary=summary,
    )
    DynamoApprovalStore(table).create(approval, task_token="secret-task-token")


def _documents(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


@pytest.fixture
def log_lines(monkeypatch: pytest.MonkeyPatch) -> Any:
    """What the functions' logger writes (its handler's stream was bound at import)."""
    stream = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", stream)
    return lambda: _documents(stream.getvalue())


def test_given_a_stale_lock_and_an_approval_near_its_timeout_when_watched_then_each_is_counted(
    control_table, capfd, log_lines
):
    a_stale_run_lock(control_table)
    an_approval(control_table, 4, NOW - timedelta(hours=62), timedelta(hours=72))  # 10 h left
    an_approval(control_table, 5, NOW - timedelta(hours=1), timedelta(hours=72))  # 71 h left
    handler = load_handler("control_plane_watch").handler

    report = handler({}, lambda_context("control-plane-watch", 1, memory_mb=512, remaining_ms=1))

    (stale,) = report["locks_past_lease"]
    assert (stale["kind"], stale["model"], stale["holder"]) == ("run", "churn", "churn-w000003")
    assert (stale["past_lease_s"], stale["held_for_s"]) == (3600, 13 * 3600)
    assert report["pending_approvals"] == 2
    assert [(a["model"], a["version"]) for a in report["approvals_near_timeout"]] == [("churn", 4)]
    documents = _documents(capfd.readouterr().out)
    (emf,) = [d for d in documents if "_aws" in d]
    (directive,) = emf["_aws"]["CloudWatchMetrics"]
    # Exactly the dimensions the template's alarms name: Powertools' service and nothing else.
    assert directive["Dimensions"] == [["service"]]
    assert {
        name: emf[name]
        for name in (
            MetricName.LOCKS_PAST_LEASE,
            MetricName.PENDING_APPROVALS,
            MetricName.APPROVALS_NEAR_TIMEOUT,
        )
    } in (
        {"LocksPastLease": 1.0, "PendingApprovals": 2.0, "ApprovalsNearTimeout": 1.0},
        {"LocksPastLease": [1.0], "PendingApprovals": [2.0], "ApprovalsNearTimeout": [1.0]},
    )
    logged_lines = log_lines()
    (logged,) = [d for d in logged_lines if d.get("message") == "lock held past its lease"]
    assert (logged["model"], logged["holder"], logged["past_lease_s"]) == (
        "churn",
        "churn-w000003",
        3600,
    )
    near = [d["version"] for d in logged_lines if d.get("message") == "approval near its timeout"]
    assert near == [4]


def test_given_a_healthy_control_plane_when_watched_then_zeros_are_written(control_table, capfd):
    handler = load_handler("control_plane_watch").handler

    handler({}, lambda_context("control-plane-watch", 1, memory_mb=512, remaining_ms=1))

    (emf,) = [d for d in _documents(capfd.readouterr().out) if "_aws" in d]
    assert [emf[m] for m in ("LocksPastLease", "PendingApprovals", "ApprovalsNearTimeout")] in (
        [0.0, 0.0, 0.0],
        [[0.0], [0.0], [0.0]],
    )


def _read_grant() -> dict[str, Any]:
    """The watch's own DynamoDB statement in the template."""
    policies = template()["Resources"]["ControlPlaneWatchFunction"]["Properties"]["Policies"]
    (statement,) = [
        s
        for p in policies
        if isinstance(p, dict) and "Statement" in p
        for s in p["Statement"]
        if any(a.startswith("dynamodb:") for a in s["Action"])
    ]
    return statement


def test_the_watch_reads_only_the_items_and_attributes_its_role_allows(control_table):
    # Given the state it reads, and a client that records every DynamoDB request
    a_stale_run_lock(control_table)
    an_approval(control_table, 4, NOW - timedelta(hours=62), timedelta(hours=72))
    client = boto3.client("dynamodb", region_name="us-east-1")
    requests: list[tuple[str, dict[str, Any]]] = []
    client.meta.events.register(
        "provide-client-params.dynamodb.*",
        lambda params, model, **_: requests.append((model.name, json.loads(json.dumps(params)))),
    )
    deps = HealthDependencies(
        locks=DynamoHeldLocks(control_table, client),
        approvals=DynamoOpenApprovals(control_table, client),
    )

    # When it watches
    watch_control_plane(parse_policy(POLICY), deps, NOW)

    # Then every request is an action, key and attribute the template's statement allows
    grant = _read_grant()
    condition = grant["Condition"]
    leading = condition["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
    allowed = set(condition["ForAllValues:StringEquals"]["dynamodb:Attributes"])
    assert condition["StringEqualsIfExists"]["dynamodb:Select"] == "SPECIFIC_ATTRIBUTES"
    assert {f"dynamodb:{op}" for op, _ in requests} <= set(grant["Action"])
    for _, params in requests:
        reads = params.get("RequestItems", {}).get(control_table, params)
        names = reads["ExpressionAttributeNames"]
        projected = {
            names.get(p.strip(), p.strip()) for p in reads["ProjectionExpression"].split(",")
        }
        assert projected <= allowed and "task_token" not in projected
        assert params.get("Select", "SPECIFIC_ATTRIBUTES") == "SPECIFIC_ATTRIBUTES"
        keys = [k["pk"]["S"] for k in reads.get("Keys", [])]
        keys += [
            v["S"] for n, v in reads.get("ExpressionAttributeValues", {}).items() if n == ":pk"
        ]
        assert keys and all(any(fnmatch.fnmatchcase(k, p) for p in leading) for k in keys)


class _ThrottledOnce:
    """DynamoDB answering the first BatchGetItem with every key unprocessed, as it does when
    throttled; the calls after reach the table."""

    def __init__(self, client: Any) -> None:
        self._client, self.calls = client, 0

    def batch_get_item(self, **params: Any) -> dict[str, Any]:
        self.calls += 1
        if self.calls == 1:
            return {"Responses": {}, "UnprocessedKeys": params["RequestItems"]}
        return dict(self._client.batch_get_item(**params))


def test_given_a_throttled_read_when_locks_are_read_then_it_backs_off_and_reads_them_all(
    control_table,
):
    # Given a stale lock, and DynamoDB throttling the watch's first read
    a_stale_run_lock(control_table)
    throttled = _ThrottledOnce(boto3.client("dynamodb", region_name="us-east-1"))
    pauses: list[float] = []
    locks = DynamoHeldLocks(control_table, throttled, sleep=pauses.append)
    targets = [t for t in lock_targets(parse_policy(POLICY)) if t.model == "churn"]

    # When the locks are read
    held = locks.held(targets)

    # Then the unprocessed keys were asked again after a pause, and the lock is found
    assert throttled.calls == 2
    assert len(pauses) == 1 and 0 <= pauses[0] <= 0.1
    assert [lock.holder for lock in held] == ["churn-w000003"]


def test_given_unreadable_items_when_watched_then_they_fail_closed_and_the_rest_is_counted(
    control_table,
):
    # Given churn's lock with an unreadable expiry, a pending approval of churn missing its
    # creation time, and a readable approval of churn waiting normally
    table = boto3.resource("dynamodb", region_name="us-east-1").Table(control_table)
    table.put_item(
        Item={"pk": "MODEL#churn", "sk": "LOCK", "owner": "churn-w000009", "expires_at": "soon"}
    )
    table.put_item(
        Item={
            "pk": "APPROVAL#churn",
            "sk": "V#0000000007",
            "model": "churn",
            "version": 7,
            "status": ApprovalStatus.PENDING.value,
            "expires_at": (NOW + timedelta(hours=70)).isoformat(),
        }
    )
    an_approval(control_table, 8, NOW - timedelta(hours=1), timedelta(hours=72))

    # When the control plane is watched
    report = watch_control_plane(
        parse_policy(POLICY),
        HealthDependencies(DynamoHeldLocks(control_table), DynamoOpenApprovals(control_table)),
        NOW,
    )

    # Then the unreadable lock counts as past its lease, and the other approval is still seen
    assert [lock.holder for lock in report.locks_past_lease] == ["churn-w000009"]
    assert report.pending_approvals == 1
