"""`aiops approvals`, `aiops approve`, `aiops reject`: human approvals from a terminal.

    aiops approvals [MODEL] [--all]                SOURCE [--json]
    aiops approve MODEL [VERSION] --comment TEXT   SOURCE [--json] [--as NAME]
    aiops reject  MODEL [VERSION] --comment TEXT   SOURCE [--json] [--as NAME]

    SOURCE: --local SCENARIO.yaml
          | --stack STACK_NAME [--region R]
          | --control-table NAME [--region R]

`--stack` finds the control table in the stack's outputs (ControlTableName). On AWS a decision is
recorded under the caller's identity (the ARN STS GetCallerIdentity returns); `--as` is refused
there, since anyone could claim any name. `--local` runs the scenario on a fresh offline cloud,
lists or decides there (`--as` names the decider, default local-operator), lets the approval
workflow close, and shows the registry and the ledger afterwards.

Without a VERSION, `approve` and `reject` decide the model's one pending approval. Without a
MODEL, `approvals` lists every model that has approvals (a Scan of the control table for keys
beginning APPROVAL#: it needs nothing but the table, where the policy's model names would need
the policy parameter too).

Exit status: 0 listed or decided (an empty list included); 1 the decision lost — someone decided
first, or the approval expired (who, how and when is printed); 2 a bad command line, an unknown
stack, table or model, or nothing pending to decide; 3 AWS or the offline runtime failed (also
when the decision was recorded but the waiting workflow could not be told).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiops import clock
from aiops.adapters.approval_store import DynamoApprovalStore
from aiops.adapters.audit_sources import StackNotFound, StackOutputs
from aiops.adapters.aws import client as default_client
from aiops.adapters.aws import error_code
from aiops.adapters.dynamodb import Table
from aiops.approval.operator import (
    ApprovalRow,
    CliDecision,
    DecisionNotResumed,
    OperatorError,
    decide_from_cli,
    pending_approvals,
)
from aiops.approval.ports import ApprovalStore, TaskResumer
from aiops.approval.stage import EVERYONE, DecisionDependencies, describe

if TYPE_CHECKING:
    from aiops_local.cloud import LocalCloud
    from aiops_local.scenario import Scenario, StepResult

EXIT_OK = 0
EXIT_LOST = 1
EXIT_INPUT = 2
EXIT_SOURCE = 3

CONTROL_TABLE_OUTPUT = "ControlTableName"
CONTROL_TABLE = "ControlTable"  # the template's control table (logical id)
LOCAL_OPERATOR = "local-operator"
APPROVAL_PREFIX = "APPROVAL#"


class CommandError(ValueError):
    """The command line names something that is not there: exit 2 with this message."""


class Lost(Exception):
    """The decision lost (exit 1); carries what to print."""

    def __init__(self, document: dict[str, Any], message: str) -> None:
        super().__init__(message)
        self.document = document
        self.message = message


@dataclass
class Source:
    """Where the approvals are, and what else there is to show after a decision."""

    store: ApprovalStore
    table: Table
    resumer: TaskResumer
    identity: Callable[[], str]
    cloud: LocalCloud | None = None


# ------------------------------------------------------------------ AWS


def _resumer(client: Any) -> TaskResumer:
    # Imported when used: importing the adapters' observability module at the command's start
    # would make Powertools' logger and metrics before `--local` sets the handlers' environment.
    from aiops.adapters.stepfunctions import StepFunctionsResumer

    return StepFunctionsResumer(client)


def approval_models(table: Table) -> list[str]:
    """Every model with an approval item (the keys only: no task token is read)."""
    models: set[str] = set()
    request: dict[str, Any] = {
        "TableName": table.name,
        "ConsistentRead": True,
        "FilterExpression": "begins_with(pk, :p)",
        "ProjectionExpression": "pk",
        "ExpressionAttributeValues": {":p": {"S": APPROVAL_PREFIX}},
    }
    while True:
        response = table.client.scan(**request)
        models.update(item["pk"]["S"][len(APPROVAL_PREFIX) :] for item in response.get("Items", []))
        last = response.get("LastEvaluatedKey")
        if not last:
            return sorted(models)
        request["ExclusiveStartKey"] = last


def _client(service: str, region: str | None) -> Any:
    if region is None:
        return default_client(service)
    import boto3  # deferred, as in aiops.adapters.aws

    return boto3.client(service, region_name=region)


def _caller_arn(region: str | None) -> str:
    return str(_client("sts", region).get_caller_identity()["Arn"])


def _control_table(args: argparse.Namespace) -> str:
    if args.control_table:
        return str(args.control_table)
    try:
        return StackOutputs(region=args.region).required(args.stack, CONTROL_TABLE_OUTPUT)
    except StackNotFound as error:
        raise CommandError(str(error)) from error


@contextmanager
def _aws(args: argparse.Namespace) -> Iterator[Source]:
    if getattr(args, "as_name", None) is not None:
        raise CommandError(
            "--as applies to --local only: on AWS the decision is recorded under your AWS "
            "identity (STS GetCallerIdentity)"
        )
    name = _control_table(args)
    dynamodb = _client("dynamodb", args.region)
    yield Source(
        store=DynamoApprovalStore(name, dynamodb),
        table=Table(name, dynamodb),
        resumer=_resumer(_client("stepfunctions", args.region)),
        identity=partial(_caller_arn, args.region),
    )


def _warn(command: str, scenario: Scenario, result: StepResult) -> None:
    for failure in result.failures:
        print(
            f"aiops {command}: warning: {scenario.path}: step {result.step.index}: {failure}",
            file=sys.stderr,
        )


@contextmanager
def _local(args: argparse.Namespace) -> Iterator[Source]:
    # The offline runtime is the optional `local` extra: imported only when asked for.
    from aiops_local.scenario import ScenarioError, ScenarioRunner, cloud_for, load_scenario

    try:
        scenario = load_scenario(args.local)
        with cloud_for(scenario) as cloud:
            ScenarioRunner(scenario, cloud).run(partial(_warn, args.command, scenario))
            name = cloud.table(CONTROL_TABLE)
            dynamodb = cloud.client("dynamodb")
            named = getattr(args, "as_name", None)
            decider = LOCAL_OPERATOR if named is None else str(named)
            yield Source(
                store=DynamoApprovalStore(name, dynamodb),
                table=Table(name, dynamodb),
                resumer=_resumer(cloud.client("stepfunctions")),
                identity=lambda: decider,
                cloud=cloud,
            )
    except ScenarioError as error:
        raise CommandError(str(error)) from error


def _source(args: argparse.Namespace) -> AbstractContextManager[Source]:
    if args.local is not None:
        if args.region is not None:
            raise CommandError("--region applies to --stack and --control-table")
        return _local(args)
    return _aws(args)


def _missing_table(error: Exception, source: Source) -> CommandError | None:
    if error_code(error) == "ResourceNotFoundException":
        return CommandError(f"control table {source.table.name} not found")
    return None


# ------------------------------------------------------------------ human output


SPAN_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


def _span(seconds: int) -> str:
    """A duration as its two largest units: 3d, 2d 4h, 17m, 45s."""
    seconds = abs(seconds)
    for index, (unit, size) in enumerate(SPAN_UNITS):
        if seconds >= size or unit == "s":
            text = f"{seconds // size}{unit}"
            if index + 1 < len(SPAN_UNITS):
                smaller, smaller_size = SPAN_UNITS[index + 1]
                rest = seconds % size // smaller_size
                text += f" {rest}{smaller}" if rest else ""
            return text
    return "0s"


def _when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"


def _expires(row: ApprovalRow) -> str:
    if row.status != "pending":
        return "closed"
    if row.expires_in_seconds <= 0:
        return f"expired {_span(row.expires_in_seconds)} ago"
    return _span(row.expires_in_seconds)


def _metric(row: ApprovalRow) -> str:
    metric = row.metric
    champion = (
        f"{_number(metric.champion)} (champion v{metric.champion_version})"
        if metric.champion_version is not None
        else "— (no champion)"
    )
    return f"{metric.name} {_number(metric.candidate)} vs {champion}"


def _link(state: str, sent_at: datetime | None, used_at: datetime | None) -> str:
    if state == "used" and used_at is not None:
        return f"used {_when(used_at)}"
    if state == "sent" and sent_at is not None:
        return f"sent {_when(sent_at)}"
    if state == "expired" and sent_at is not None:
        return f"expired (sent {_when(sent_at)})"
    return state


def _approvers(row: ApprovalRow) -> str:
    return "; ".join(
        f"{'everyone subscribed (no link)' if link.approver == EVERYONE else link.approver}: "
        + _link(link.state, link.sent_at, link.used_at)
        for link in row.approvers
    )


def render_rows(rows: list[ApprovalRow]) -> str:
    header = ("MODEL", "VERSION", "STATUS", "AGE", "EXPIRES IN", "GATE METRIC", "APPROVERS")
    table = [header] + [
        (
            r.model,
            f"v{r.version}",
            r.status.value,
            _span(r.age_seconds),
            _expires(r),
            _metric(r),
            _approvers(r),
        )
        for r in rows
    ]
    widths = [max(len(line[i]) for line in table) for i in range(len(header) - 1)]
    lines = []
    for index, line in enumerate(table):
        cells = [cell.ljust(width) for cell, width in zip(line, widths, strict=False)]
        lines.append("  ".join([*cells, line[-1]]).rstrip())
        row = rows[index - 1] if index else None
        if row is not None and row.decision is not None:
            lines.append(f"  └ {describe(row.decision)} ({_when(row.decision.at)})")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ the commands


def _list(args: argparse.Namespace, source: Source) -> tuple[int, dict[str, Any], str]:
    now = clock.now()
    models = [args.model] if args.model else approval_models(source.table)
    rows = pending_approvals(source.store, models, now, include_closed=args.all)
    document = {
        "now": now.isoformat(),
        "approvals": [r.model_dump(mode="json") for r in rows],
    }
    if rows:
        text = render_rows(rows)
    else:
        which = "approvals" if args.all else "pending approvals"
        text = f"no {which}" + (f" of {args.model}" if args.model else "") + "\n"
    return EXIT_OK, document, text


def _registry(cloud: LocalCloud, row: ApprovalRow) -> dict[str, Any] | None:
    for package in cloud.packages(row.package_group):
        if package.get("ModelPackageArn") == row.package_arn:
            return {
                "package_arn": row.package_arn,
                "status": package.get("ModelApprovalStatus"),
                "description": package.get("ApprovalDescription", ""),
            }
    return None


def _after_locally(source: Source, result: CliDecision, seen: set[str]) -> dict[str, Any]:
    """Let the offline approval workflow close, then what it changed: the package's status and
    the model's new ledger entries."""
    cloud = source.cloud
    assert cloud is not None
    cloud.run_until_quiet()
    current = source.store.get(result.approval.model, result.approval.version)
    ledger = [e for e in cloud.ledger(result.approval.model) if str(e.get("seq")) not in seen]
    return {
        "status_after": current.status.value if current else None,
        "registry": _registry(cloud, result.approval),
        "ledger": [
            {k: e.get(k) for k in ("at", "action", "reason", "cause") if k in e} for e in ledger
        ],
    }


def _render_after(after: dict[str, Any]) -> str:
    lines = []
    registry = after.get("registry")
    if registry is not None:
        description = f" — {registry['description']}" if registry["description"] else ""
        lines.append(f"registry: {registry['package_arn']}  {registry['status']}{description}")
    for entry in after.get("ledger", []):
        via = (entry.get("cause") or {}).get("via")
        suffix = f" (via {via})" if via else ""
        lines.append(f"ledger:   {entry.get('action')}: {entry.get('reason')}{suffix}")
    return "".join(line + "\n" for line in lines)


def _decide(args: argparse.Namespace, source: Source) -> tuple[int, dict[str, Any], str]:
    by = source.identity()
    deps = DecisionDependencies(store=source.store, resumer=source.resumer)
    seen = (
        {str(e.get("seq")) for e in source.cloud.ledger(args.model)}
        if source.cloud is not None
        else set()
    )
    result = decide_from_cli(
        deps, args.model, args.version, args.command == "approve", by, args.comment, clock.now()
    )
    document: dict[str, Any] = result.model_dump(mode="json")
    approval = result.approval
    if source.cloud is not None:
        document |= _after_locally(source, result, seen)
    if not result.won:
        raise Lost(document, result.message)
    text = f"{approval.model} v{approval.version}: {result.message}\n"
    if source.cloud is not None:
        text += _render_after(document)
    else:
        text += (
            "The approval workflow applies it to the model registry and records it in the ledger "
            f"(see `aiops audit {approval.model}`).\n"
        )
    return EXIT_OK, document, text


def _run(args: argparse.Namespace, act: Callable[..., tuple[int, dict[str, Any], str]]) -> int:
    command = args.command
    try:
        with _source(args) as source:
            try:
                status, document, text = act(args, source)
            except Exception as error:
                missing = _missing_table(error, source)
                if missing is not None:
                    raise missing from error
                raise
    except Lost as lost:
        if args.json:
            print(json.dumps(lost.document, indent=2))
        print(f"aiops {command}: {lost.message}", file=sys.stderr)
        return EXIT_LOST
    except (CommandError, OperatorError, FileNotFoundError) as error:
        print(f"aiops {command}: {error}", file=sys.stderr)
        return EXIT_INPUT
    except DecisionNotResumed as error:
        approval = error.approval
        print(
            f"aiops {command}: your decision on {approval.model} v{approval.version} was recorded "
            f"({describe(approval.decision) if approval.decision else approval.status.value}), "
            f"but the approval workflow could not be told: {error.error}. It takes effect when "
            f"the workflow next looks, at the latest at {_when(approval.expires_at)}; "
            f"`aiops {command} {approval.model} {approval.version} --comment …` tells it again "
            "(and says the approval is already decided).",
            file=sys.stderr,
        )
        return EXIT_SOURCE
    except Exception as error:  # noqa: BLE001 - a failing source is reported, not a traceback
        print(f"aiops {command}: failed: {error}", file=sys.stderr)
        return EXIT_SOURCE
    if args.json:
        print(json.dumps(document, indent=2))
    else:
        sys.stdout.write(text)
    return status


def approvals(args: argparse.Namespace) -> int:
    return _run(args, _list)


def decide(args: argparse.Namespace) -> int:
    return _run(args, _decide)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a version number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("a version number is 1 or more")
    return value


def _add_source(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--local",
        type=Path,
        metavar="SCENARIO.yaml",
        help="run the scenario on a fresh offline cloud and act on its approvals",
    )
    source.add_argument(
        "--stack",
        metavar="STACK_NAME",
        help=f"deployed stack whose outputs name the control table ({CONTROL_TABLE_OUTPUT})",
    )
    source.add_argument("--control-table", metavar="NAME", help="the control table, directly")
    parser.add_argument("--region", help="AWS region (default: the AWS SDK's)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")


def add_approval_commands(subparsers: argparse._SubParsersAction) -> None:
    listing = subparsers.add_parser(
        "approvals",
        help="list pending human approvals: age, expiry, approvers' links, gate metric",
        description="List the pending approvals of MODEL (or of every model), with how long "
        "they have waited, when they expire, each approver's link and the gate's metric.",
    )
    listing.add_argument(
        "model", metavar="MODEL", nargs="?", help="only this model (default: every model)"
    )
    listing.add_argument(
        "--all", action="store_true", help="closed approvals too, with their decision"
    )
    _add_source(listing)
    listing.set_defaults(run=approvals)
    for command, verb in (("approve", "approve"), ("reject", "reject")):
        parser = subparsers.add_parser(
            command,
            help=f"{verb} a model's pending candidate (first decision wins)",
            description=f"{verb.capitalize()} MODEL's pending approval (VERSION: that one). "
            "The first decision wins, whether taken here, on the approval page or in Studio.",
        )
        parser.add_argument("model", metavar="MODEL", help="the model, as the policy names it")
        parser.add_argument(
            "version",
            metavar="VERSION",
            nargs="?",
            type=_positive,
            help="the candidate's version (default: the model's one pending approval)",
        )
        parser.add_argument(
            "--comment",
            required=True,
            metavar="TEXT",
            help="why (one line, at most 500 characters; it goes into the registry and ledger)",
        )
        parser.add_argument(
            "--as",
            dest="as_name",
            metavar="NAME",
            help=f"--local only: who decides (default {LOCAL_OPERATOR}); on AWS it is your "
            "AWS identity",
        )
        _add_source(parser)
        parser.set_defaults(run=decide)
