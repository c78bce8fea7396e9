"""Contract suites: every port's behaviour, checked on its in-memory fake (tests/unit/fakes.py)
and on its AWS adapter (moto, tables built from template.yaml), so the two cannot drift apart.

Each port fixture is parametrised `fake` / `moto` and yields an object implementing the port.
Tests that must arrange state the port cannot (an S3 object to read) or observe state it does not
expose (the executions started) use a helper fixture that follows the same parameter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from aiops.adapters.drift_cooldown_store import DynamoDriftCooldowns
from aiops.adapters.idempotency_store import DynamoIdempotencyStore
from aiops.adapters.ledger_store import DynamoLedger
from aiops.adapters.s3 import S3Objects, split_uri
from aiops.adapters.stepfunctions import StepFunctionsRunStarter
from aiops.adapters.window_store import DynamoWindowStore
from aiops.drift.decisions import DriftCooldowns
from aiops.idempotency import IdempotencyStore
from aiops.ledger import Ledger
from aiops.runs.ports import RunStarter
from aiops.runs.requests import RunRequest
from aiops.runs.window import WindowStore
from aiops.storage import ObjectReader
from tests.support.template import ROOT, create_tables
from tests.unit.fakes import (
    MemoryClaims,
    MemoryCooldowns,
    MemoryLedger,
    MemoryReports,
    MemoryWindows,
    RecordingRunStarter,
)

REGION = "us-east-1"
BUCKET = "aiops-dev-artifacts-123456789012-us-east-1"
STATE_MACHINE = "aiops-dev-retrain"
SIDES = ["fake", "moto"]


@pytest.fixture
def moto_tables() -> Iterator[dict[str, str]]:
    """The template's tables in moto: logical id → name."""
    with mock_aws():
        yield create_tables(boto3.client("dynamodb", region_name=REGION))


@pytest.fixture(params=SIDES)
def windows(request: pytest.FixtureRequest) -> Iterator[WindowStore]:
    if request.param == "fake":
        yield MemoryWindows()
        return
    tables = request.getfixturevalue("moto_tables")
    yield DynamoWindowStore(tables["ControlTable"])


@pytest.fixture(params=SIDES)
def ledger(request: pytest.FixtureRequest) -> Iterator[Ledger]:
    if request.param == "fake":
        yield MemoryLedger()
        return
    tables = request.getfixturevalue("moto_tables")
    yield DynamoLedger(tables["LedgerTable"])


@pytest.fixture(params=SIDES)
def claims(request: pytest.FixtureRequest) -> Iterator[IdempotencyStore]:
    if request.param == "fake":
        yield MemoryClaims()
        return
    tables = request.getfixturevalue("moto_tables")
    yield DynamoIdempotencyStore(tables["IdempotencyTable"])


@pytest.fixture(params=SIDES)
def cooldowns(request: pytest.FixtureRequest) -> Iterator[DriftCooldowns]:
    if request.param == "fake":
        yield MemoryCooldowns()
        return
    tables = request.getfixturevalue("moto_tables")
    yield DynamoDriftCooldowns(tables["ControlTable"])


# ------------------------------------------------------------------ S3 reads


@pytest.fixture(params=SIDES)
def reports(request: pytest.FixtureRequest) -> Iterator[ObjectReader]:
    """A reader over one existing bucket, BUCKET (empty at first)."""
    if request.param == "fake":
        yield MemoryReports(buckets={BUCKET})
        return
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET)
        yield S3Objects(s3)


@pytest.fixture
def put_object(reports: ObjectReader) -> Callable[[str, str | bytes], None]:
    """Store an object where `reports` reads it."""

    def put(uri: str, body: str | bytes) -> None:
        if isinstance(reports, MemoryReports):
            reports.put(uri, body)
        else:
            assert isinstance(reports, S3Objects)
            bucket, key = split_uri(uri)
            reports.client.put_object(Bucket=bucket, Key=key, Body=body)

    return put


# ------------------------------------------------------------------ Step Functions


@pytest.fixture(params=SIDES)
def starter(request: pytest.FixtureRequest) -> Iterator[RunStarter]:
    if request.param == "fake":
        yield RecordingRunStarter()
        return
    with mock_aws():
        iam = boto3.client("iam", region_name=REGION)
        role = iam.create_role(RoleName="sfn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        sfn = boto3.client("stepfunctions", region_name=REGION)
        machine = sfn.create_state_machine(
            name=STATE_MACHINE,
            roleArn=role,
            definition=(ROOT / "statemachines" / "retrain.asl.json").read_text(),
        )["stateMachineArn"]
        yield StepFunctionsRunStarter(machine, sfn)


@pytest.fixture
def started_runs(starter: RunStarter) -> Callable[[], list[RunRequest]]:
    """The requests of the executions actually started, oldest first."""

    def started() -> list[RunRequest]:
        if isinstance(starter, RecordingRunStarter):
            return list(starter.started)
        assert isinstance(starter, StepFunctionsRunStarter)
        sfn: Any = starter.client
        executions = sfn.list_executions(stateMachineArn=starter.state_machine_arn)["executions"]
        inputs = [
            sfn.describe_execution(executionArn=e["executionArn"])["input"]
            for e in sorted(executions, key=lambda e: e["startDate"])
        ]
        return [RunRequest.model_validate_json(i) for i in inputs]

    return started
