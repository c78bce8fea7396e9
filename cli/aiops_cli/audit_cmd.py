"""`aiops audit MODEL`: every decision chain of a model, from its audit ledger.

    aiops audit MODEL --local SCENARIO.yaml                  [--since 7d] [--run RUN_ID] [--json]
    aiops audit MODEL --stack STACK_NAME [--region R]        [--since 7d] [--run RUN_ID] [--json]
    aiops audit MODEL --ledger-table NAME [--region R]       [--since 7d] [--run RUN_ID] [--json]

`--local` runs the scenario on a fresh offline cloud and audits what it recorded; `--stack` finds
the ledger table (and the retrain state machine) in a deployed stack's outputs. Each chain shows
the execution's status and the package's approval status as they are now, or "unknown (why)".

Exit status: 0 when the audit was printed; 2 for a bad command line, an unknown stack or table, a
model without ledger entries or an unknown run; 3 when reading the ledger itself failed.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from aiops import clock
from aiops.adapters.audit_sources import (
    ExecutionStatuses,
    LedgerHistory,
    LedgerTableNotFound,
    PackageStatuses,
    StackNotFound,
    StackOutputs,
)
from aiops.audit.chains import Audit, StatusLookup, build_audit, enrich, render, with_state_machine
from aiops.units import parse_duration

if TYPE_CHECKING:
    from aiops_local.scenario import Scenario, StepResult

EXIT_OK = 0
EXIT_INPUT = 2
EXIT_SOURCE = 3

LEDGER_OUTPUT = "LedgerTableName"
LEDGER_TABLE = "LedgerTable"  # the template's ledger (logical id), which LEDGER_OUTPUT names
STATE_MACHINE_OUTPUT = "RetrainStateMachineArn"


class AuditInputError(ValueError):
    """The command line names something that is not there: exit 2 with this message."""


def _too_long(args: argparse.Namespace) -> AuditInputError:
    return AuditInputError(f"--since: {args.since!r} is too long")


def _since(args: argparse.Namespace) -> timedelta | None:
    if args.since is None:
        return None
    try:
        return parse_duration(args.since)
    except OverflowError:
        raise _too_long(args) from None
    except ValueError as error:
        raise AuditInputError(f"--since: {error}") from None


def _audit(
    args: argparse.Namespace,
    since: timedelta | None,
    ledger: LedgerHistory,
    executions: StatusLookup,
    packages: StatusLookup,
    state_machine_arn: str | None = None,
) -> Audit:
    try:
        entries = ledger.entries(args.model)
    except LedgerTableNotFound as error:
        raise AuditInputError(str(error)) from error
    try:
        # Now on the clock the control plane reads: the offline cloud's virtual one while it runs.
        cutoff = clock.now() - since if since is not None else None
    except OverflowError:
        raise _too_long(args) from None
    audit = build_audit(args.model, entries, since=cutoff, run=args.run_id)
    if audit.entries == 0:
        raise AuditInputError(f"model {args.model} has no ledger entries")
    if args.run_id is not None and not audit.chains:
        raise AuditInputError(f"model {args.model} has no run {args.run_id} in its ledger")
    if state_machine_arn:
        audit = with_state_machine(audit, state_machine_arn)
    return enrich(audit, executions, packages)


def _stack_outputs(args: argparse.Namespace) -> tuple[str, str | None]:
    """The ledger table and the retrain state machine the stack's outputs name."""
    try:
        outputs = StackOutputs(region=args.region).outputs(args.stack)
    except StackNotFound as error:
        raise AuditInputError(str(error)) from error
    table = outputs.get(LEDGER_OUTPUT)
    if not table:
        raise AuditInputError(f"stack {args.stack} has no output {LEDGER_OUTPUT}")
    return table, outputs.get(STATE_MACHINE_OUTPUT)


def _from_aws(args: argparse.Namespace, since: timedelta | None) -> Audit:
    table, state_machine = _stack_outputs(args) if args.stack else (args.ledger_table, None)
    if not table:
        raise AuditInputError("name the ledger: --local, --stack or --ledger-table")
    return _audit(
        args,
        since,
        LedgerHistory(table, region=args.region),
        ExecutionStatuses(region=args.region),
        PackageStatuses(region=args.region),
        state_machine,
    )


def _warn(scenario: Scenario, result: StepResult) -> None:
    for failure in result.failures:
        print(
            f"aiops audit: warning: {scenario.path}: step {result.step.index}: {failure}",
            file=sys.stderr,
        )


def _from_scenario(args: argparse.Namespace, since: timedelta | None) -> Audit:
    # The offline runtime is the optional `local` extra: imported only when asked for.
    from aiops_local.scenario import ScenarioError, ScenarioRunner, cloud_for, load_scenario

    try:
        scenario = load_scenario(args.local)
        with cloud_for(scenario) as cloud:
            ScenarioRunner(scenario, cloud).run(partial(_warn, scenario))
            # Read while the cloud still runs: a waiting execution is RUNNING, not stopped.
            return _audit(
                args,
                since,
                LedgerHistory(cloud.table(LEDGER_TABLE), cloud.client("dynamodb")),
                ExecutionStatuses(cloud.client("stepfunctions")),
                PackageStatuses(cloud.client("sagemaker")),
            )
    except ScenarioError as error:
        raise AuditInputError(str(error)) from error


def audit(args: argparse.Namespace) -> int:
    read = _from_scenario if args.local is not None else _from_aws
    try:
        since = _since(args)
        if args.region is not None and args.local is not None:
            raise AuditInputError("--region applies to --stack and --ledger-table")
        result = read(args, since)
    except (AuditInputError, FileNotFoundError) as error:
        print(f"aiops audit: {error}", file=sys.stderr)
        return EXIT_INPUT
    except Exception as error:  # noqa: BLE001 - a failing source is reported, not a traceback
        print(f"aiops audit: could not read the ledger: {error}", file=sys.stderr)
        return EXIT_SOURCE
    if args.json:
        print(json.dumps(result.model_dump(mode="json"), indent=2))
    else:
        sys.stdout.write(render(result))
    return EXIT_OK


def add_audit_commands(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "audit",
        help="print a model's decision chains: event → decision → execution → package → gate",
        description="Print every decision chain of MODEL from the audit ledger, with the "
        "execution's and the model package's current status.",
    )
    parser.add_argument("model", metavar="MODEL")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--local",
        type=Path,
        metavar="SCENARIO.yaml",
        help="run the scenario on a fresh offline cloud and audit its ledger",
    )
    source.add_argument(
        "--stack",
        metavar="STACK_NAME",
        help=f"deployed stack whose outputs name the ledger ({LEDGER_OUTPUT}) "
        f"and the retrain state machine ({STATE_MACHINE_OUTPUT})",
    )
    source.add_argument("--ledger-table", metavar="NAME", help="the ledger table, directly")
    parser.add_argument("--region", help="AWS region (default: the AWS SDK's)")
    parser.add_argument(
        "--since", metavar="DURATION", help="only chains and decisions of the last 7d, 12h, …"
    )
    parser.add_argument("--run", dest="run_id", metavar="RUN_ID", help="only this run's chain")
    parser.add_argument("--json", action="store_true", help="print the audit as JSON")
    parser.set_defaults(run=audit)
