"""`aiops resume`: a model's cost remediation undone by hand — offline on a cloud where a spend
alarm paused the support assistant, and on a stack (moto) where churn is paused and scaled down —
and `aiops status` showing the pause until then."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from aiops.adapters.cost import DynamoSavedCapacities
from aiops.adapters.ledger_store import DynamoLedger
from aiops.adapters.pause_store import DynamoPauseStore
from aiops.cost.model import VariantCapacity
from aiops.pauses import Pause
from aiops_cli.main import main
from aiops_cli.status_cmd import CONTROL_TABLE_OUTPUT, LEDGER_TABLE_OUTPUT
from aiops_local.cloud import LocalCloud
from tests.integration.test_approvals_cli import MOTO_CALLER
from tests.integration.test_status_cli import STACK, a_stack, promoted
from tests.support.template import ROOT

PAUSED = str(ROOT / "tests" / "fixtures" / "cost_paused.yaml")
RESUMED_ON_OK = str(ROOT / "tests" / "fixtures" / "cost_resumed_on_ok.yaml")
MODEL = "support-assistant"
ALARM_OWNER = "spend alarm support-assistant-token-spend"
ALARM_REASON = (
    "in ALARM: Threshold Crossed: 1 datapoint "
    "[2.4E7] was greater than the threshold (2.0E7). (its budget's spend alarm "
    "support-assistant-token-spend)"
)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture
def at_stop(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The offline cloud as the command leaves it, read just before it stops: the support
    assistant's pause and its ledger."""
    seen: dict[str, Any] = {}
    stop = LocalCloud.stop

    def reading_first(cloud: LocalCloud) -> None:
        try:
            pauses = DynamoPauseStore(cloud.table("ControlTable"), cloud.client("dynamodb"))
            seen["pause"] = pauses.get(MODEL)
            seen["ledger"] = cloud.ledger(MODEL)
        finally:
            stop(cloud)

    monkeypatch.setattr(LocalCloud, "stop", reading_first)
    return seen


# ------------------------------------------------------------------ offline: --local


def test_given_a_spend_alarm_paused_the_assistant_when_alice_resumes_then_the_held_run_starts(
    at_stop, capsys
):
    status, out, err = run(capsys, "resume", MODEL, "--as", "alice", "--local", PAUSED)

    assert status == 0, err
    lines = out.splitlines()
    assert lines[:3] == [
        f"{MODEL}: resumed by alice",
        f"  lifted:   pause by {ALARM_OWNER} since 2026-11-20 09:00 UTC until 2026-11-21 09:00 "
        f"UTC: {ALARM_REASON}",
        "  restored: no capacity was saved: nothing to restore",
    ]
    # The timeline that followed: the resume recorded and alerted, the sweeps told, and the
    # fine-tune the pause held started.
    assert f"decision  {MODEL}: triggers_resumed — resumed by alice: triggers paused by" in out
    assert f"notify    aiops-dev-alerts: [aiops] {MODEL}: resumed by alice" in out
    assert "event     aiops.cost · Model Triggers Resumed" in out
    assert "LabelsSweepFunction ← rule LabelsSweepFunctionResumed: ok" in out
    assert f"decision  {MODEL}: run_started — window reached 1100 good records" in out
    assert at_stop["pause"] is None
    (resumed,) = [e for e in at_stop["ledger"] if e["action"] == "triggers_resumed"]
    assert resumed["cause"] == {"via": "cli", "operator": "alice", "paused_by": ALARM_OWNER}


def test_given_a_paused_assistant_when_resumed_as_json_then_one_document_with_the_timeline(
    capsys,
):
    status, out, err = run(capsys, "resume", MODEL, "--local", PAUSED, "--json")

    assert status == 0, err
    document = json.loads(out)
    assert (document["model"], document["by"], document["lifted"]) == (
        MODEL,
        "local-operator",
        True,
    )
    assert document["pause"] == {
        "owner": ALARM_OWNER,
        "reason": ALARM_REASON,
        "since": "2026-11-20T09:00:00Z",
        "until": "2026-11-21T09:00:00Z",
        "expired": False,
    }
    assert (document["restored"], document["still_scaled_down"], document["dropped"]) == (
        [],
        [],
        [],
    )
    assert document["reason"].startswith(f"{MODEL}: lifted the pause (triggers paused by ")
    decisions = [e["action"] for e in document["timeline"] if e["kind"] == "decision"]
    assert decisions[0] == "triggers_resumed"
    assert "run_started" in decisions
    assert all(e["kind"] != "api" for e in document["timeline"])


def test_given_the_alarm_back_to_ok_resumed_it_when_resumed_again_then_exit_1_nothing_paused(
    at_stop, capsys
):
    status, out, err = run(capsys, "resume", MODEL, "--local", RESUMED_ON_OK)

    assert (status, out) == (1, "")
    assert f"aiops resume: {MODEL}: nothing paused or scaled down" in err
    # The alarm's resume alone is recorded.
    resumed = [e for e in at_stop["ledger"] if e["action"] == "triggers_resumed"]
    assert [e["cause"].get("operator") for e in resumed] == [None]


def test_given_a_model_the_policy_does_not_have_when_resumed_then_exit_2_naming_its_models(
    capsys,
):
    status, out, err = run(capsys, "resume", "fraud", "--local", PAUSED)

    assert (status, out) == (2, "")
    assert "model fraud is not a model of the policy (its models: churn, support-assistant)" in err


def test_given_a_paused_assistant_when_status_is_shown_then_a_paused_line_names_the_resume(
    capsys,
):
    status, out, err = run(capsys, "status", "--local", PAUSED)

    assert status == 0, err
    assert (
        f"  paused:     by {ALARM_OWNER} since 2026-11-20 09:00 UTC until 2026-11-21 09:00 UTC: "
        f"{ALARM_REASON} — `aiops resume {MODEL}` lifts it\n"
    ) in out
    assert out.count("paused:") == 1  # churn is not paused


def test_given_a_paused_assistant_when_status_is_asked_as_json_then_paused_says_by_whom(capsys):
    status, out, err = run(capsys, "status", MODEL, "--local", PAUSED, "--json")

    assert status == 0, err
    (assistant,) = json.loads(out)["models"]
    assert assistant["paused"] == {
        "owner": ALARM_OWNER,
        "reason": ALARM_REASON,
        "since": "2026-11-20T09:00:00Z",
        "until": "2026-11-21T09:00:00Z",
        "expired": False,
    }
    assert assistant["scaled_down"] == []


def test_given_the_alarm_back_to_ok_when_status_is_shown_then_nothing_is_paused(capsys):
    status, out, err = run(capsys, "status", "--local", RESUMED_ON_OK, "--json")

    assert status == 0, err
    models = json.loads(out)["models"]
    assert [(m["model"], m["paused"], m["scaled_down"]) for m in models] == [
        ("churn", None, []),
        (MODEL, None, []),
    ]


def test_given_as_on_aws_when_resuming_then_exit_2_before_reading_the_stack(aws, capsys):
    status, out, err = run(capsys, "resume", "churn", "--as", "ceo", "--stack", "aiops-dev")

    assert (status, out) == (2, "")
    assert "--as applies to --local only" in err


# ------------------------------------------------------------------ AWS (moto): --stack

REGION = ("--region", "us-east-1")
SINCE = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)
COST_OWNER = "cost anomaly a1b2c3"


@pytest.fixture
def scaled_down(tables: dict[str, str]) -> dict[str, Any]:
    """A stack whose churn a cost anomaly paused and scaled down, as the cost function leaves
    them: the pause, churn-prod's AllTraffic saved at 2 instances and running on 1; and a queue
    on the stack's alerts topic."""
    a_stack(tables)
    configs = promoted(tables, 1)
    sagemaker = boto3.client("sagemaker", region_name="us-east-1")
    sagemaker.create_endpoint(
        EndpointName="churn-prod",
        EndpointConfigName=configs[1],
        Tags=[{"Key": "aiops:model", "Value": "churn"}],
    )
    DynamoPauseStore(tables["ControlTable"]).pause(
        Pause(
            model="churn",
            owner=COST_OWNER,
            reason="cost anomaly a1b2c3: $212.40 above expected since 2026-11-20",
            since=SINCE,
        )
    )
    saved = VariantCapacity(endpoint="churn-prod", variant="AllTraffic", instances=2)
    DynamoSavedCapacities(tables["ControlTable"]).save("churn", [saved], {"signal": "a1b2c3"})
    sagemaker.update_endpoint_weights_and_capacities(
        EndpointName="churn-prod",
        DesiredWeightsAndCapacities=[{"VariantName": "AllTraffic", "DesiredInstanceCount": 1}],
    )
    outputs = boto3.client("cloudformation", region_name="us-east-1").describe_stacks(
        StackName=STACK
    )["Stacks"][0]["Outputs"]
    topic = next(o["OutputValue"] for o in outputs if o["OutputKey"] == "AlertsTopicArn")
    sqs = boto3.client("sqs", region_name="us-east-1")
    queue = sqs.create_queue(QueueName="alerts")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]
    boto3.client("sns", region_name="us-east-1").subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=arn["QueueArn"]
    )
    return {"tables": tables, "sagemaker": sagemaker, "sqs": sqs, "queue": queue}


def _alerts(scaled_down: dict[str, Any]) -> list[str]:
    messages = (
        scaled_down["sqs"]
        .receive_message(QueueUrl=scaled_down["queue"], MaxNumberOfMessages=10)
        .get("Messages", [])
    )
    return [json.loads(m["Body"])["Subject"] for m in messages]


def test_given_churn_paused_and_scaled_down_when_status_is_shown_then_both_and_the_fix_show(
    scaled_down, capsys
):
    status, out, err = run(capsys, "status", "--stack", STACK, *REGION)

    assert status == 0, err
    rows = {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in out.splitlines()[1:])}
    assert rows["paused"] == (
        f"by {COST_OWNER} since 2026-11-20 04:00 UTC until resumed: cost anomaly a1b2c3: "
        "$212.40 above expected since 2026-11-20 — `aiops resume churn` lifts it"
    )
    assert rows["capacity"] == (
        "scaled down; churn-prod/AllTraffic: 2 instance(s) to restore — `aiops resume churn` "
        "restores it"
    )


def test_given_churn_paused_and_scaled_down_when_resumed_then_its_capacity_is_back_and_recorded(
    scaled_down, capsys
):
    status, out, err = run(capsys, "resume", "churn", "--stack", STACK, *REGION)

    assert status == 0, err
    assert out == (
        f"churn: resumed by {MOTO_CALLER}\n"
        f"  lifted:   pause by {COST_OWNER} since 2026-11-20 04:00 UTC until resumed: cost "
        "anomaly a1b2c3: $212.40 above expected since 2026-11-20\n"
        "  restored: churn-prod/AllTraffic: 2 instance(s)\n"
    )
    endpoint = scaled_down["sagemaker"].describe_endpoint(EndpointName="churn-prod")
    assert endpoint["ProductionVariants"][0]["DesiredInstanceCount"] == 2
    tables = scaled_down["tables"]
    assert DynamoPauseStore(tables["ControlTable"]).get("churn") is None
    assert DynamoSavedCapacities(tables["ControlTable"]).saved("churn") == []
    entries = {e.action: e for e in DynamoLedger(tables["LedgerTable"]).for_model("churn")}
    assert set(entries) == {"triggers_resumed", "capacity_restored"}
    assert entries["triggers_resumed"].cause == {
        "via": "cli",
        "operator": MOTO_CALLER,
        "paused_by": COST_OWNER,
    }
    assert entries["capacity_restored"].cause == {
        "via": "cli",
        "operator": MOTO_CALLER,
        "endpoint": "churn-prod",
        "variant": "AllTraffic",
    }
    assert _alerts(scaled_down) == [f"[aiops] churn: resumed by {MOTO_CALLER}"]


def test_given_churn_resumed_when_resumed_again_then_exit_1_and_status_shows_no_pause(
    scaled_down, capsys
):
    stack = ("--stack", STACK, *REGION)
    first = run(capsys, "resume", "churn", *stack)

    again = run(capsys, "resume", "churn", *stack, "--json")
    after = run(capsys, "status", "churn", *stack, "--json")

    assert first[0] == 0, first[2]
    status, out, err = again
    assert status == 1
    assert "aiops resume: churn: nothing paused or scaled down" in err
    document = json.loads(out)
    assert (document["lifted"], document["pause"], document["restored"]) == (False, None, [])
    assert after[0] == 0, after[2]
    (churn,) = json.loads(after[1])["models"]
    assert (churn["paused"], churn["scaled_down"]) == (None, [])
    # One resume recorded, one alert.
    ledger = DynamoLedger(scaled_down["tables"]["LedgerTable"]).for_model("churn")
    assert [e.action for e in ledger].count("triggers_resumed") == 1
    assert len(_alerts(scaled_down)) == 1


def test_given_a_saved_variant_the_endpoint_lacks_when_resumed_then_exit_3_saying_it_was_lifted(
    scaled_down, capsys
):
    control = scaled_down["tables"]["ControlTable"]
    gone = VariantCapacity(endpoint="churn-prod", variant="Gone", instances=3)
    DynamoSavedCapacities(control).save("churn", [gone], {"signal": "a1b2c3"})

    status, out, err = run(capsys, "resume", "churn", "--stack", STACK, *REGION)

    assert (status, out) == (3, "")
    assert (
        f"aiops resume: churn: failed after lifting the pause (triggers paused by {COST_OWNER} "
        "since 2026-11-20T04:00:00+00:00 until resumed: "
    ) in err
    assert "endpoint churn-prod has no variant Gone" in err
    assert "`aiops resume churn` again restores it" in err
    # What could not be restored is still saved: the command again retries it.
    assert gone in DynamoSavedCapacities(control).saved("churn")


def test_given_capacity_saved_for_an_endpoint_since_deleted_when_resumed_then_it_is_dropped(
    tables, capsys
):
    a_stack(tables)
    DynamoPauseStore(tables["ControlTable"]).pause(
        Pause(model="churn", owner=COST_OWNER, reason="over budget", since=SINCE)
    )
    old = VariantCapacity(endpoint="churn-old", variant="AllTraffic", instances=4)
    DynamoSavedCapacities(tables["ControlTable"]).save("churn", [old], {"signal": "a1b2c3"})

    status, out, err = run(capsys, "resume", "churn", "--stack", STACK, *REGION)

    assert status == 0, err
    assert out.splitlines()[2:] == [
        "  dropped:  churn-old/AllTraffic: 4 instance(s): its endpoint is gone",
    ]
    assert DynamoSavedCapacities(tables["ControlTable"]).saved("churn") == []


def test_given_an_expired_pause_when_resumed_then_it_is_lifted_and_shown_expired(tables, capsys):
    a_stack(tables)
    DynamoPauseStore(tables["ControlTable"]).pause(
        Pause(
            model="churn",
            owner=COST_OWNER,
            reason="over budget",
            since=SINCE - timedelta(days=3),
            until=SINCE - timedelta(days=2),
        )
    )

    status, out, err = run(capsys, "resume", "churn", "--stack", STACK, *REGION, "--json")

    assert status == 0, err
    document = json.loads(out)
    assert document["lifted"] is True
    assert document["pause"]["expired"] is True
    assert DynamoPauseStore(tables["ControlTable"]).get("churn") is None


def test_given_a_stack_without_an_alerts_topic_when_resumed_then_exit_2_and_nothing_lifted(
    tables, capsys
):
    boto3.client("ssm", region_name="us-east-1").put_parameter(
        Name="/aiops/bare/policy",
        Value=(ROOT / "scenarios" / "policies" / "churn_canary.yaml").read_text(),
        Type="String",
    )
    bare = {
        "Parameters": {"PolicyParameterName": {"Type": "String"}},
        "Resources": {"Nothing": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {
            CONTROL_TABLE_OUTPUT: {"Value": tables["ControlTable"]},
            LEDGER_TABLE_OUTPUT: {"Value": tables["LedgerTable"]},
        },
    }
    boto3.client("cloudformation", region_name="us-east-1").create_stack(
        StackName="bare",
        TemplateBody=json.dumps(bare),
        Parameters=[
            {"ParameterKey": "PolicyParameterName", "ParameterValue": "/aiops/bare/policy"}
        ],
    )
    pauses = DynamoPauseStore(tables["ControlTable"])
    pauses.pause(Pause(model="churn", owner=COST_OWNER, reason="over budget", since=SINCE))

    status, out, err = run(capsys, "resume", "churn", "--stack", "bare", *REGION)

    assert (status, out) == (2, "")
    assert "stack bare has no output AlertsTopicArn" in err
    assert pauses.get("churn") is not None


def test_given_an_unknown_stack_when_resumed_then_exit_2_naming_it(aws, capsys):
    status, out, err = run(capsys, "resume", "churn", "--stack", "nope", *REGION)

    assert (status, out) == (2, "")
    assert "stack nope does not exist" in err
