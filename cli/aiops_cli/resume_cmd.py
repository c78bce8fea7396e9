"""`aiops resume MODEL`: undo what cost remediation did to a model, by hand.

    aiops resume MODEL --local SCENARIO.yaml [--as NAME]  [--json]
    aiops resume MODEL --stack STACK_NAME [--region R]    [--json]

The model's trigger pause is lifted (whoever set it: a cost anomaly, a spend alarm, an operator;
expired or not) and each endpoint variant a scale-down shrank gets its saved capacity back (and
its auto scaling bounds). It is recorded as a spend alarm's resume is — `triggers_resumed` and
`capacity_restored` ledger entries, an alert — with `{"via": "cli", "operator": WHO}` as its
cause, and an `aiops.cost` "Model Triggers Resumed" event tells the window sweeps, which start
at once what the pause held (a full data window, a labels threshold reached). WHO is the caller's
AWS identity (STS GetCallerIdentity) on AWS, `--as NAME` offline (default local-operator). Any
model of the policy, SageMaker or Bedrock, may be resumed.

`--stack` reads the stack's outputs (ControlTableName, LedgerTableName, AlertsTopicArn) and the
policy from the SSM parameter its PolicyParameterName parameter names. `--local` runs the
scenario on a fresh offline cloud, resumes there, lets the cloud run until quiet and prints the
timeline that followed.

Exit status: 0 resumed (a pause lifted or a capacity restored); 1 nothing to resume (nothing
paused or scaled down, or an endpoint not in service yet; the reason on stderr); 2 a bad command
line, an unknown stack or model; 3 AWS or the offline runtime failed.
"""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiops import clock
from aiops.cost.model import ResumeResult
from aiops.policy import Policy
from aiops_cli.approvals_cmd import LOCAL_OPERATOR, CommandError, _when
from aiops_cli.status_cmd import (
    ALERTS_TOPIC_OUTPUT,
    DeploySource,
    PauseView,
    add_deploy_source,
    deploy_source,
    pause_view,
    render_timeline,
    settle_locally,
)

if TYPE_CHECKING:
    from aiops.cost.remediation import ResumeDependencies

EXIT_OK = 0
EXIT_NOTHING = 1
EXIT_INPUT = 2
EXIT_SOURCE = 3


class ResumeFailed(RuntimeError):
    """AWS failed part-way; the message says what had been done (exit 3)."""


def policy_model(policy: Policy, model: str) -> None:
    """`CommandError` naming the policy's models unless `model` is one (of either kind)."""
    if model not in policy.models:
        known = ", ".join(sorted(policy.models)) or "none"
        raise CommandError(f"model {model} is not a model of the policy (its models: {known})")


def resume_dependencies(source: DeploySource, stack: str | None) -> ResumeDependencies:
    """What `resume` acts through (`Stack.resume`, the cost function's composition root), on
    this source's clients."""
    if not source.alerts_topic_arn:
        # A resume is alerted: without the topic it would fail after lifting the pause.
        where = f"stack {stack}" if stack else "the scenario's template"
        raise CommandError(f"{where} has no output {ALERTS_TOPIC_OUTPUT}")
    # Imported when used, as for deploy: the handlers' environment comes first offline.
    from aiops.adapters.stack import Stack
    from aiops.settings import Settings

    settings = Settings(
        policy_parameter=source.policy_parameter,
        control_table=source.control_table,
        ledger_table=source.ledger_table,
        alerts_topic_arn=source.alerts_topic_arn,
    )
    return Stack(settings, clients=source.client).resume


@dataclass(frozen=True)
class Resumed:
    result: ResumeResult
    by: str
    pause: PauseView | None

    @property
    def nothing(self) -> bool:
        return not self.result.lifted and not self.result.restored

    def document(self) -> dict[str, Any]:
        return {
            "model": self.result.model,
            "by": self.by,
            "lifted": self.result.lifted,
            "pause": self.pause.model_dump(mode="json") if self.pause else None,
            "restored": [v.model_dump(mode="json") for v in self.result.restored],
            "still_scaled_down": [v.model_dump(mode="json") for v in self.result.still_scaled_down],
            "dropped": [v.model_dump(mode="json") for v in self.result.dropped],
            "reason": self.result.reason,
        }


def _acting(source: DeploySource) -> Any:
    """Offline, the command's AWS calls are the control plane's: its ledger entries, alert and
    event show in the timeline like a function's."""
    if source.cloud is None:
        return nullcontext()
    from aiops_local.actors import Actor, acting_as

    return acting_as(Actor("function", "aiops resume"))


def _resume(args: argparse.Namespace, source: DeploySource) -> Resumed:
    from aiops.cost.remediation import ResumeIncomplete, resume

    deps = resume_dependencies(source, args.stack)
    who = source.identity()
    now = clock.now()
    try:
        with _acting(source):
            result = resume(
                args.model,
                source.policy,
                deps,
                now,
                by=who,
                cause={"via": "cli", "operator": who},
            )
    except ResumeIncomplete as error:
        raise ResumeFailed(
            f"{args.model}: {error}. `aiops status {args.model}` shows what is left; "
            f"`aiops resume {args.model}` again restores it"
        ) from error
    return Resumed(result=result, by=who, pause=pause_view(result.pause, now))


def _pause_text(pause: PauseView) -> str:
    until = _when(pause.until) if pause.until else "resumed"
    expired = " (expired)" if pause.expired else ""
    return (
        f"pause by {pause.owner} since {_when(pause.since)} until {until}{expired}: {pause.reason}"
    )


def render(resumed: Resumed) -> str:
    model = resumed.result.model
    rows: list[tuple[str, str]] = [
        ("lifted", _pause_text(resumed.pause) if resumed.pause else "no pause"),
    ]
    result = resumed.result
    rows += [("restored", v.describe()) for v in result.restored]
    if not (result.restored or result.still_scaled_down or result.dropped):
        rows.append(("restored", "no capacity was saved: nothing to restore"))
    rows += [
        (
            "not yet",
            f"{v.describe()}: its endpoint is not in service; `aiops resume {model}` again "
            "restores it",
        )
        for v in result.still_scaled_down
    ]
    rows += [("dropped", f"{v.describe()}: its endpoint is gone") for v in result.dropped]
    return f"{model}: resumed by {resumed.by}\n" + "".join(f"  {k + ':':<10}{v}\n" for k, v in rows)


def resume_command(args: argparse.Namespace) -> int:
    command = args.command
    try:
        with deploy_source(args, lambda policy: policy_model(policy, args.model)) as source:
            since = len(source.cloud.timeline) if source.cloud is not None else 0
            resumed = _resume(args, source)
            document = resumed.document()
            timeline: list[dict[str, Any]] | None = None
            if source.cloud is not None:
                timeline = settle_locally(source, since)
                document["timeline"] = timeline
    except (CommandError, FileNotFoundError) as error:
        print(f"aiops {command}: {error}", file=sys.stderr)
        return EXIT_INPUT
    except ResumeFailed as error:
        print(f"aiops {command}: {error}", file=sys.stderr)
        return EXIT_SOURCE
    except Exception as error:  # noqa: BLE001 - a failing source is reported, not a traceback
        print(f"aiops {command}: failed: {error}", file=sys.stderr)
        return EXIT_SOURCE
    if args.json:
        print(json.dumps(document, indent=2))
    elif not resumed.nothing:
        sys.stdout.write(render(resumed))
    if resumed.nothing:
        print(f"aiops {command}: {resumed.result.reason}", file=sys.stderr)
    if timeline is not None and not args.json:
        sys.stdout.write(render_timeline(timeline))
    return EXIT_NOTHING if resumed.nothing else EXIT_OK


def add_resume_commands(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "resume",
        help="undo a model's cost remediation: lift its trigger pause, restore its capacity",
        description="Lift MODEL's trigger pause (whoever set it) and restore the endpoint "
        "capacity a cost scale-down saved; recorded (ledger, alert) with you as its cause. The "
        "window sweeps then start what the pause held.",
    )
    parser.add_argument("model", metavar="MODEL", help="the model, as the policy names it")
    parser.add_argument(
        "--as",
        dest="as_name",
        metavar="NAME",
        help=f"--local only: who resumes (default {LOCAL_OPERATOR}); on AWS it is your "
        "AWS identity",
    )
    add_deploy_source(parser, "run the scenario on a fresh offline cloud and resume there")
    parser.set_defaults(run=resume_command)
