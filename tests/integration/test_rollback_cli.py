"""`aiops rollback`: a rollback by hand, offline on the deploy scenarios' clouds, recorded as the
rollback alarm's is (history, registry mark, ledger, alert)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from aiops.adapters.deploy_store import DynamoDeployStore
from aiops.adapters.ledger_store import DynamoLedger
from aiops_cli.main import main
from aiops_local.cloud import LocalCloud
from tests.integration.test_approvals_cli import MOTO_CALLER
from tests.integration.test_status_cli import STACK, a_stack, promoted
from tests.support.template import ROOT

CANARY_PROMOTED = str(ROOT / "scenarios" / "deploy_canary_promoted.yaml")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture
def at_stop(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The offline cloud as the command leaves it, read through the cloud's own clients just
    before it stops: churn-prod as SageMaker describes it, what the deploy history says serves
    it, churn's ledger and v2's registry marks."""
    seen: dict[str, Any] = {}
    stop = LocalCloud.stop

    def reading_first(cloud: LocalCloud) -> None:
        try:
            sagemaker = cloud.client("sagemaker")
            seen["endpoint"] = sagemaker.describe_endpoint(EndpointName="churn-prod")
            store = DynamoDeployStore(cloud.table("ControlTable"), cloud.client("dynamodb"))
            seen["deployed"] = store.deployed("churn-prod")
            seen["goods"] = {g.version: g for g in store.known_goods("churn-prod")}
            seen["ledger"] = cloud.ledger("churn")
            seen["v2"] = next(p for p in cloud.packages("churn") if p["ModelPackageVersion"] == 2)
        finally:
            stop(cloud)

    monkeypatch.setattr(LocalCloud, "stop", reading_first)
    return seen


def test_given_v2_promoted_when_rolled_back_as_a_dry_run_then_it_says_v2_to_v1_and_changes_nothing(
    at_stop, capsys
):
    status, out, err = run(
        capsys, "rollback", "churn", "--dry-run", "--local", CANARY_PROMOTED, "--json"
    )

    assert status == 0, err
    document = json.loads(out)
    assert (document["action"], document["from_version"], document["to_version"]) == (
        "dry_run",
        2,
        1,
    )
    v1_config = at_stop["goods"][1].endpoint_config
    assert document["reason"] == (
        f"would roll back churn-prod: v2 → v1 (EndpointConfig {v1_config}, all at once)"
    )
    assert [e for e in document["timeline"] if e["kind"] in ("decision", "notify")] == []
    # Afterwards, in the same cloud: v2 still serves, as recorded and on SageMaker.
    assert at_stop["deployed"].version == 2
    assert at_stop["endpoint"]["EndpointConfigName"] == at_stop["goods"][2].endpoint_config
    assert at_stop["goods"][2].revoked is None
    assert not any(e["action"].startswith("roll") for e in at_stop["ledger"])
    assert "aiops:rolled-back" not in (at_stop["v2"].get("CustomerMetadataProperties") or {})


def test_given_v2_promoted_when_alice_rolls_back_then_v1_serves_and_the_ledger_names_her(
    at_stop, capsys
):
    status, out, err = run(capsys, "rollback", "churn", "--as", "alice", "--local", CANARY_PROMOTED)

    assert status == 0, err
    v1_config = at_stop["goods"][1].endpoint_config
    lines = out.splitlines()
    assert lines[0] == (
        f"churn: alice: rolled back churn-prod from v2 to v1 (EndpointConfig {v1_config}, all at "
        "once); v2 is marked rolled back and is not deployed again"
    )
    assert "decision  churn: rolled_back — alice: rolled back churn-prod" in out
    assert "notify    aiops-dev-alerts: [aiops] churn: rollback on churn-prod" in out
    assert lines[-1] == f"now: churn-prod is InService on {v1_config}"
    # SageMaker serves v1's retained EndpointConfig again, all at once.
    assert at_stop["endpoint"]["EndpointConfigName"] == v1_config
    assert at_stop["endpoint"]["EndpointStatus"] == "InService"
    deployed = at_stop["deployed"]
    assert (deployed.version, deployed.how, deployed.applied) == (1, "manual_rollback", True)
    assert deployed.cause == {"via": "cli", "operator": "alice", "by": "alice", "from_version": 2}
    assert at_stop["goods"][2].revoked is not None
    (entry,) = [e for e in at_stop["ledger"] if e["action"] == "rolled_back"]
    assert entry["cause"] == {"via": "cli", "operator": "alice", "by": "alice"}
    metadata = at_stop["v2"]["CustomerMetadataProperties"]
    assert metadata["aiops:rolled-back"].endswith("after deployment: alice")


def test_given_v2_serving_when_rolled_back_to_v2_then_exit_1_it_serves_already(capsys):
    status, out, err = run(capsys, "rollback", "churn", "--to", "2", "--local", CANARY_PROMOTED)

    assert (status, out) == (1, "")
    assert "aiops rollback: churn: local-operator: v2 serves churn-prod already" in err


def test_given_v2_serving_when_rolled_back_to_v7_then_exit_1_it_never_served(at_stop, capsys):
    status, out, err = run(
        capsys, "rollback", "churn", "--to", "7", "--local", CANARY_PROMOTED, "--json"
    )

    assert status == 1
    assert json.loads(out)["action"] == "skipped"
    assert "v7 never served churn-prod as a known good version" in err
    assert at_stop["deployed"].version == 2


def test_given_a_model_the_policy_does_not_have_when_rolled_back_then_exit_2_naming_churn(capsys):
    status, out, err = run(capsys, "rollback", "fraud", "--local", CANARY_PROMOTED)

    assert (status, out) == (2, "")
    assert "model fraud is not a SageMaker model of the policy (its SageMaker models: churn)" in err


def test_given_as_on_aws_when_rolling_back_then_exit_2_before_reading_the_stack(aws, capsys):
    status, _, err = run(capsys, "rollback", "churn", "--as", "ceo", "--stack", "aiops-dev")

    assert status == 2
    assert "--as applies to --local only" in err


def test_given_version_zero_when_rolling_back_then_argparse_refuses(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["rollback", "churn", "--to", "0", "--local", CANARY_PROMOTED])

    assert exited.value.code == 2
    assert "a version number is 1 or more" in capsys.readouterr().err


# ------------------------------------------------------------------ AWS (moto): --stack
# moto has no UpdateEndpoint: on AWS the tests stop short of sending one.


def test_given_a_stack_with_v2_promoted_when_rolled_back_as_a_dry_run_then_v2_to_v1_unchanged(
    tables, capsys
):
    a_stack(tables)
    configs = promoted(tables, 1, 2)

    status, out, err = run(
        capsys, "rollback", "churn", "--dry-run", "--stack", STACK, "--region", "us-east-1"
    )

    assert status == 0, err
    assert out == (
        f"churn: would roll back churn-prod: v2 → v1 (EndpointConfig {configs[1]}, all at once)\n"
        "dry run: nothing changed\n"
    )
    deployed = DynamoDeployStore(tables["ControlTable"]).deployed("churn-prod")
    assert deployed is not None and deployed.version == 2
    assert DynamoLedger(tables["LedgerTable"]).for_model("churn") == []


def test_given_a_stack_with_nothing_deployed_when_rolled_back_then_exit_1_recorded_as_the_caller(
    tables, capsys
):
    a_stack(tables)

    status, out, err = run(capsys, "rollback", "churn", "--stack", STACK, "--region", "us-east-1")

    assert (status, out) == (1, "")
    assert (
        f"aiops rollback: churn: {MOTO_CALLER}: nothing the control plane deployed serves "
        "churn-prod; no rollback"
    ) in err
    (entry,) = DynamoLedger(tables["LedgerTable"]).for_model("churn")
    assert entry.action == "rollback_skipped"
    assert entry.cause == {"via": "cli", "operator": MOTO_CALLER, "by": MOTO_CALLER}


def test_given_an_unknown_stack_when_rolled_back_then_exit_2_naming_it(aws, capsys):
    status, out, err = run(capsys, "rollback", "churn", "--stack", "nope", "--region", "us-east-1")

    assert (status, out) == (2, "")
    assert "stack nope does not exist" in err


def test_given_an_update_sagemaker_refuses_when_rolled_back_then_exit_3_and_a_retry_completes_it(
    tables, capsys
):
    a_stack(tables)
    configs = promoted(tables, 1, 2)
    sagemaker = boto3.client("sagemaker", region_name="us-east-1")
    sagemaker.create_endpoint(EndpointName="churn-prod", EndpointConfigName=configs[2])
    stack = ("--stack", STACK, "--region", "us-east-1")

    # moto has no UpdateEndpoint: the rollback is recorded, SageMaker is not told.
    failed = run(capsys, "rollback", "churn", *stack)
    dry_run = run(capsys, "rollback", "churn", "--dry-run", *stack)
    elsewhere = run(capsys, "rollback", "churn", "--to", "2", *stack)
    again = run(capsys, "rollback", "churn", *stack)

    for status, out, err in (failed, again):
        assert (status, out) == (3, "")
        assert "the rollback of churn-prod to v1 is recorded, but SageMaker was not told: " in err
        assert "`aiops rollback churn` again completes it" in err
    deployed = DynamoDeployStore(tables["ControlTable"]).deployed("churn-prod")
    assert deployed is not None
    assert (deployed.version, deployed.applied) == (1, False)
    # A dry run says it would complete that rollback, and sends nothing.
    assert dry_run[0] == 0
    assert dry_run[1].startswith("churn: would complete the rollback of churn-prod to v1 recorded ")
    assert (
        sagemaker.describe_endpoint(EndpointName="churn-prod")["EndpointConfigName"] == (configs[2])
    )
    # Another version waits until it is complete.
    assert elsewhere[:2] == (1, "")
    assert "comes first: `aiops rollback churn` completes it" in elsewhere[2]
