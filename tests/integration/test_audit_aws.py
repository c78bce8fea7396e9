"""`aiops audit` against AWS (moto): the ledger table from template.yaml written by the real ledger
adapter, a Step Functions execution and a model package to enrich the chain with."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from aiops.adapters.audit_sources import (
    ExecutionStatuses,
    LedgerHistory,
    PackageStatuses,
    StackNotFound,
    StackOutputs,
)
from aiops.adapters.ledger_store import DynamoLedger
from aiops.ledger import LedgerEntry
from aiops_cli.audit_cmd import LEDGER_OUTPUT, STATE_MACHINE_OUTPUT
from aiops_cli.main import main
from tests.support.template import resources, template

REGION = "us-east-1"
EVENT = "7b73f311-94ee-408a-8249-783f11e9a93e"
RUN = "churn-w000001"
PIPELINE = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/churn-train/execution/abc123"
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def machine(aws: None) -> str:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    definition = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}
    return str(
        sfn.create_state_machine(
            name="aiops-test-retrain",
            definition=json.dumps(definition),
            roleArn="arn:aws:iam::123456789012:role/retrain",
        )["stateMachineArn"]
    )


@pytest.fixture
def execution(machine: str) -> str:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    return str(sfn.start_execution(stateMachineArn=machine, name=RUN, input="{}")["executionArn"])


@pytest.fixture
def package(aws: None) -> str:
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    sagemaker.create_model_package_group(ModelPackageGroupName="churn")
    return str(
        sagemaker.create_model_package(
            ModelPackageGroupName="churn",
            ModelApprovalStatus="PendingManualApproval",
            InferenceSpecification={
                "Containers": [{"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/churn:1"}],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
        )["ModelPackageArn"]
    )


def record_run(table: str, execution: str | None, package: str, minutes_ago: int = 30) -> None:
    """The entries a run writes, through the real ledger adapter."""
    ledger = DynamoLedger(table)
    start = NOW - timedelta(minutes=minutes_ago)
    steps: list[tuple[str, int, dict[str, Any], str]] = [
        (
            "retrain_requested",
            0,
            {"event_id": EVENT, "window": "w000001", "run_id": RUN, "execution": execution},
            "window reached 5 objects (limit 5)",
        ),
        (
            "run_started",
            0,
            {"run_id": RUN, "trigger": "window:w000001", "event_id": EVENT},
            "window reached 5 objects (limit 5)",
        ),
        (
            "pipeline_started",
            0,
            {"run_id": RUN, "pipeline_execution": PIPELINE, "manifest": "s3://a/m.json"},
            "churn-train on 5 objects",
        ),
        (
            "candidate_registered",
            20,
            {"run_id": RUN, "pipeline_execution": PIPELINE, "model_package": package},
            "version 1, auc=0.81, PendingManualApproval",
        ),
        (
            "gate_rejected",
            20,
            {"run_id": RUN, "model_package": package, "champion": None},
            "auc 0.65 must be at least 0.7",
        ),
        ("run_succeeded", 20, {"run_id": RUN}, "run completed"),
    ]
    for action, minutes, cause, reason in steps:
        cause = {k: v for k, v in cause.items() if v is not None}
        ledger.append(
            LedgerEntry(
                model="churn",
                at=start + timedelta(minutes=minutes),
                action=action,
                reason=reason,
                cause=cause,
            )
        )


def audit(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["audit", "churn", *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


# ------------------------------------------------------------------ --ledger-table


def test_given_a_run_in_the_ledger_when_audited_by_table_then_the_chain_shows_live_status(
    tables, execution, package, capsys
):
    record_run(tables["LedgerTable"], execution, package)

    status, out, err = audit(capsys, "--ledger-table", tables["LedgerTable"])

    assert status == 0, err
    assert f"run {RUN}  succeeded" in out
    assert f"event {EVENT}, window:w000001" in out
    assert f"execution   {RUN}  status RUNNING" in out
    assert execution in out
    assert f"pipeline    {PIPELINE}" in out
    assert "package     churn/1  approval now PendingManualApproval" in out
    assert "gate        rejected: auc 0.65 must be at least 0.7" in out
    lines = [line.split()[1] for line in out.splitlines() if line.startswith("    20")]
    assert lines == [
        "retrain_requested",
        "run_started",
        "pipeline_started",
        "candidate_registered",
        "gate_rejected",
        "run_succeeded",
    ]


def test_given_an_execution_and_package_that_do_not_exist_when_audited_then_they_are_unknown(
    tables, machine, capsys
):
    gone = machine.replace(":stateMachine:", ":execution:") + f":{RUN}"
    record_run(tables["LedgerTable"], gone, "arn:aws:sagemaker:us-east-1:123:model-package/churn/7")

    status, out, err = audit(capsys, "--ledger-table", tables["LedgerTable"])

    assert status == 0, err
    assert f"execution   {RUN}  status unknown (ExecutionDoesNotExist: " in out
    assert "package     churn/7  approval now unknown (ValidationException: " in out


def test_given_json_and_a_run_filter_when_audited_then_the_output_is_that_chain_as_json(
    tables, execution, package, capsys
):
    record_run(tables["LedgerTable"], execution, package)

    status, out, err = audit(
        capsys, "--ledger-table", tables["LedgerTable"], "--run", RUN, "--json"
    )

    assert status == 0, err
    document = json.loads(out)
    (chain,) = document["chains"]
    assert chain["execution"]["status"] == {"value": "RUNNING", "unknown": None}
    assert chain["package"]["approval"]["value"] == "PendingManualApproval"
    assert chain["gate"]["outcome"] == "rejected"


def test_given_only_old_entries_when_audited_since_a_day_then_no_chain_is_shown(
    tables, execution, package, capsys
):
    record_run(tables["LedgerTable"], execution, package, minutes_ago=3 * 24 * 60)

    status, out, _ = audit(capsys, "--ledger-table", tables["LedgerTable"], "--since", "1d")

    assert status == 0
    assert out.startswith("churn: 0 runs, 0 standalone decisions (6 ledger entries; since ")


def test_given_a_model_without_entries_when_audited_then_exit_2_with_a_message(tables, capsys):
    status, out, err = audit(capsys, "--ledger-table", tables["LedgerTable"])

    assert (status, out) == (2, "")
    assert "model churn has no ledger entries" in err


def test_given_a_table_that_does_not_exist_when_audited_then_exit_2_naming_it(aws, capsys):
    status, _, err = audit(capsys, "--ledger-table", "no-such-table")

    assert status == 2
    assert "ledger table no-such-table not found" in err


def test_given_a_region_without_the_table_when_audited_there_then_the_region_is_used(
    tables, execution, package, capsys
):
    record_run(tables["LedgerTable"], execution, package)

    status, _, err = audit(capsys, "--ledger-table", tables["LedgerTable"], "--region", "eu-west-1")

    assert status == 2
    assert "not found" in err


def test_given_more_entries_than_a_page_when_read_then_every_page_is_read(tables):
    class SmallPages:
        def __init__(self, client: Any) -> None:
            self.client = client
            self.pages = 0

        def query(self, **kwargs: Any) -> Any:
            self.pages += 1
            return self.client.query(**kwargs, Limit=2)

    record_run(tables["LedgerTable"], None, "arn:p")
    client = SmallPages(boto3.client("dynamodb", region_name=REGION))

    entries = LedgerHistory(tables["LedgerTable"], client).entries("churn")

    assert len(entries) == 6 and client.pages >= 3


# ------------------------------------------------------------------ --stack


def stack_template(machine: str) -> dict[str, Any]:
    """The template's ledger table and its outputs, as a stack moto's CloudFormation creates."""
    ledger = resources("AWS::DynamoDB::Table")["LedgerTable"]["Properties"]
    return {
        "Resources": {
            "LedgerTable": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {k: ledger[k] for k in ("AttributeDefinitions", "KeySchema")}
                | {"BillingMode": ledger["BillingMode"]},
            }
        },
        "Outputs": {
            LEDGER_OUTPUT: {"Value": {"Ref": "LedgerTable"}},
            STATE_MACHINE_OUTPUT: {"Value": machine},
        },
    }


def test_the_outputs_the_cli_reads_are_outputs_of_the_template():
    outputs = template()["Outputs"]

    assert outputs[LEDGER_OUTPUT]["Value"] == {"Ref": "LedgerTable"}
    assert outputs[STATE_MACHINE_OUTPUT]["Value"] == {"Ref": "RetrainStateMachine"}


def test_given_a_stack_when_audited_by_stack_then_its_outputs_lead_to_ledger_and_executions(
    machine, execution, package, capsys
):
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    cloudformation.create_stack(
        StackName="aiops-test", TemplateBody=json.dumps(stack_template(machine))
    )
    table = StackOutputs().outputs("aiops-test")[LEDGER_OUTPUT]
    # The trigger entry is missing: the execution is found from the stack's state machine.
    record_run(table, None, package)

    status, out, err = audit(capsys, "--stack", "aiops-test")

    assert status == 0, err
    assert f"execution   {RUN}  status RUNNING" in out
    assert execution in out


def test_given_an_unknown_stack_when_audited_then_exit_2_naming_it(aws, capsys):
    status, out, err = audit(capsys, "--stack", "no-such-stack")

    assert (status, out) == (2, "")
    assert "stack no-such-stack does not exist" in err


def test_given_an_unknown_stack_when_its_outputs_are_read_then_stack_not_found(aws):
    with pytest.raises(StackNotFound):
        StackOutputs().outputs("no-such-stack")


# ------------------------------------------------------------------ permissions


class Denied:
    def __getattr__(self, operation: str) -> Any:
        def call(**_: Any) -> Any:
            error = {"Error": {"Code": "AccessDeniedException", "Message": "not authorized"}}
            raise ClientError(error, operation)

        return call


def test_given_no_permission_when_statuses_are_read_then_they_are_unknown_with_the_reason():
    execution = ExecutionStatuses(Denied()).status("arn:aws:states:::execution:m:r")
    approval = PackageStatuses(Denied()).status("arn:aws:sagemaker:::model-package/churn/1")

    assert execution.text() == "unknown (AccessDeniedException: not authorized)"
    assert approval.text() == "unknown (AccessDeniedException: not authorized)"
