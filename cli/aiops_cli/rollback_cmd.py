"""`aiops rollback MODEL`: roll a model's endpoint back by hand, as its rollback alarm would.

    aiops rollback MODEL [--to VERSION] [--dry-run] --local SCENARIO.yaml [--as NAME] [--json]
    aiops rollback MODEL [--to VERSION] [--dry-run] --stack STACK_NAME [--region R]  [--json]

The endpoint goes back to the last known good version before the one serving (or VERSION, a
known good that was not rolled back itself): UpdateEndpoint, all at once, to that version's
retained EndpointConfig (a Bedrock model: its custom model deployment, or serving parameter,
gets that version's custom model back, behind the same ARN). It is recorded as the alarm's
rollback is — the endpoint's history
(`manual_rollback`), the rolled-back version revoked as a known good and marked in the registry,
a `rolled_back` ledger entry, an alert — with `{"via": "cli", "operator": WHO}` as its cause.
WHO is the caller's AWS identity (STS GetCallerIdentity) on AWS, `--as NAME` offline (default
local-operator). `--dry-run` says what it would do and changes nothing, the ledger included.

`--stack` reads the stack's outputs (ControlTableName, LedgerTableName, AlertsTopicArn,
DeployStateMachineArn) and the policy from the SSM parameter its PolicyParameterName parameter
names. `--local` runs the scenario on a fresh offline cloud, rolls back there, lets the cloud run
until quiet and prints the timeline that followed.

Exit status: 0 rolled back (or would be, with --dry-run); 1 refused or skipped (a deployment is
in progress, no earlier known good, VERSION never served or was rolled back, the EndpointConfig
is gone; the reason on stderr); 2 a bad command line, an unknown stack or model; 3 AWS or the
offline runtime failed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from contextlib import nullcontext
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aiops import clock
from aiops.deploy.model import Deployed
from aiops.deploy.rollback import RollbackDecision, roll_back, rollback_pending
from aiops.policy import BedrockModelPolicy, Policy
from aiops_cli.approvals_cmd import LOCAL_OPERATOR, CommandError, _positive
from aiops_cli.status_cmd import (
    ALERTS_TOPIC_OUTPUT,
    DeploySource,
    EndpointState,
    _endpoint_state,
    add_deploy_source,
    deploy_models,
    deploy_source,
    render_timeline,
    serving_state,
    settle_locally,
)

if TYPE_CHECKING:
    from aiops.deploy.dependencies import DeployDependencies

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_INPUT = 2
EXIT_SOURCE = 3


class NotApplied(RuntimeError):
    """The rollback was recorded but SageMaker was not told; running the command again
    completes it."""


def _acting(source: DeploySource) -> Any:
    """Offline, the command's AWS calls are the control plane's: its ledger entry and alert
    show in the timeline like a function's."""
    if source.cloud is None:
        return nullcontext()
    from aiops_local.actors import Actor, acting_as

    return acting_as(Actor("function", "aiops rollback"))


def _recorded(
    args: argparse.Namespace, endpoint: str, current: Deployed
) -> RollbackDecision | None:
    """A rollback recorded but not sent to SageMaker: `roll_back` completes it whatever it is
    asked — even on a dry run (UpdateEndpoint, the package's mark) and whichever --to. Said here
    instead, or refused when --to names another version."""
    replaced = current.cause.get("from_version")
    recorded = (
        f"the rollback of {endpoint} to v{current.version} recorded "
        f"{current.since:%Y-%m-%d %H:%M} UTC (EndpointConfig {current.endpoint_config}, all at "
        "once), which SageMaker was not told of"
    )
    common = {
        "model": args.model,
        "from_version": replaced if isinstance(replaced, int) else None,
        "to_version": current.version,
    }
    if args.to is not None and args.to != current.version:
        return RollbackDecision(
            action="skipped",
            reason=f"{recorded}, comes first: `aiops rollback {args.model}` completes it",
            **common,
        )
    if args.dry_run:
        return RollbackDecision(action="dry_run", reason=f"would complete {recorded}", **common)
    return None


def _decide(args: argparse.Namespace, source: DeploySource) -> RollbackDecision:
    if not source.alerts_topic_arn and not args.dry_run:
        # A rollback is alerted: without the topic it would fail after changing the endpoint.
        raise CommandError(f"stack {args.stack} has no output {ALERTS_TOPIC_OUTPUT}")
    who = source.identity()
    now = clock.now()
    deps = source.deploy_dependencies()
    if isinstance(source.policy.models.get(args.model), BedrockModelPolicy):
        # A Bedrock model: its custom model swapped back (`roll_back` completes a recorded, not
        # yet applied rollback itself, and only says so on a dry run).
        def unapplied() -> str | None:
            served = source.serving_store.served(args.model)
            if served is None or not rollback_pending(served):
                return None
            return f"the rollback of {args.model} to v{served.version} is recorded, but not applied"

        return _roll_back_by_hand(args, source, deps, who, now, unapplied)
    endpoint = source.policy.sagemaker_model(args.model).deploy.endpoint
    current = deps.history.deployed(endpoint)
    if current is not None and rollback_pending(current):
        said = _recorded(args, endpoint, current)
        if said is not None:
            return said

    def unsent() -> str | None:
        after = deps.history.deployed(endpoint)
        if after is None or not rollback_pending(after):
            return None
        return (
            f"the rollback of {endpoint} to v{after.version} is recorded, but SageMaker was not "
            "told"
        )

    return _roll_back_by_hand(args, source, deps, who, now, unsent)


def _roll_back_by_hand(
    args: argparse.Namespace,
    source: DeploySource,
    deps: DeployDependencies,
    who: str,
    now: datetime,
    recorded_unapplied: Callable[[], str | None],
) -> RollbackDecision:
    """`roll_back` as `who` (a manual rollback). A failure after the rollback was recorded
    (`recorded_unapplied` says so, or None) is `NotApplied`: the command again completes it."""
    try:
        with _acting(source):
            return roll_back(
                args.model,
                source.policy,
                deps,
                now,
                by=who,
                cause={"via": "cli", "operator": who},
                manual=True,
                to_version=args.to,
                dry_run=args.dry_run,
            )
    except Exception as error:
        if args.dry_run:
            raise
        try:
            recorded = recorded_unapplied()
        except Exception:  # noqa: BLE001 - the first error is the one to report
            raise error from None
        if recorded is not None:
            raise NotApplied(
                f"{recorded}: {error}. `aiops rollback {args.model}` again completes it"
            ) from error
        raise


def _after_locally(source: DeploySource, model: str, since: int) -> dict[str, Any]:
    """Let the offline cloud run until quiet; the timeline entries that followed (AWS calls
    left out) and the endpoint as SageMaker describes it then."""
    entries = settle_locally(source, since)
    served = source.serving_store.served(model)
    if isinstance(source.policy.models.get(model), BedrockModelPolicy) and served is not None:
        serving = serving_state(source, served.serving, served.target)
        return {
            "timeline": entries,
            "serving": {"name": served.target, **serving.model_dump(mode="json")},
        }
    endpoint = source.policy.sagemaker_model(model).deploy.endpoint
    state: EndpointState = _endpoint_state(source, endpoint)
    return {"timeline": entries, "endpoint": {"name": endpoint, **state.model_dump(mode="json")}}


def _render(decision: RollbackDecision, args: argparse.Namespace, policy: Policy) -> str:
    text = f"{decision.model}: {decision.reason}\n"
    if decision.action == "dry_run":
        if args.dry_run:
            text += "dry run: nothing changed\n"
        elif policy.model(decision.model).dry_run:
            text += "the policy's dry_run is set for this model: nothing changed\n"
    return text


def rollback(args: argparse.Namespace) -> int:
    command = args.command
    try:
        with deploy_source(args, lambda policy: deploy_models(policy, args.model)) as source:
            since = len(source.cloud.timeline) if source.cloud is not None else 0
            decision = _decide(args, source)
            document: dict[str, Any] = decision.model_dump(mode="json")
            after: dict[str, Any] | None = None
            if source.cloud is not None:
                after = _after_locally(source, args.model, since)
                document |= after
            policy = source.policy
    except (CommandError, FileNotFoundError) as error:
        print(f"aiops {command}: {error}", file=sys.stderr)
        return EXIT_INPUT
    except NotApplied as error:
        print(f"aiops {command}: {error}", file=sys.stderr)
        return EXIT_SOURCE
    except Exception as error:  # noqa: BLE001 - a failing source is reported, not a traceback
        print(f"aiops {command}: failed: {error}", file=sys.stderr)
        return EXIT_SOURCE
    refused = decision.action not in ("rolled_back", "dry_run")
    if args.json:
        print(json.dumps(document, indent=2))
    elif not refused:
        sys.stdout.write(_render(decision, args, policy))
    if refused:
        print(f"aiops {command}: {decision.model}: {decision.reason}", file=sys.stderr)
    if after is not None and not args.json:
        # What followed (a refusal may have recorded a skip); the endpoint when it was acted on.
        sys.stdout.write(render_timeline(after["timeline"]))
    if after is not None and not args.json and not refused and "serving" in after:
        serving = after["serving"]
        sys.stdout.write(f"now: {serving['name']} serves {serving.get('model_arn')}\n")
    elif after is not None and not args.json and not refused:
        state = after["endpoint"]
        described = (
            f"{state['status']} on {state['endpoint_config']}"
            if state.get("status")
            else f"unknown ({state.get('error')})"
        )
        sys.stdout.write(f"now: {state['name']} is {described}\n")
    return EXIT_REFUSED if refused else EXIT_OK


def add_rollback_commands(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "rollback",
        help="roll a model's endpoint back to its last known good version (as its alarm would)",
        description="Roll MODEL's endpoint back to the last known good version before the one "
        "serving (or --to VERSION): all at once, to that version's retained EndpointConfig, "
        "recorded as a manual rollback (history, registry mark, ledger, alert).",
    )
    parser.add_argument("model", metavar="MODEL", help="the model, as the policy names it")
    parser.add_argument(
        "--to",
        metavar="VERSION",
        type=_positive,
        help="this known good version (default: the last known good before the one serving)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="say what would be done; change nothing"
    )
    parser.add_argument(
        "--as",
        dest="as_name",
        metavar="NAME",
        help=f"--local only: who rolls back (default {LOCAL_OPERATOR}); on AWS it is your "
        "AWS identity",
    )
    add_deploy_source(parser, "run the scenario on a fresh offline cloud and roll back there")
    parser.set_defaults(run=rollback)
