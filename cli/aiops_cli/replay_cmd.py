"""`aiops local replay`: what a new policy would have decided on recorded events.

    aiops local replay --policy NEW.yaml [--against OLD.yaml] [--model M] [--json] EVENTS...

EVENTS are files of recorded events: JSON lines of EventBridge events (`aiops events export`,
or an archive of your own), a JSON file of one event or an array of them, or an
`aiops local run --json` timeline. Each policy replays them on a fresh offline cloud, at the
events' own times; the decisions that differ are printed as `model  time  old → new  (reason)`,
then a summary (`--json`: one JSON document). Without `--against` the old policy is the one
exported with the events (FILE.policy.yaml beside an events file), else the project's
policies/default.yaml; the output says which. See `aiops_local.replay` for what is replayed and
how, and for what a replay cannot know.

Exit status, as diff(1): 0 the policies decide alike on these events; 1 some decisions differ;
2 a bad command line, events file or policy (nothing replayed); 3 the offline runtime failed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any, TextIO

from aiops.units import format_duration

EXIT_SAME = 0
EXIT_DIFFERENT = 1
EXIT_INPUT = 2
EXIT_RUNTIME = 3


def replay(args: argparse.Namespace) -> int:
    from aiops_local.recorded import RecordingError, read_recordings
    from aiops_local.replay import (
        PolicyChoice,
        ReplayError,
        load_policy,
        plan_replay,
        recorded_policy,
        run_policies,
    )
    from aiops_local.scenario import find_project_file
    from aiops_local.template import TemplateError

    template = args.template or find_project_file("template.yaml")
    try:
        recording = read_recordings(list(args.events))
        new = load_policy(args.policy, "given")
        old = _old_policy(args, load_policy, recorded_policy, find_project_file)
        if args.model is not None and not any(args.model in c.policy.models for c in (old, new)):
            raise ReplayError(f"--model {args.model}: no such model in either policy")
        plan = plan_replay(recording, template)
    except (RecordingError, ReplayError, TemplateError, FileNotFoundError) as error:
        print(f"aiops local replay: {error}", file=sys.stderr)
        return EXIT_INPUT
    choices: list[PolicyChoice] = [old, new]
    workers = 2 if (os.cpu_count() or 1) > 1 and not args.one_at_a_time else 1
    try:
        old_run, new_run = run_policies(plan, choices, workers)
    except Exception as error:  # noqa: BLE001 - the runtime failing is reported, not a crash
        print(f"aiops local replay: the offline runtime failed: {error}", file=sys.stderr)
        traceback.print_exc(file=sys.stderr)
        return EXIT_RUNTIME
    report = Report(plan, old, new, old_run, new_run, args.model)
    if args.json:
        sys.stdout.write(json.dumps(report.document(), indent=2) + "\n")
    else:
        report.print(sys.stdout)
    return EXIT_DIFFERENT if report.differences else EXIT_SAME


def _old_policy(args: argparse.Namespace, load: Any, recorded: Any, find: Any) -> Any:
    if args.against is not None:
        return load(args.against, "given")
    exported = recorded(args.events)
    if exported is not None:
        return load(exported, "recorded")
    return load(find("policies/default.yaml"), "default")


_ORIGIN = {
    "given": "",
    "recorded": "the stack's policy, exported with the events",
    "default": "the project default: the policy the events ran under is not known",
}


class Report:
    """What `aiops local replay` says, as text or as one JSON document."""

    def __init__(
        self, plan: Any, old: Any, new: Any, old_run: Any, new_run: Any, model: str | None
    ) -> None:
        from aiops_local.replay import compare, content_limits, tail_after

        self.plan = plan
        self.old, self.new = old, new
        self.old_run, self.new_run = old_run, new_run
        self.model = model
        old_decisions = [d for d in old_run.decisions if model is None or d.model == model]
        new_decisions = [d for d in new_run.decisions if model is None or d.model == model]
        self.counts = {
            "old": sum(1 for d in old_decisions if d.kind == "ledger"),
            "new": sum(1 for d in new_decisions if d.kind == "ledger"),
        }
        self.differences = compare(old_decisions, new_decisions)
        self.limits = content_limits(plan)
        self.tail = tail_after([old.policy, new.policy])
        self.warnings = sorted(set(old_run.warnings) | set(new_run.warnings))
        self.errors = {"old": old_run.errors, "new": new_run.errors}

    # ------------------------------------------------------------------ text
    def print(self, out: TextIO) -> None:
        from aiops_local.replay import describe, utc

        plan = self.plan
        out.write(
            f"replay of {len(plan.events)} recorded events, {utc(plan.start)} to {utc(plan.end)}"
            + (f", stage {plan.stage}" if plan.stage else "")
            + "\n"
        )
        for note in plan.notes:
            out.write(f"  {note}\n")
        out.write(
            f"  {len(plan.replayed)} replayed ({len(plan.without_content)} without their "
            f"content), {sum(plan.skipped.values())} skipped\n"
        )
        for why, count in plan.skipped.most_common():
            out.write(f"    {count} skipped: {why}\n")
        for label, choice in (("old", self.old), ("new", self.new)):
            origin = _ORIGIN[choice.origin]
            out.write(f"  {label}: {choice.path}" + (f" ({origin})" if origin else "") + "\n")
        out.write(
            "  simulated jobs (pipelines, fine-tunes, evaluations, deployments) run with the "
            "offline simulators' defaults, not the recorded outcomes; no person answers an "
            f"approval; each run goes on {format_duration(self.tail)} after the last event\n"
        )
        if plan.without_content:
            out.write(
                "replayed without their content (the comparison cannot show what it decides):\n"
            )
            for event in plan.without_content:
                out.write(f"  {describe(event)} — without {event.why}\n")
            for limit in self.limits:
                out.write(f"  limit: {limit}\n")
        for warning in self.warnings:
            out.write(f"  warning: {warning}\n")
        out.write("\n")
        if self.differences:
            width = max(len(d.model or "—") for d in self.differences)
            for difference in self.differences:
                out.write(_line(difference, width) + "\n")
            out.write("\n")
        else:
            out.write("no decision differs\n\n")
        scope = f" for {self.model}" if self.model else ""
        out.write(
            f"summary: {len(plan.events)} events read, {len(plan.replayed)} replayed "
            f"({len(plan.without_content)} without their content); ledger decisions{scope}: "
            f"{self.counts['old']} under the old policy, {self.counts['new']} under the new; "
            f"{len(self.differences)} differ\n"
        )

    # ------------------------------------------------------------------ JSON
    def document(self) -> dict[str, Any]:
        from aiops_local.replay import utc

        plan = self.plan
        return {
            "events": {
                "read": len(plan.events),
                "replayed": len(plan.replayed),
                "without_content": len(plan.without_content),
                "skipped": dict(plan.skipped.most_common()),
                "first": utc(plan.start),
                "last": utc(plan.end),
            },
            "stage": plan.stage,
            "recorded_in": plan.recorded_in,
            "notes": plan.notes,
            "policies": {
                label: {"path": str(choice.path), "origin": choice.origin}
                for label, choice in (("old", self.old), ("new", self.new))
            },
            "model": self.model,
            "after_last_event": format_duration(self.tail),
            "simulators": "defaults",
            "decisions": self.counts,
            "differences": [d.document() for d in self.differences],
            "without_content": [
                {
                    "event": event.id,
                    "time": utc(event.recorded.time),
                    "source": event.recorded.source,
                    "detail_type": event.recorded.detail_type,
                    "where": event.recorded.where,
                    "missing": event.why,
                }
                for event in plan.without_content
            ],
            "limits": self.limits,
            "warnings": self.warnings,
            "errors": self.errors,
        }


def _line(difference: Any, width: int) -> str:
    old = difference.old.action if difference.old else "—"
    new = difference.new.action if difference.new else "—"
    mark = "  [without content]" if difference.without_content else ""
    return (
        f"{(difference.model or '—'):<{width}}  {difference.time}  {old} → {new}  "
        f"({difference.reason}){mark}"
    )


def add_replay_command(commands: argparse._SubParsersAction) -> None:
    """`aiops local replay`, under `aiops local`."""
    parser = commands.add_parser(
        "replay",
        help="replay recorded events under a new policy and an old one; print the decisions "
        "that differ",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--policy", type=Path, required=True, metavar="NEW.yaml", help="the new policy"
    )
    parser.add_argument(
        "--against",
        type=Path,
        default=None,
        metavar="OLD.yaml",
        help="the old policy (default: the one exported with the events, else "
        "policies/default.yaml)",
    )
    parser.add_argument(
        "--model", default=None, help="only the decisions of this model (the replay is whole)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument(
        "--template",
        type=Path,
        default=None,
        help="SAM template (default: template.yaml of this project)",
    )
    parser.add_argument(
        "--one-at-a-time",
        action="store_true",
        help="run the two policies one after the other in this process, not side by side",
    )
    parser.add_argument("events", nargs="+", type=Path, metavar="EVENTS")
    parser.set_defaults(run=replay)
