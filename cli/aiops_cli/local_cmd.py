"""`aiops local send|run|serve`: the control plane on an embedded AWS, with its timeline.

    aiops local send [--policy FILE] [--json] EVENT.json...
    aiops local run [--json] SCENARIO.yaml
    aiops local serve [--host HOST] [--port PORT] SCENARIO.yaml

Exit status: 0 when the runtime ran (a handler rejecting an event is a timeline entry, not a
failure; `serve` stopped with Ctrl-C); 1 when a scenario's `expect` failed; 2 for a bad command
line, event or scenario file (or a port `serve` cannot listen on); 3 when the runtime itself failed.

What the runtime's own libraries log (moto, botocore, the SAM translator) goes to a file,
`--runtime-log` (default .aiops-local/runtime.log), named at the end when something was written.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import traceback
from pathlib import Path
from typing import Any, TextIO

from aiops_cli.replay_cmd import add_replay_command
from aiops_local.cloud import LocalCloud, RuntimeStuck
from aiops_local.http_api import HttpApiError, HttpResponse, local_links
from aiops_local.http_api import serve as serve_http_api
from aiops_local.logcapture import RUNTIME_LOG, RuntimeLog
from aiops_local.scenario import (
    Scenario,
    ScenarioError,
    ScenarioRunner,
    Step,
    StepResult,
    find_project_file,
    load_events,
    load_scenario,
)
from aiops_local.timeline import Story, render, summary

EXIT_OK = 0
EXIT_EXPECTATION = 1
EXIT_INPUT = 2
EXIT_RUNTIME = 3


class _Printer:
    """Prints the timeline as it grows, to the real stdout (handlers' output is captured)."""

    def __init__(self, cloud: LocalCloud, stream: TextIO, as_json: bool, show_api: bool) -> None:
        self.cloud = cloud
        self.stream = stream
        self.as_json = as_json
        self.show_api = show_api
        self._printed = 0
        self._story = Story(show_api)

    def flush(self) -> None:
        entries = self.cloud.timeline.entries(self._printed)
        self._printed += len(entries)
        render(entries, self.stream, self.as_json, self.show_api, story=self._story)

    def close(self) -> None:
        self.flush()
        self.note(summary(self.cloud.timeline.entries()))

    def note(self, text: str) -> None:
        if not self.as_json:
            self.stream.write(text + "\n")
            self.stream.flush()


def _warn(cloud: LocalCloud) -> None:
    for warning in cloud.warnings:
        print(f"aiops local: warning: {warning}", file=sys.stderr)


def _runtime_failure(error: BaseException, log: RuntimeLog | None = None) -> int:
    print(f"aiops local: the offline runtime failed: {error}", file=sys.stderr)
    if not isinstance(error, RuntimeStuck):
        traceback.print_exc(file=sys.stderr)
    if log is not None and log.records:
        print(f"aiops local: {log.note()}", file=sys.stderr)
    return EXIT_RUNTIME


def _note_runtime_log(log: RuntimeLog, as_json: bool) -> None:
    """Name the runtime log once, at the end, when the libraries wrote to it (with --json, on
    stderr: stdout holds only timeline entries)."""
    if log.records:
        print(log.note(), file=sys.stderr if as_json else sys.stdout)


def send(args: argparse.Namespace) -> int:
    try:
        batches = [(path, load_events(path)) for path in args.events]
    except ScenarioError as error:
        print(f"aiops local send: {error}", file=sys.stderr)
        return EXIT_INPUT
    stdout = sys.stdout
    log = RuntimeLog(args.runtime_log)
    try:
        with log, LocalCloud(args.template, policy=args.policy) as cloud:
            _warn(cloud)
            printer = _Printer(cloud, stdout, args.json, not args.no_api)
            for path, events in batches:
                printer.note(f"── {path}")
                for event in events:
                    cloud.send_event(event)
                    cloud.run_until_quiet()
                printer.flush()
            printer.close()
    except (FileNotFoundError, ValueError) as error:
        print(f"aiops local send: {error}", file=sys.stderr)
        return EXIT_INPUT
    except Exception as error:  # noqa: BLE001 - the runtime failing is reported, not a crash
        return _runtime_failure(error, log)
    _note_runtime_log(log, args.json)
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    try:
        scenario = load_scenario(args.scenario)
    except ScenarioError as error:
        print(f"aiops local run: {error}", file=sys.stderr)
        return EXIT_INPUT
    failed: StepResult | None = None
    log = RuntimeLog(args.runtime_log)
    try:
        with log, _cloud(args, scenario) as cloud:
            printer = _Printer(cloud, sys.stdout, args.json, not args.no_api)
            failed = _play(scenario, cloud, printer)
            printer.close()
    except ScenarioError as error:
        print(f"aiops local run: {error}", file=sys.stderr)
        return EXIT_INPUT
    except (FileNotFoundError, ValueError) as error:
        print(f"aiops local run: {error}", file=sys.stderr)
        return EXIT_INPUT
    except Exception as error:  # noqa: BLE001 - the runtime failing is reported, not a crash
        return _runtime_failure(error, log)
    _note_runtime_log(log, args.json)
    if failed is not None:
        return _expectation_failed(scenario.path, failed, "run")
    return EXIT_OK


def serve(args: argparse.Namespace, stop: threading.Event | None = None) -> int:
    """Run the scenario, then serve the cloud's HTTP API on HOST:PORT until Ctrl-C (or `stop`)."""
    try:
        scenario = load_scenario(args.scenario)
        claims = _claims(args.claims)
    except ScenarioError as error:
        print(f"aiops local serve: {error}", file=sys.stderr)
        return EXIT_INPUT
    stopping = stop or threading.Event()
    stdout = sys.stdout
    # With --json stdout holds only timeline entries; what serve says goes to stderr.
    said = sys.stderr if args.json else stdout
    log = RuntimeLog(args.runtime_log)
    try:
        with log, _cloud(args, scenario) as cloud:
            printer = _Printer(cloud, stdout, args.json, not args.no_api)
            failed = _play(scenario, cloud, printer)
            if failed is not None:
                return _expectation_failed(scenario.path, failed, "serve")
            endpoint = cloud.http_endpoint(args.api)
            shown: set[str] = set()

            def show_links(base_url: str) -> None:
                for subject, url in local_links(
                    cloud.timeline.entries(), endpoint, base_url, "/approvals/"
                ):
                    if url not in shown:
                        shown.add(url)
                        _say(said, f"   link: {url}  ({subject})")

            def after_request(response: HttpResponse) -> None:
                printer.flush()
                show_links(base_url)

            try:
                server = serve_http_api(
                    cloud,
                    args.host,
                    args.port,
                    api=args.api,
                    claims=claims,
                    on_request=after_request,
                )
            except OSError as error:
                print(
                    f"aiops local serve: cannot listen on {args.host}:{args.port}: {error}",
                    file=sys.stderr,
                )
                return EXIT_INPUT
            base_url = server.url
            with server:
                _say(said, f"serving {endpoint} on {base_url} (Ctrl-C stops)")
                with server.lock:
                    show_links(base_url)
                    if not shown:
                        _say(said, "   no approval links in the notifications yet")
                try:
                    while not stopping.wait(0.5):
                        pass
                except KeyboardInterrupt:
                    _say(said, "stopping")
            printer.close()
    except ScenarioError as error:
        print(f"aiops local serve: {error}", file=sys.stderr)
        return EXIT_INPUT
    except (FileNotFoundError, ValueError, HttpApiError) as error:
        # HttpApiError: the template has no HTTP API to serve (or not the one named).
        print(f"aiops local serve: {error}", file=sys.stderr)
        return EXIT_INPUT
    except Exception as error:  # noqa: BLE001 - the runtime failing is reported, not a crash
        return _runtime_failure(error, log)
    _note_runtime_log(log, args.json)
    return EXIT_OK


def _cloud(args: argparse.Namespace, scenario: Scenario) -> LocalCloud:
    """The scenario's cloud, with the command line's --template and --policy if given."""
    return LocalCloud(
        args.template or scenario.template,
        policy=args.policy or scenario.policy,
        start=scenario.start,
        simulators=scenario.simulators,
    )


def _play(scenario: Scenario, cloud: LocalCloud, printer: _Printer) -> StepResult | None:
    """Run the scenario's steps, printing the timeline as they go; the first failed step."""
    _warn(cloud)
    printer.note(
        f"scenario {scenario.name}" + (f": {scenario.description}" if scenario.description else "")
    )
    failed: list[StepResult] = []

    def before(step: Step) -> None:
        printer.note(f"── step {step.index}: {step.describe()}")

    def after(result: StepResult) -> None:
        printer.flush()
        if result.failures:
            failed.append(result)
        elif result.step.kind == "expect":
            printer.note("   expectations hold")

    ScenarioRunner(scenario, cloud, on_step=before).run(after)
    return failed[0] if failed else None


def _say(stream: TextIO, text: str) -> None:
    stream.write(text + "\n")
    stream.flush()


def _claims(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        claims = json.loads(text)
    except ValueError as error:
        raise ScenarioError(f"--claims: not JSON: {error}") from error
    if not isinstance(claims, dict):
        raise ScenarioError('--claims: a JSON object of claims, such as {"email": "a@b.c"}')
    return claims


def _expectation_failed(path: Path, result: StepResult, command: str) -> int:
    print(
        f"aiops local {command}: {path}: step {result.step.index} "
        f"({result.step.describe()}) failed:",
        file=sys.stderr,
    )
    for failure in result.failures:
        print(f"  {failure}", file=sys.stderr)
    return EXIT_EXPECTATION


def _common(parser: argparse.ArgumentParser, default_template: Any) -> None:
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the timeline as JSON lines (one object per entry)",
    )
    parser.add_argument(
        "--policy",
        type=Path,
        default=None,
        help="policy file to load into the SSM parameter (default: policies/default.yaml)",
    )
    parser.add_argument(
        "--template",
        type=Path,
        default=default_template,
        help="SAM template (default: template.yaml of this project)",
    )
    parser.add_argument(
        "--no-api",
        action="store_true",
        help="leave AWS API calls out of the human-readable timeline",
    )
    parser.add_argument(
        "--runtime-log",
        type=Path,
        default=RUNTIME_LOG,
        metavar="FILE",
        help="where the runtime's own libraries' log goes (moto, botocore; not the timeline), "
        f"overwritten each run (default: {RUNTIME_LOG})",
    )


def add_local_commands(subparsers: argparse._SubParsersAction) -> None:
    local = subparsers.add_parser(
        "local", help="run the control plane offline on an embedded AWS (moto)"
    )
    commands = local.add_subparsers(dest="local_command", required=True)

    send_cmd = commands.add_parser(
        "send",
        help="put events on a fresh offline cloud's bus, run until quiet, print the timeline",
    )
    _common(send_cmd, None)
    send_cmd.add_argument("events", nargs="+", type=Path, metavar="EVENT.json")
    send_cmd.set_defaults(run=lambda args: send(_with_template(args)))

    run_cmd = commands.add_parser(
        "run", help="run a scenario (steps and expectations; see scenarios/README.md)"
    )
    _common(run_cmd, None)
    run_cmd.add_argument("scenario", type=Path, metavar="SCENARIO.yaml")
    run_cmd.set_defaults(run=run)

    serve_cmd = commands.add_parser(
        "serve",
        help="run a scenario, then serve the template's HTTP API on localhost until Ctrl-C",
    )
    _common(serve_cmd, None)
    serve_cmd.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve_cmd.add_argument(
        "--port", type=int, default=8080, help="port to listen on (0: any free port)"
    )
    serve_cmd.add_argument(
        "--api", default=None, help="logical id of the HTTP API to serve, when there are several"
    )
    serve_cmd.add_argument(
        "--claims",
        default=None,
        metavar="JSON",
        help="JWT claims every request carries, as if signed in (JSON object)",
    )
    serve_cmd.add_argument("scenario", type=Path, metavar="SCENARIO.yaml")
    serve_cmd.set_defaults(run=serve)

    add_replay_command(commands)


def _with_template(args: argparse.Namespace) -> argparse.Namespace:
    if args.template is None:
        args.template = find_project_file("template.yaml")
    return args
