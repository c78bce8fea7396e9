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
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from aiops import clock
from aiops.audit import Audit, StatusLookup, build_audit, enrich, render, with_state_machine
from aiops.ledger import LedgerEntry
from aiops.units import parse_duration

EXIT_OK = 0
EXIT_INPUT = 2
EXIT_SOURCE = 3

LEDGER_OUTPUT = "LedgerTableName"
STATE_MACHINE_OUTPUT = "RetrainStateMachineArn"


class AuditInputError(ValueError):
    """The command line names something that is not there: exit 2 with this message."""


class _Source:
    """What an audit reads: the ledger entries, `now` for `--since`, and the status lookups."""

    def __init__(
        self,
        entries: list[LedgerEntry],
        now: datetime,
        executions: StatusLookup | None,
        packages: StatusLookup | None,
        state_machine_arn: str | None = None,
    ) -> None:
        self.entries = entries
        self.now = now
        self.executions = executions
        self.packages = packages
        self.state_machine_arn = state_machine_arn


def _audit(args: argparse.Namespace, since: timedelta | None, source: _Source) -> Audit:
    audit = build_audit(
        args.model,
        source.entries,
        since=source.now - since if since is not None else None,
        run=args.run_id,
    )
    if audit.entries == 0:
        raise AuditInputError(f"model {args.model} has no ledger entries")
    if args.run_id is not None and not audit.chains:
        raise AuditInputError(f"model {args.model} has no run {args.run_id} in its ledger")
    if source.state_machine_arn:
        audit = with_state_machine(audit, source.state_machine_arn)
    return enrich(audit, source.executions, source.packages)


def _from_aws(args: argparse.Namespace, since: timedelta | None) -> Audit:
    from aiops.adapters.audit_sources import (
        ExecutionStatuses,
        LedgerHistory,
        LedgerTableNotFound,
        PackageStatuses,
        StackNotFound,
        StackOutputs,
    )

    table: str | None = args.ledger_table
    state_machine: str | None = None
    if args.stack:
        try:
            outputs = StackOutputs(region=args.region).outputs(args.stack)
        except StackNotFound as error:
            raise AuditInputError(str(error)) from error
        table = outputs.get(LEDGER_OUTPUT)
        if not table:
            raise AuditInputError(f"stack {args.stack} has no output {LEDGER_OUTPUT}")
        state_machine = outputs.get(STATE_MACHINE_OUTPUT)
    if not table:
        raise AuditInputError("name the ledger: --local, --stack or --ledger-table")
    try:
        entries = LedgerHistory(table, region=args.region).entries(args.model)
    except LedgerTableNotFound as error:
        raise AuditInputError(str(error)) from error
    source = _Source(
        entries,
        clock.now(),
        ExecutionStatuses(region=args.region),
        PackageStatuses(region=args.region),
        state_machine,
    )
    return _audit(args, since, source)


def _from_scenario(args: argparse.Namespace, since: timedelta | None) -> Audit:
    # The offline runtime is the optional `local` extra: imported only when asked for.
    from aiops.adapters.audit_sources import ExecutionStatuses, PackageStatuses
    from aiops_local.cloud import LocalCloud
    from aiops_local.scenario import ScenarioError, ScenarioRunner, load_scenario

    try:
        scenario = load_scenario(args.local)
    except ScenarioError as error:
        raise AuditInputError(str(error)) from error
    try:
        with LocalCloud(
            scenario.template,
            policy=scenario.policy,
            start=scenario.start,
            simulators=scenario.simulators,
        ) as cloud:
            results = ScenarioRunner(scenario, cloud).run()
            for result in results:
                for failure in result.failures:
                    print(
                        f"aiops audit: warning: {scenario.path}: step {result.step.index}: "
                        f"{failure}",
                        file=sys.stderr,
                    )
            entries = [LedgerEntry.model_validate(item) for item in cloud.ledger(args.model)]
            # Looked up while the cloud still runs: a waiting execution is RUNNING, not stopped.
            source = _Source(
                entries,
                cloud.clock.now(),
                ExecutionStatuses(cloud.client("stepfunctions")),
                PackageStatuses(cloud.client("sagemaker")),
            )
            return _audit(args, since, source)
    except ScenarioError as error:
        raise AuditInputError(str(error)) from error


def audit(args: argparse.Namespace) -> int:
    since: timedelta | None = None
    if args.since is not None:
        try:
            since = parse_duration(args.since)
        except ValueError as error:
            print(f"aiops audit: --since: {error}", file=sys.stderr)
            return EXIT_INPUT
    if args.region is not None and args.local is not None:
        print("aiops audit: --region applies to --stack and --ledger-table", file=sys.stderr)
        return EXIT_INPUT
    read: Callable[[argparse.Namespace, timedelta | None], Audit] = (
        _from_scenario if args.local is not None else _from_aws
    )
    try:
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
