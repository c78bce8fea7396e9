"""`aiops approvals | approve | reject`: offline on a scenario's cloud (the demo up to its pending
approval), and against AWS (moto) with approvals written by the real DynamoDB store."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from aiops.adapters.approval_store import DynamoApprovalStore
from aiops.adapters.stepfunctions import StepFunctionsResumer
from aiops.approval.model import ApprovalStatus, ApprovalSummary, Decision, MetricRow
from aiops.approval.ports import Approval
from aiops_cli.approvals_cmd import CONTROL_TABLE_OUTPUT
from aiops_cli.main import main
from tests.support.template import ROOT, resources, template

LEAD = "ml-lead@example.com"
TOKEN = "AAAA-secret-task-token-never-shown"
MOTO_CALLER = "arn:aws:sts::123456789012:user/moto"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


# ------------------------------------------------------------------ offline: --local


def demo_until_approval(tmp_path: Path, *then: dict[str, Any]) -> str:
    """The demo's first four steps (churn v1 awaits approval), then `then`, as a scenario."""
    demo = yaml.safe_load((ROOT / "scenarios" / "demo.yaml").read_text())
    demo |= {
        "template": str(ROOT / "template.yaml"),
        "policy": str((ROOT / "scenarios" / demo["policy"]).resolve()),
        "steps": [*demo["steps"][:4], *then],
    }
    path = tmp_path / "demo-until-approval.yaml"
    path.write_text(yaml.safe_dump(demo))
    return str(path)


@pytest.fixture
def pending(tmp_path: Path) -> str:
    return demo_until_approval(tmp_path)


@pytest.fixture
def approved_in_studio(tmp_path: Path) -> str:
    return demo_until_approval(tmp_path, {"approve": "churn/1"})


def test_given_the_demo_awaiting_approval_when_listed_then_churn_v1_waits_on_the_lead(
    pending, capsys
):
    status, out, err = run(capsys, "approvals", "--local", pending)

    assert status == 0, err
    header, row = out.splitlines()
    assert header.split()[:3] == ["MODEL", "VERSION", "STATUS"]
    assert row.split()[:3] == ["churn", "v1", "pending"]
    assert "auc 0.81 vs — (no champion)" in row
    assert f"{LEAD}: sent 2026-11-20 02:20 UTC" in row


def test_given_the_demo_awaiting_approval_when_approved_as_alice_then_registry_and_ledger_say_so(
    pending, capsys
):
    status, out, err = run(
        capsys, "approve", "churn", "--comment", "ok", "--as", "alice", "--local", pending, "--json"
    )

    assert status == 0, err
    document = json.loads(out)
    assert document["won"] is True
    assert document["approval"]["decision"] | {"at": None} == {
        "status": "approved",
        "by": "alice",
        "via": "cli",
        "comment": "ok",
        "at": None,
    }
    assert document["status_after"] == "approved"
    registry = document["registry"]
    assert registry["status"] == "Approved"
    assert "alice" in registry["description"]
    assert "aiops CLI" in registry["description"]
    # The approval, and what followed from it: the deployment it started.
    (entry,) = [e for e in document["ledger"] if e["action"] == "approved"]
    assert "deploy_requested" in [e["action"] for e in document["ledger"]]
    assert entry["cause"]["via"] == "cli"
    assert entry["cause"]["approver"] == "alice"


def test_given_the_demo_awaiting_approval_when_rejected_then_the_package_ends_rejected(
    pending, capsys
):
    status, out, err = run(capsys, "reject", "churn", "1", "--comment", "drift", "--local", pending)

    assert status == 0, err
    lines = out.splitlines()
    assert lines[0] == "churn v1: rejected by local-operator with the aiops CLI: drift"
    assert lines[1].endswith(
        "model-package/churn/1  Rejected — aiops: rejected by local-operator with the aiops CLI: "
        "drift"
    )
    assert "ledger:   approval_rejected: rejected by local-operator" in out


def test_given_churn_approved_in_studio_when_approved_again_then_exit_2_nothing_pending(
    approved_in_studio, capsys
):
    status, out, err = run(
        capsys, "approve", "churn", "--comment", "ok", "--local", approved_in_studio
    )

    assert (status, out) == (2, "")
    assert (
        "model churn has no pending approval (latest: v1 approved by studio-user in SageMaker "
        "Studio)"
    ) in err


def test_given_churn_approved_in_studio_when_v1_is_rejected_then_exit_1_saying_who_decided(
    approved_in_studio, capsys
):
    status, out, err = run(
        capsys, "reject", "churn", "1", "--comment", "late", "--local", approved_in_studio
    )

    assert (status, out) == (1, "")
    assert "churn v1 was already closed at 2026-11-20 02:20:00 UTC: approved by studio-user" in err


def test_given_the_demo_when_a_model_without_approvals_is_approved_then_exit_2(pending, capsys):
    status, out, err = run(capsys, "approve", "fraud", "--comment", "ok", "--local", pending)

    assert (status, out) == (2, "")
    assert "model fraud has no approvals" in err


def test_given_a_region_with_local_when_run_then_exit_2_before_the_scenario(tmp_path, capsys):
    missing = str(tmp_path / "never-read.yaml")

    status, _, err = run(capsys, "approvals", "--local", missing, "--region", "eu-west-1")

    assert status == 2
    assert "--region applies to --stack and --control-table" in err


# ------------------------------------------------------------------ AWS: --control-table


def an_approval(
    model: str = "churn", version: int = 3, opened: datetime | None = None, days: int = 3
) -> Approval:
    opened = opened or datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    arn = f"arn:aws:sagemaker:us-east-1:123456789012:model-package/{model}/{version}"
    return Approval(
        model=model,
        version=version,
        package_arn=arn,
        status=ApprovalStatus.PENDING,
        created_at=opened,
        expires_at=opened + timedelta(days=days),
        approvers=[LEAD],
        summary=ApprovalSummary(
            model=model,
            version=version,
            package_arn=arn,
            package_group=model,
            run_id=f"{model}-w000003",
            champion_version=version - 1,
            metric="auc",
            metrics=[MetricRow(name="auc", candidate=0.83, champion=0.81, gated=True)],
        ),
        execution_name=f"{model}-v{version}-abc",
    )


def open_approval(table: str, approval: Approval) -> DynamoApprovalStore:
    """What the approval workflow's first step leaves: the approval with its token, and the
    approver notified."""
    store = DynamoApprovalStore(table)
    store.create(approval, TOKEN)
    store.mark_notified(approval.model, approval.version, LEAD, approval.created_at)
    return store


@pytest.fixture
def control(tables: dict[str, str]) -> str:
    return tables["ControlTable"]


@pytest.fixture
def resumed(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """The tokens the CLI resumes (moto accepts any token, so it would not tell)."""
    calls: list[tuple[str, dict[str, Any]]] = []
    original = StepFunctionsResumer.succeed

    def succeed(self: Any, task_token: str, output: dict[str, Any]) -> None:
        calls.append((task_token, output))
        original(self, task_token, output)

    monkeypatch.setattr(StepFunctionsResumer, "succeed", succeed)
    return calls


def test_given_a_pending_approval_in_the_table_when_listed_then_it_shows_without_its_token(
    control, capsys
):
    open_approval(control, an_approval())

    status, out, err = run(capsys, "approvals", "churn", "--control-table", control)

    assert status == 0, err
    row = out.splitlines()[1]
    assert row.split()[:5] == ["churn", "v3", "pending", "2h", "2d"]
    assert "auc 0.83 vs 0.81 (champion v2)" in row
    assert f"{LEAD}: sent " in row
    assert TOKEN not in out


def test_given_approvals_of_two_models_when_all_are_listed_as_json_then_both_are_found(
    control, capsys
):
    store = open_approval(control, an_approval("churn", 3))
    open_approval(control, an_approval("fraud", 1))
    store.decide(
        "churn",
        3,
        Decision(
            status=ApprovalStatus.REJECTED,
            by="bob",
            via="page",
            comment="no",
            at=datetime.now(UTC),
        ),
        datetime.now(UTC),
        None,
    )

    status, out, err = run(capsys, "approvals", "--all", "--control-table", control, "--json")

    assert status == 0, err
    rows = json.loads(out)["approvals"]
    assert [(r["model"], r["version"], r["status"]) for r in rows] == [
        ("churn", 3, "rejected"),
        ("fraud", 1, "pending"),
    ]
    assert rows[0]["decision"]["by"] == "bob"
    assert TOKEN not in out


def test_given_only_closed_approvals_when_pending_ones_are_listed_then_exit_0_with_none(
    control, capsys
):
    open_approval(control, an_approval(opened=datetime(2026, 1, 1, tzinfo=UTC))).decide(
        "churn",
        3,
        Decision(
            status=ApprovalStatus.EXPIRED,
            by="aiops",
            via="timeout",
            comment="no decision within 72h",
            at=datetime(2026, 1, 4, tzinfo=UTC),
        ),
        datetime(2026, 1, 4, tzinfo=UTC),
        None,
        before_expiry=False,
    )

    status, out, _ = run(capsys, "approvals", "--control-table", control)

    assert (status, out) == (0, "no pending approvals\n")


def test_given_a_pending_approval_when_approved_on_aws_then_the_caller_arn_decides_and_resumes(
    control, resumed, capsys
):
    store = open_approval(control, an_approval())

    status, out, err = run(
        capsys, "approve", "churn", "--comment", "ok", "--control-table", control
    )

    assert status == 0, err
    assert out.startswith(f"churn v3: approved by {MOTO_CALLER} with the aiops CLI: ok\n")
    approval = store.get("churn", 3)
    assert approval is not None and approval.decision is not None
    assert (approval.status, approval.decision.by, approval.decision.via) == (
        ApprovalStatus.APPROVED,
        MOTO_CALLER,
        "cli",
    )
    assert resumed == [(TOKEN, {"status": "approved"})]


def test_given_an_approval_decided_from_the_cli_when_decided_again_then_exit_2_then_exit_1(
    control, capsys
):
    open_approval(control, an_approval())
    assert run(capsys, "approve", "churn", "--comment", "ok", "--control-table", control)[0] == 0

    again = run(capsys, "approve", "churn", "--comment", "ok", "--control-table", control)
    explicit = run(capsys, "reject", "churn", "3", "--comment", "no", "--control-table", control)

    assert again[0] == 2
    assert "model churn has no pending approval (latest: v3 approved by " in again[2]
    assert explicit[:2] == (1, "")
    assert "churn v3 was already closed at " in explicit[2]
    assert f"approved by {MOTO_CALLER} with the aiops CLI: ok" in explicit[2]


def test_given_a_lost_decision_with_json_when_run_then_the_document_says_who_won(control, capsys):
    open_approval(control, an_approval())
    run(capsys, "reject", "churn", "--comment", "drift", "--control-table", control)

    status, out, _ = run(
        capsys, "approve", "churn", "3", "--comment", "ok", "--control-table", control, "--json"
    )

    assert status == 1
    document = json.loads(out)
    assert document["won"] is False
    assert document["approval"]["decision"]["status"] == "rejected"
    assert document["message"].endswith(f"rejected by {MOTO_CALLER} with the aiops CLI: drift")


def test_given_an_approval_past_its_expiry_when_approved_then_exit_1_it_expired(control, capsys):
    store = open_approval(control, an_approval(opened=datetime(2026, 1, 1, tzinfo=UTC), days=1))

    status, _, err = run(capsys, "approve", "churn", "--comment", "ok", "--control-table", control)

    assert status == 1
    assert "churn v3 expired at 2026-01-02 00:00:00 UTC" in err
    approval = store.get("churn", 3)
    assert approval is not None and approval.status == ApprovalStatus.PENDING


def test_given_as_on_aws_when_approving_then_exit_2_and_nothing_is_recorded(control, capsys):
    store = open_approval(control, an_approval())

    status, _, err = run(
        capsys, "approve", "churn", "--comment", "ok", "--as", "ceo", "--control-table", control
    )

    assert status == 2
    assert "--as applies to --local only" in err
    approval = store.get("churn", 3)
    assert approval is not None and approval.status == ApprovalStatus.PENDING


def test_given_a_table_that_does_not_exist_when_listed_then_exit_2_naming_it(aws, capsys):
    status, out, err = run(capsys, "approvals", "--control-table", "no-such-table")

    assert (status, out) == (2, "")
    assert "control table no-such-table not found" in err


def test_given_a_model_without_approvals_when_listed_then_exit_2(control, capsys):
    open_approval(control, an_approval())

    status, _, err = run(capsys, "approvals", "fruad", "--control-table", control)

    assert status == 2
    assert "model fruad has no approvals" in err


def test_given_no_comment_when_approving_then_argparse_refuses(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["approve", "churn", "--control-table", "t"])

    assert exited.value.code == 2
    assert "--comment" in capsys.readouterr().err


# ------------------------------------------------------------------ AWS: --stack


def test_the_output_the_cli_reads_is_an_output_of_the_template():
    assert template()["Outputs"][CONTROL_TABLE_OUTPUT]["Value"] == {"Ref": "ControlTable"}


def test_given_a_stack_when_listed_by_stack_then_its_output_leads_to_the_control_table(aws, capsys):
    control = resources("AWS::DynamoDB::Table")["ControlTable"]["Properties"]
    stack = {
        "Resources": {
            "ControlTable": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {k: control[k] for k in ("AttributeDefinitions", "KeySchema")}
                | {"BillingMode": control["BillingMode"]},
            }
        },
        "Outputs": {CONTROL_TABLE_OUTPUT: {"Value": {"Ref": "ControlTable"}}},
    }
    cloudformation = boto3.client("cloudformation", region_name="us-east-1")
    cloudformation.create_stack(StackName="aiops-test", TemplateBody=json.dumps(stack))
    outputs = cloudformation.describe_stacks(StackName="aiops-test")["Stacks"][0]["Outputs"]
    open_approval(outputs[0]["OutputValue"], an_approval())

    status, out, err = run(capsys, "approvals", "--stack", "aiops-test")

    assert status == 0, err
    assert out.splitlines()[1].split()[:3] == ["churn", "v3", "pending"]


def test_given_an_unknown_stack_when_approving_then_exit_2_naming_it(aws, capsys):
    status, out, err = run(capsys, "approve", "churn", "--comment", "ok", "--stack", "nope")

    assert (status, out) == (2, "")
    assert "stack nope does not exist" in err
