"""The drift check handler on moto: a champion in the model registry, its training data by object
version through its pipeline execution's DataManifest, captured requests, the report in S3 and the
`Drift Check Completed` event on the default bus (delivered to an SQS queue by the template's rule).
Then the drift handler on that event, and on forged ones: only the check's own report retrains.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from aiops import clock
from aiops.adapters.window_store import DynamoWindowStore
from aiops.drift.stats import Baseline
from aiops.drift.violations import parse_violations
from aiops.events import parse_event
from aiops.events.control_plane import DriftCheckCompleted
from aiops.policy import parse_policy
from aiops.runs.manifest import DataManifest
from aiops.runs.window import ObjectRef, WindowLimits
from aiops_local.datasets import generate, to_capture, to_csv
from tests.support.events import load_event
from tests.support.handlers import lambda_context, load_handler
from tests.support.template import ROOT, resources

ACCOUNT = "123456789012"
REGION = "us-east-1"
# policies/default.yaml's churn monitor: capture in the artifacts bucket, 1h, 500 rows.
ARTIFACTS = f"aiops-dev-artifacts-{ACCOUNT}-{REGION}"
TRAINING = f"aiops-dev-training-{ACCOUNT}-{REGION}"
CAPTURE_PREFIX = "datacapture/churn-prod/AllTraffic/"
NOW = datetime(2026, 11, 20, 3, 4, 12, tzinfo=UTC)
HOUR_KEY = "drift/churn/2026-11-20T03-00-00Z"
TRAINING_ROWS = (700, 600)


def drift_check_rule_pattern() -> dict[str, Any]:
    """The template's rule that takes our drift check's event to the drift handler."""
    for function in resources("AWS::Serverless::Function").values():
        for event in (function["Properties"].get("Events") or {}).values():
            pattern = event.get("Properties", {}).get("Pattern") or {}
            if pattern.get("source") == ["aiops.drift-check"]:
                return dict(pattern)
    raise AssertionError("template.yaml has no rule for source aiops.drift-check")


@pytest.fixture
def stack(tables: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """Buckets, SSM policy, SageMaker pipeline and package group, the bus rule to a queue, and
    the function's environment; the control plane's clock stopped at NOW."""
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=ARTIFACTS)
    s3.create_bucket(Bucket=TRAINING)
    s3.put_bucket_versioning(Bucket=TRAINING, VersioningConfiguration={"Status": "Enabled"})
    boto3.client("ssm", region_name=REGION).put_parameter(
        Name="/aiops/dev/policy",
        Type="String",
        Value=(ROOT / "policies" / "default.yaml").read_text(),
    )
    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(RoleName="sagemaker", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    definition = {
        "Version": "2020-12-01",
        "Parameters": [{"Name": "DataManifest", "Type": "String"}],
        "Steps": [],
    }
    sagemaker.create_pipeline(
        PipelineName="churn-train",
        PipelineDefinition=json.dumps(definition),
        RoleArn=role,
        ClientRequestToken="create-churn-train-pipeline-0001",
    )
    sagemaker.create_model_package_group(ModelPackageGroupName="churn")
    sqs = boto3.client("sqs", region_name=REGION)
    queue = sqs.create_queue(QueueName="drift-handler")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events = boto3.client("events", region_name=REGION)
    events.put_rule(
        Name="drift-check-completed", EventPattern=json.dumps(drift_check_rule_pattern())
    )
    events.put_targets(Rule="drift-check-completed", Targets=[{"Id": "drift", "Arn": queue_arn}])
    env = {
        "CONTROL_TABLE": tables["ControlTable"],
        "LEDGER_TABLE": tables["LedgerTable"],
        "IDEMPOTENCY_TABLE": tables["IdempotencyTable"],
        "ALERTS_TOPIC_ARN": f"arn:aws:sns:{REGION}:{ACCOUNT}:aiops-dev-alerts",
        "ARTIFACTS_BUCKET": ARTIFACTS,
        "RETRAIN_STATE_MACHINE_ARN": f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:retrain",
        "POLICY_PARAMETER": "/aiops/dev/policy",
        "DEAD_LETTER_QUEUE_URL": sqs.create_queue(QueueName="drift-dlq")["QueueUrl"],
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    clock.set_source(lambda: NOW)
    try:
        yield {"s3": s3, "sagemaker": sagemaker, "sqs": sqs, "queue": queue}
    finally:
        clock.set_source(None)


_tokens = iter(range(1, 10_000))


def start_execution(stack: dict[str, Any], manifest_uri: str | None) -> str:
    """A churn-train execution, started as a retrain run starts it (or, without a manifest, by
    someone else)."""
    parameters = [{"Name": "DataManifest", "Value": manifest_uri}] if manifest_uri else []
    return str(
        stack["sagemaker"].start_pipeline_execution(
            PipelineName="churn-train",
            PipelineParameters=parameters,
            ClientRequestToken=f"start-churn-train-execution-{next(_tokens):05d}",
        )["PipelineExecutionArn"]
    )


def register(stack: dict[str, Any], execution: str, status: str) -> str:
    """A model package registered by `execution`'s RegisterModel step."""
    return str(
        stack["sagemaker"].create_model_package(
            ModelPackageGroupName="churn",
            ModelApprovalStatus=status,
            MetadataProperties={"GeneratedBy": execution},
            InferenceSpecification={
                "Containers": [{"Image": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/churn:1"}],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
        )["ModelPackageArn"]
    )


def training_manifest(stack: dict[str, Any]) -> tuple[str, list[ObjectRef]]:
    """Training CSVs in the versioned bucket and a manifest naming their versions; the objects
    are then overwritten, so only the manifest's versions hold the training data."""
    s3 = stack["s3"]
    objects = []
    for part, rows in enumerate(TRAINING_ROWS, start=1):
        key = f"raw/churn/2026/11/19/part-{part}.csv"
        body = to_csv(generate(rows, seed=f"train-{part}")).encode()
        put = s3.put_object(Bucket=TRAINING, Key=key, Body=body)
        objects.append(
            ObjectRef(
                bucket=TRAINING,
                key=key,
                version_id=put["VersionId"],
                etag=put["ETag"].strip('"'),
                size=len(body),
            )
        )
        s3.put_object(Bucket=TRAINING, Key=key, Body=b"a later upload,not the training data\n")
    manifest = DataManifest(
        model="churn",
        run_id="churn-w000001",
        windows=[1],
        objects=objects,
        created_at=datetime(2026, 11, 19, 8, tzinfo=UTC),
    )
    key = "manifests/churn/churn-w000001.json"
    s3.put_object(Bucket=ARTIFACTS, Key=key, Body=manifest.model_dump_json().encode())
    return f"s3://{ARTIFACTS}/{key}", objects


def champion(stack: dict[str, Any]) -> tuple[str, str, list[ObjectRef]]:
    """An older Approved package from an execution we did not start, the champion (Approved,
    trained on the manifest), and a newer package still pending: the champion is version 2."""
    register(stack, start_execution(stack, None), "Approved")
    manifest_uri, objects = training_manifest(stack)
    package = register(stack, start_execution(stack, manifest_uri), "Approved")
    register(stack, start_execution(stack, manifest_uri), "PendingManualApproval")
    assert package.endswith("/churn/2")
    return package, manifest_uri, objects


def capture(stack: dict[str, Any], hour: str, name: str, rows: int, **shift: Any) -> None:
    """A data capture file under the endpoint's destination, hour as yyyy/mm/dd/hh."""
    body = to_capture(generate(rows, seed=name, shift=shift or None), seed=name, end=NOW)
    stack["s3"].put_object(
        Bucket=ARTIFACTS, Key=f"{CAPTURE_PREFIX}{hour}/{name}.jsonl", Body=body.encode()
    )


def context(n: int) -> Any:
    return lambda_context("drift-check", n, memory_mb=1024, remaining_ms=300_000)


def scheduled() -> dict[str, Any]:
    return {"source": "aws.scheduler", "detail-type": "Scheduled Event", "detail": {}}


def delivered(stack: dict[str, Any]) -> list[DriftCheckCompleted]:
    """The events the template's rule delivered, read as the drift handler reads them."""
    messages = (
        stack["sqs"]
        .receive_message(QueueUrl=stack["queue"], MaxNumberOfMessages=10)
        .get("Messages", [])
    )
    return [parse_event(DriftCheckCompleted, json.loads(m["Body"])) for m in messages]


def read_json(stack: dict[str, Any], key: str) -> Any:
    return json.loads(stack["s3"].get_object(Bucket=ARTIFACTS, Key=key)["Body"].read())


def drift_keys(stack: dict[str, Any]) -> list[str]:
    listed = stack["s3"].list_objects_v2(Bucket=ARTIFACTS, Prefix="drift/")
    return sorted(item["Key"] for item in listed.get("Contents", []))


SHIFT = {"total_day_minutes": {"mean": 60}}


def test_given_a_champion_and_a_shifted_capture_when_the_check_runs_then_report_and_event(stack):
    package, manifest_uri, _ = champion(stack)
    capture(stack, "2026/11/20/02", "a", 400, **SHIFT)
    capture(stack, "2026/11/20/02", "b", 300, **SHIFT)
    capture(stack, "2026/11/20/03", "current-hour", 400)  # still being written: not read

    response = load_handler("drift_check").handler(scheduled(), context(1))

    report_uri = f"s3://{ARTIFACTS}/{HOUR_KEY}/constraint_violations.json"
    [result] = response["results"]
    assert result["model"] == "churn"
    assert result["outcome"] == "reported", result["reason"]
    assert result["report_uri"] == report_uri
    assert result["rows"] == 700
    assert result["reason"].endswith("against churn/2")
    report = stack["s3"].get_object(Bucket=ARTIFACTS, Key=f"{HOUR_KEY}/constraint_violations.json")
    violations = parse_violations(report["Body"].read(), report_uri)
    assert [(v.feature_name, v.constraint_check_type) for v in violations] == [
        ("total_day_minutes", "baseline_drift_check")
    ]
    assert result["violations"] == 1
    statistics = read_json(stack, f"{HOUR_KEY}/statistics.json")
    assert statistics["champion"] == package
    assert statistics["baseline"] == manifest_uri
    assert statistics["rows"] == 700
    [event] = delivered(stack)
    assert event.detail.model_dump(mode="json") == {
        "model": "churn",
        "endpoint": "churn-prod",
        "report_uri": report_uri,
        "violations": 1,
        "checked_at": "2026-11-20T03:04:12Z",
    }


def test_given_a_first_check_when_it_runs_then_the_baseline_of_the_manifests_versions_is_cached(
    stack,
):
    _, manifest_uri, _ = champion(stack)
    capture(stack, "2026/11/20/02", "a", 600)

    load_handler("drift_check").handler(scheduled(), context(1))

    cached = Baseline.model_validate_json(
        stack["s3"]
        .get_object(Bucket=ARTIFACTS, Key="drift/churn/baselines/churn-2.json")["Body"]
        .read()
    )
    # Built from the manifest's object versions, not the later uploads over the same keys.
    assert cached.rows == sum(TRAINING_ROWS)
    assert cached.source == manifest_uri
    assert cached.label == "churned"
    assert cached.columns == [
        "account_length",
        "total_day_minutes",
        "total_eve_minutes",
        "customer_service_calls",
        "intl_plan",
        "state",
    ]
    assert drift_keys(stack) == [
        f"{HOUR_KEY}/constraint_violations.json",
        f"{HOUR_KEY}/statistics.json",
        "drift/churn/baselines/churn-2.json",
    ]


def test_given_a_cached_baseline_when_the_check_is_retried_then_same_report_without_training_data(
    stack,
):
    _, _, objects = champion(stack)
    capture(stack, "2026/11/20/02", "a", 600, **SHIFT)
    handler = load_handler("drift_check").handler
    first = handler(scheduled(), context(1))["results"][0]
    for obj in objects:  # the training versions are gone: only the cache can give the baseline
        stack["s3"].delete_object(Bucket=TRAINING, Key=obj.key, VersionId=obj.version_id)

    retried = handler(scheduled(), context(2))["results"][0]

    assert retried["outcome"] == "reported", retried["reason"]
    assert retried["report_uri"] == first["report_uri"]
    assert retried["violations"] == first["violations"] == 1
    assert [e.detail.report_uri for e in delivered(stack)] == [first["report_uri"]] * 2


def test_given_no_approved_package_when_the_check_runs_then_skipped_without_report_or_event(
    stack,
):
    manifest_uri, _ = training_manifest(stack)
    register(stack, start_execution(stack, manifest_uri), "PendingManualApproval")
    capture(stack, "2026/11/20/02", "a", 600, **SHIFT)

    response = load_handler("drift_check").handler(scheduled(), context(1))

    [result] = response["results"]
    assert result["outcome"] == "skipped"
    assert "no approved package in churn" in result["reason"]
    assert drift_keys(stack) == []
    assert delivered(stack) == []


def test_given_a_champion_from_an_execution_without_a_manifest_when_checked_then_skipped(stack):
    execution = start_execution(stack, None)
    register(stack, execution, "Approved")
    capture(stack, "2026/11/20/02", "a", 600, **SHIFT)

    response = load_handler("drift_check").handler(scheduled(), context(1))

    [result] = response["results"]
    assert result["outcome"] == "skipped"
    assert (
        f"no data manifest for the champion's pipeline execution {execution}" in (result["reason"])
    )
    assert drift_keys(stack) == []
    assert delivered(stack) == []


# --- the drift handler on moto: our drift check's event is a pointer, the report is the proof ---

CHURN_REPORT_KEY = f"{HOUR_KEY}/constraint_violations.json"
TWO_DRIFTS = {
    "violations": [
        {"feature_name": "total_day_minutes", "constraint_check_type": "baseline_drift_check"},
        {"feature_name": "total_eve_minutes", "constraint_check_type": "baseline_drift_check"},
    ]
}
WRITTEN_BY_THE_CHECK = {
    "aiops-writer": "drift-check",
    "aiops-model": "churn",
    "aiops-checked-at": "2026-11-20T03:04:12+00:00",
}


@pytest.fixture
def drift_handler(stack: dict[str, Any], tables: dict[str, str]) -> dict[str, Any]:
    """The drift handler's other collaborators on moto: the retrain state machine, the alerts
    topic, and one new training object in churn's window (what a drift retrain trains on)."""
    role = boto3.client("iam", region_name=REGION).create_role(
        RoleName="retrain", AssumeRolePolicyDocument="{}"
    )["Role"]["Arn"]
    sfn = boto3.client("stepfunctions", region_name=REGION)
    machine = sfn.create_state_machine(
        name="retrain",
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
        roleArn=role,
    )["stateMachineArn"]
    boto3.client("sns", region_name=REGION).create_topic(Name="aiops-dev-alerts")
    policy = parse_policy((ROOT / "policies" / "default.yaml").read_text())
    limits = WindowLimits.from_policy(policy.sagemaker_model("churn").data.window)
    DynamoWindowStore(tables["ControlTable"]).add(
        "churn",
        ObjectRef(bucket=TRAINING, key="raw/churn/2026/11/20/new.csv", version_id="v1", size=10),
        limits,
        NOW,
    )
    return {**stack, "sfn": sfn, "machine": machine, "ledger": tables["LedgerTable"]}


def on_drift_event(event: dict[str, Any]) -> dict[str, Any]:
    drift = load_handler("drift")
    return dict(
        drift.handler(event, lambda_context("drift", 1, memory_mb=256, remaining_ms=30_000))
    )


def forged(report_uri: str, violations: int = 2) -> dict[str, Any]:
    """A `Drift Check Completed` event anyone allowed to put events on the default bus can send."""
    return load_event(
        "aiops_drift_check_completed",
        **{"detail.report_uri": report_uri, "detail.violations": violations},
    )


def ledger_actions(env: dict[str, Any]) -> list[tuple[str, str]]:
    items = boto3.client("dynamodb", region_name=REGION).scan(TableName=env["ledger"])["Items"]
    return [(i["action"]["S"], i["reason"]["S"]) for i in items]


def retrains_started(env: dict[str, Any]) -> int:
    return len(env["sfn"].list_executions(stateMachineArn=env["machine"])["executions"])


def test_given_the_drift_checks_own_report_and_event_when_the_drift_handler_runs_then_it_retrains(
    drift_handler,
):
    champion(drift_handler)
    capture(drift_handler, "2026/11/20/02", "a", 400, **SHIFT)
    capture(drift_handler, "2026/11/20/02", "b", 300, **SHIFT)
    load_handler("drift_check").handler(scheduled(), context(1))
    [message] = drift_handler["sqs"].receive_message(QueueUrl=drift_handler["queue"])["Messages"]
    event = json.loads(message["Body"])
    policy = (
        (ROOT / "policies" / "default.yaml")
        .read_text()
        .replace("min_violations: 2", "min_violations: 1")
    )
    boto3.client("ssm", region_name=REGION).put_parameter(
        Name="/aiops/dev/policy", Type="String", Value=policy, Overwrite=True
    )

    decision = on_drift_event(event)

    assert decision["action"] == "retrain", decision["reason"]
    assert "baseline_drift_check on total_day_minutes" in decision["reason"]
    assert retrains_started(drift_handler) == 1
    written = drift_handler["s3"].head_object(Bucket=ARTIFACTS, Key=CHURN_REPORT_KEY)
    assert written["Metadata"] == WRITTEN_BY_THE_CHECK


@pytest.mark.parametrize(
    ("key", "metadata", "reason"),
    [
        (
            "drift/fraud/2026-11-20T03-00-00Z/constraint_violations.json",
            {**WRITTEN_BY_THE_CHECK, "aiops-model": "fraud"},
            "outside drift/churn/ of the artifacts bucket",
        ),
        (
            "model-monitor/reports/forged/constraint_violations.json",
            WRITTEN_BY_THE_CHECK,
            "outside drift/churn/ of the artifacts bucket",
        ),
        (
            "manifests/churn/constraint_violations.json",
            {},
            "outside drift/churn/ of the artifacts bucket",
        ),
        (CHURN_REPORT_KEY, {}, "not written by the drift check for churn"),
        (
            CHURN_REPORT_KEY,
            {**WRITTEN_BY_THE_CHECK, "aiops-model": "fraud"},
            "not written by the drift check for churn",
        ),
    ],
    ids=[
        "another-models-report",
        "a-report-outside-drift",
        "another-artifact",
        "no-metadata",
        "metadata-of-another-model",
    ],
)
def test_given_a_forged_drift_check_event_when_the_drift_handler_runs_then_no_retrain(
    drift_handler, key, metadata, reason
):
    drift_handler["s3"].put_object(
        Bucket=ARTIFACTS, Key=key, Body=json.dumps(TWO_DRIFTS).encode(), Metadata=metadata
    )

    decision = on_drift_event(forged(f"s3://{ARTIFACTS}/{key}"))

    assert decision["action"] == "alert_only"
    assert reason in decision["reason"]
    assert retrains_started(drift_handler) == 0
    [(action, recorded)] = ledger_actions(drift_handler)
    assert action == "drift_report_invalid" and reason in recorded


def test_given_a_forged_event_pointing_at_another_bucket_when_handled_then_no_retrain(
    drift_handler,
):
    drift_handler["s3"].create_bucket(Bucket="someone-elses-bucket")
    drift_handler["s3"].put_object(
        Bucket="someone-elses-bucket",
        Key=CHURN_REPORT_KEY,
        Body=json.dumps(TWO_DRIFTS).encode(),
        Metadata=WRITTEN_BY_THE_CHECK,
    )

    decision = on_drift_event(forged(f"s3://someone-elses-bucket/{CHURN_REPORT_KEY}"))

    assert decision["action"] == "alert_only"
    assert "outside drift/churn/ of the artifacts bucket" in decision["reason"]
    assert retrains_started(drift_handler) == 0


def test_given_the_template_then_only_the_drift_checks_role_may_write_under_drift():
    policy = resources("AWS::S3::BucketPolicy")["ArtifactsBucketPolicy"]["Properties"]
    statements = policy["PolicyDocument"]["Statement"]

    [deny] = [s for s in statements if s.get("Sid") == "OnlyTheDriftCheckWritesDriftReports"]

    assert deny["Effect"] == "Deny" and deny["Principal"] == "*"
    assert deny["Action"] == "s3:PutObject"
    assert deny["Resource"] == {"Fn::Sub": "${ArtifactsBucket.Arn}/drift/*"}
    assert deny["Condition"] == {
        "ArnNotEquals": {"aws:PrincipalArn": {"Fn::GetAtt": ["DriftCheckFunctionRole", "Arn"]}}
    }
    check = resources("AWS::Serverless::Function")["DriftCheckFunction"]["Properties"]
    assert "Role" not in check, "the deny names the role SAM generates for the drift check"
