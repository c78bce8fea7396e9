"""`aiops events export`: the events a deployed control plane consumed, as JSON lines.

    aiops events export --stack STACK [--region R] [--since 30d] [--until TIME] [--out FILE]

Reads the stack's event log (template parameter EventLog enabled: the log group its output
EventLogGroupName names) with FilterLogEvents, page after page, and writes one EventBridge event
per line, sorted by the events' own time: what `aiops local replay` replays. `--since` and
`--until` take a duration back from now (30d, 12h) or an ISO 8601 time. With `--out`, the stack's
policy (PolicyStore ssm) is written beside the events as FILE.policy.yaml: the policy the replay
compares with when no `--against` is given.

Exit status: 0 exported (also when no event was logged in the period); 2 a bad command line, an
unknown stack, or a stack without its event log; 3 reading AWS failed.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiops import clock
from aiops.adapters.audit_sources import StackNotFound, StackOutputs
from aiops.adapters.event_log import EventLogNotFound, EventLogReader, PolicyParameterText
from aiops.units import parse_duration

EXIT_OK = 0
EXIT_INPUT = 2
EXIT_SOURCE = 3

EVENT_LOG_OUTPUT = "EventLogGroupName"
EVENT_LOG_PARAMETER = "EventLog"
POLICY_PARAMETER = "PolicyParameterName"
POLICY_STORE_PARAMETER = "PolicyStore"
# A month of a busy stack is tens of thousands of events; past this, narrow the period.
MAX_EVENTS = 1_000_000
# CloudWatch Logs keeps at most 10 years (the template's retention is at most a year).
MAX_PERIOD = timedelta(days=3653)


class ExportInputError(ValueError):
    """The command line names something that is not there: exit 2 with this message."""


def _moment(option: str, value: str, now: datetime) -> datetime:
    """A duration back from `now` (30d) or an ISO 8601 time."""
    text = value.strip()
    if text[:1].isdigit() and ("-" in text[1:] or "T" in text):
        try:
            when = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ExportInputError(
                f"{option}: {value!r} is not a time such as 2026-11-01T00:00:00Z"
            ) from None
        return when if when.tzinfo else when.replace(tzinfo=UTC)
    try:
        back = parse_duration(text)
    except (ValueError, OverflowError) as error:
        raise ExportInputError(
            f"{option}: {value!r} is neither a duration (30d, 12h) nor an ISO 8601 time: {error}"
        ) from None
    if back > MAX_PERIOD:
        raise ExportInputError(f"{option}: {value!r} is longer than CloudWatch Logs keeps events")
    return now - back


def _period(args: argparse.Namespace) -> tuple[datetime, datetime]:
    now = clock.now()
    since = _moment("--since", args.since, now)
    until = _moment("--until", args.until, now) if args.until is not None else now
    if since >= until:
        raise ExportInputError(f"--since ({since:%Y-%m-%dT%H:%M:%SZ}) must be before --until")
    return since, until


def _event_log(args: argparse.Namespace) -> tuple[str, dict[str, str]]:
    """The stack's event log group and its parameters; why not, when it has none."""
    try:
        outputs, parameters = StackOutputs(region=args.region).describe(args.stack)
    except StackNotFound as error:
        raise ExportInputError(str(error)) from error
    group = outputs.get(EVENT_LOG_OUTPUT)
    if group:
        return group, parameters
    setting = parameters.get(EVENT_LOG_PARAMETER)
    if setting is None:
        raise ExportInputError(
            f"stack {args.stack} has no event log: its template has no {EVENT_LOG_PARAMETER} "
            "parameter (deploy this project's template with EventLog=enabled)"
        )
    raise ExportInputError(
        f"stack {args.stack} has the event log disabled ({EVENT_LOG_PARAMETER}={setting}): "
        f"deploy it with --parameter-overrides {EVENT_LOG_PARAMETER}=enabled; events are "
        "recorded from then on"
    )


def _sort_key(logged: Any) -> tuple[str, int]:
    return (str(logged.event.get("time", "")), logged.timestamp_ms)


def export(args: argparse.Namespace) -> int:
    try:
        since, until = _period(args)
        group, parameters = _event_log(args)
        reader = EventLogReader(group, region=args.region)
        logged = []
        for event in reader.events(since, until):
            logged.append(event)
            if len(logged) > MAX_EVENTS:
                raise ExportInputError(
                    f"more than {MAX_EVENTS} events from {since:%Y-%m-%dT%H:%M:%SZ} to "
                    f"{until:%Y-%m-%dT%H:%M:%SZ}: export a shorter period (--since/--until)"
                )
    except ExportInputError as error:
        print(f"aiops events export: {error}", file=sys.stderr)
        return EXIT_INPUT
    except EventLogNotFound as error:
        print(f"aiops events export: stack {args.stack}: {error}", file=sys.stderr)
        return EXIT_INPUT
    except Exception as error:  # noqa: BLE001 - a failing source is reported, not a traceback
        print(f"aiops events export: could not read the event log: {error}", file=sys.stderr)
        return EXIT_SOURCE
    logged.sort(key=_sort_key)
    lines = "".join(json.dumps(e.event, separators=(",", ":")) + "\n" for e in logged)
    if args.out is None:
        sys.stdout.write(lines)
    else:
        args.out.write_text(lines, encoding="utf-8")
    where = str(args.out) if args.out is not None else "stdout"
    print(
        f"aiops events export: {len(logged)} events from {group} "
        f"({since:%Y-%m-%dT%H:%M:%SZ} to {until:%Y-%m-%dT%H:%M:%SZ}) to {where}",
        file=sys.stderr,
    )
    if reader.unreadable:
        print(
            f"aiops events export: warning: {reader.unreadable} log events of {group} are not "
            "EventBridge events: left out",
            file=sys.stderr,
        )
    if args.out is not None:
        _export_policy(args, parameters)
    return EXIT_OK


def _export_policy(args: argparse.Namespace, parameters: dict[str, str]) -> None:
    """The stack's policy beside the events, for the replay's comparison; a note when not."""
    sidecar = args.out.with_name(args.out.name + ".policy.yaml")
    store = parameters.get(POLICY_STORE_PARAMETER, "ssm")
    name = parameters.get(POLICY_PARAMETER)
    if store != "ssm" or not name:
        print(
            f"aiops events export: the stack's policy (PolicyStore {store}) is not exported: "
            "give `aiops local replay` the policy the events ran under with --against",
            file=sys.stderr,
        )
        return
    try:
        text = PolicyParameterText(region=args.region).text(name)
    except Exception as error:  # noqa: BLE001 - the events are exported; the policy is a help
        print(
            f"aiops events export: the stack's policy ({name}) is not exported: {error}",
            file=sys.stderr,
        )
        return
    sidecar.write_text(text, encoding="utf-8")
    print(f"aiops events export: the stack's policy ({name}) to {sidecar}", file=sys.stderr)


def add_events_commands(subparsers: argparse._SubParsersAction) -> None:
    events = subparsers.add_parser(
        "events", help="the events a deployed control plane consumed (its event log)"
    )
    commands = events.add_subparsers(dest="events_command", required=True)
    parser = commands.add_parser(
        "export",
        help="write the stack's logged events as JSON lines, sorted by time",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--stack", required=True, metavar="STACK_NAME", help="deployed stack")
    parser.add_argument("--region", help="AWS region (default: the AWS SDK's)")
    parser.add_argument(
        "--since",
        default="30d",
        metavar="DURATION|TIME",
        help="from this long ago (30d, 12h) or this time (default: 30d)",
    )
    parser.add_argument(
        "--until",
        default=None,
        metavar="DURATION|TIME",
        help="up to this long ago or this time (default: now)",
    )
    parser.add_argument(
        "--out", type=Path, default=None, metavar="FILE", help="write here (default: stdout)"
    )
    parser.set_defaults(run=export)
