"""`aiops status [MODEL]`: what each SageMaker model's endpoint serves, and what is under way.

    aiops status [MODEL] --local SCENARIO.yaml            [--json]
    aiops status [MODEL] --stack STACK_NAME [--region R]  [--json]

Per SageMaker model of the policy (or MODEL alone): the version deployed on its endpoint (since
when, how — created, canary, linear, all_at_once, rollback, manual_rollback — and a rollback's
cause), the endpoint as SageMaker describes it, the last known good and the other known goods
(revoked ones with why), the deployment in flight and the one waiting, pending approvals, the
locks (the model's run lock, the endpoint's deploy lock) and the last retrain run. Any model
(Bedrock ones too) whose triggers a cost action paused, or whose endpoint it scaled down, shows
that pause (owner, reason, since, until) and the capacity kept to restore: `aiops resume` lifts it.

`--stack` reads the stack's outputs (ControlTableName, LedgerTableName) and the policy from the
SSM parameter its PolicyParameterName parameter names. `--local` runs the scenario on a fresh
offline cloud and reads its state at the end. Nothing is written; no task token is read.

Exit status: 0 printed; 2 a bad command line, an unknown stack or model; 3 AWS or the offline
runtime failed.

The source (`DeploySource`) is shared with `aiops rollback` and `aiops resume`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ConfigDict

from aiops import clock
from aiops.adapters.approval_store import DynamoApprovalStore
from aiops.adapters.audit_sources import StackNotFound, StackOutputs
from aiops.adapters.aws import error_code
from aiops.adapters.bedrock_serving import (
    BedrockCustomModelDeployments,
    DynamoServingStore,
    SsmServingParameters,
)
from aiops.adapters.cost import DynamoSavedCapacities
from aiops.adapters.deploy_store import DynamoDeployStore
from aiops.adapters.dynamodb import Table, from_item, to_item, to_values
from aiops.adapters.ledger_store import DynamoLedger
from aiops.adapters.pause_store import DynamoPauseStore
from aiops.adapters.policy_source import AppConfigPolicySource, SsmPolicySource
from aiops.adapters.sagemaker_endpoints import SageMakerEndpoints
from aiops.approval.model import ApprovalStatus
from aiops.approval.operator import approval_row
from aiops.cost.model import VariantCapacity
from aiops.deploy.bedrock import serving_target
from aiops.deploy.model import (
    Deployed,
    Deployment,
    DeploymentRequest,
    How,
    KnownGood,
    Served,
    ServedGood,
    ServingChange,
    ServingHow,
)
from aiops.ledger import LedgerAction
from aiops.pauses import Pause
from aiops.policy import (
    BedrockModelPolicy,
    Policy,
    PolicyError,
    SageMakerModelPolicy,
    parse_policy,
)
from aiops_cli.approvals_cmd import (
    LOCAL_OPERATOR,
    CommandError,
    _caller_arn,
    _client,
    _span,
    _warn,
    _when,
)

if TYPE_CHECKING:
    from aiops.deploy.dependencies import DeployDependencies
    from aiops_local.cloud import LocalCloud

EXIT_OK = 0
EXIT_INPUT = 2
EXIT_SOURCE = 3

CONTROL_TABLE_OUTPUT = "ControlTableName"
LEDGER_TABLE_OUTPUT = "LedgerTableName"
ALERTS_TOPIC_OUTPUT = "AlertsTopicArn"
DEPLOY_STATE_MACHINE_OUTPUT = "DeployStateMachineArn"
POLICY_PARAMETER = "PolicyParameterName"  # a stack parameter (no output names it)
MODEL_ROLE_PARAMETER = "ModelExecutionRoleArn"
# The template's resources (logical ids), as the offline cloud names them.
CONTROL_TABLE = "ControlTable"
LEDGER_TABLE = "LedgerTable"
ALERTS_TOPIC = "AlertsTopic"
DEPLOY_STATE_MACHINE = "DeployStateMachine"

RUN_ACTIONS = (LedgerAction.RUN_STARTED, LedgerAction.RUN_SUCCEEDED, LedgerAction.RUN_FAILED)


# ------------------------------------------------------------------ the source


@dataclass
class DeploySource:
    """The deployed (or offline) stack as the deploy commands read it: names, clients, policy."""

    policy: Policy
    control_table: str
    ledger_table: str
    client: Callable[[str], Any]
    identity: Callable[[], str]
    # Where the stack keeps its policy (the commands read `policy` above; the stack's settings
    # name it all the same).
    policy_parameter: str = "/aiops/policy"
    alerts_topic_arn: str = ""
    deploy_state_machine_arn: str = ""
    model_execution_role_arn: str = ""
    cloud: LocalCloud | None = None
    _store: DynamoDeployStore | None = field(default=None, repr=False)

    @property
    def store(self) -> DynamoDeployStore:
        if self._store is None:
            self._store = DynamoDeployStore(self.control_table, self.client("dynamodb"))
        return self._store

    @property
    def serving_store(self) -> DynamoServingStore:
        return DynamoServingStore(self.control_table, self.client("dynamodb"))

    @property
    def custom_model_deployments(self) -> BedrockCustomModelDeployments:
        return BedrockCustomModelDeployments(self.client("bedrock"))

    @property
    def serving_parameters(self) -> SsmServingParameters:
        return SsmServingParameters(self.client("ssm"))

    @property
    def ledger(self) -> DynamoLedger:
        return DynamoLedger(self.ledger_table, self.client("dynamodb"))

    @property
    def approvals(self) -> DynamoApprovalStore:
        return DynamoApprovalStore(self.control_table, self.client("dynamodb"))

    @property
    def endpoints(self) -> SageMakerEndpoints:
        return SageMakerEndpoints(self.model_execution_role_arn, self.client("sagemaker"))

    @property
    def pauses(self) -> DynamoPauseStore:
        return DynamoPauseStore(self.control_table, self.client("dynamodb"))

    @property
    def saved_capacities(self) -> DynamoSavedCapacities:
        return DynamoSavedCapacities(self.control_table, self.client("dynamodb"))

    def deploy_dependencies(self) -> DeployDependencies:
        """What the deploy functions act through (`Stack.deploy`, their composition root), on
        this source's clients."""
        # Imported when used: the Step Functions adapters import the observability module,
        # whose Powertools logger and metrics must not exist before `--local` sets the
        # handlers' environment.
        from aiops.adapters.stack import Stack
        from aiops.settings import Settings

        settings = Settings(
            policy_parameter=self.policy_parameter,
            control_table=self.control_table,
            ledger_table=self.ledger_table,
            alerts_topic_arn=self.alerts_topic_arn or None,
            deploy_state_machine_arn=self.deploy_state_machine_arn or None,
            model_execution_role_arn=self.model_execution_role_arn,
        )
        return Stack(settings, clients=self.client).deploy


def sagemaker_models(policy: Policy, model: str | None) -> dict[str, SageMakerModelPolicy]:
    """The policy's SageMaker models, or `model` alone; `CommandError` naming them otherwise."""
    models = policy.sagemaker_models()
    if model is None:
        return models
    if model not in models:
        known = ", ".join(sorted(models)) or "none"
        raise CommandError(
            f"model {model} is not a SageMaker model of the policy (its SageMaker models: {known})"
        )
    return {model: models[model]}


def deploy_models(
    policy: Policy, model: str | None
) -> dict[str, SageMakerModelPolicy | BedrockModelPolicy]:
    """The policy's SageMaker and Bedrock models, or `model` alone (either kind)."""
    bedrock = policy.bedrock_models()
    if model is not None and model in bedrock:
        return {model: bedrock[model]}
    found: dict[str, SageMakerModelPolicy | BedrockModelPolicy] = dict(
        sagemaker_models(policy, model)
    )
    if model is None:
        found.update(bedrock)
    return found


def _parse(text: str, where: str) -> Policy:
    try:
        return parse_policy(text, source=where)
    except PolicyError as error:
        raise CommandError(str(error)) from error


@contextmanager
def local_source(
    args: argparse.Namespace, check: Callable[[Policy], object]
) -> Iterator[DeploySource]:
    """The scenario run on a fresh offline cloud; `check` sees the policy before it runs, so a
    bad command line costs no scenario."""
    # The offline runtime is the optional `local` extra: imported only when asked for.
    from aiops_local.scenario import ScenarioError, ScenarioRunner, cloud_for, load_scenario

    try:
        scenario = load_scenario(args.local)
        cloud = cloud_for(scenario)
        policy = _parse(cloud.policy.text, str(scenario.policy or "the default policy"))
        check(policy)
        with cloud:
            ScenarioRunner(scenario, cloud).run(partial(_warn, args.command, scenario))
            named = getattr(args, "as_name", None)
            operator = LOCAL_OPERATOR if named is None else str(named)
            resources = cloud.template.resources
            yield DeploySource(
                policy=policy,
                control_table=cloud.table(CONTROL_TABLE),
                ledger_table=cloud.table(LEDGER_TABLE),
                client=cloud.client,
                identity=lambda: operator,
                policy_parameter=str(
                    cloud.template.parameters.get(POLICY_PARAMETER, "/aiops/policy")
                ),
                alerts_topic_arn=(
                    str(cloud.template.ref(ALERTS_TOPIC)) if ALERTS_TOPIC in resources else ""
                ),
                deploy_state_machine_arn=(
                    str(cloud.template.ref(DEPLOY_STATE_MACHINE))
                    if DEPLOY_STATE_MACHINE in resources
                    else ""
                ),
                cloud=cloud,
            )
    except ScenarioError as error:
        raise CommandError(str(error)) from error


def _stack(args: argparse.Namespace) -> tuple[dict[str, str], dict[str, str]]:
    """The stack's outputs and parameters."""
    try:
        return StackOutputs(region=args.region).describe(args.stack)
    except StackNotFound as error:
        raise CommandError(str(error)) from error


def _required(args: argparse.Namespace, values: dict[str, str], name: str, kind: str) -> str:
    value = values.get(name)
    if not value:
        raise CommandError(f"stack {args.stack} has no {kind} {name}")
    return value


APPCONFIG_OUTPUTS = ("PolicyApplicationId", "PolicyEnvironmentId", "PolicyProfileId")


def _stack_policy(
    args: argparse.Namespace, parameter: str, outputs: dict[str, str], store: str
) -> Policy:
    """The policy the stack's functions read, from whichever store it uses (PolicyStore)."""
    try:
        if store != "appconfig":
            return SsmPolicySource(parameter, 0, _client("ssm", args.region)).load()
        application, environment, profile = (
            _required(args, outputs, name, "output") for name in APPCONFIG_OUTPUTS
        )
        return AppConfigPolicySource(
            application, environment, profile, 0, _client("appconfigdata", args.region)
        ).load()
    except PolicyError as error:
        raise CommandError(str(error)) from error
    except Exception as error:
        if error_code(error) == "ParameterNotFound":
            raise CommandError(
                f"the policy parameter {parameter} of stack {args.stack} does not exist "
                "(publish the policy with `make publish-policy`)"
            ) from error
        if error_code(error) == "ResourceNotFoundException":
            raise CommandError(
                f"stack {args.stack} has no policy deployed in AppConfig "
                "(publish the policy with `make publish-policy STACK=...`)"
            ) from error
        raise


@contextmanager
def aws_source(
    args: argparse.Namespace, check: Callable[[Policy], object]
) -> Iterator[DeploySource]:
    if getattr(args, "as_name", None) is not None:
        raise CommandError(
            "--as applies to --local only: on AWS you act under your AWS identity "
            "(STS GetCallerIdentity)"
        )
    if args.stack is None:
        raise CommandError("name the stack: --local or --stack")
    outputs, parameters = _stack(args)
    control = _required(args, outputs, CONTROL_TABLE_OUTPUT, "output")
    ledger = _required(args, outputs, LEDGER_TABLE_OUTPUT, "output")
    policy_parameter = _required(args, parameters, POLICY_PARAMETER, "parameter")
    policy = _stack_policy(args, policy_parameter, outputs, parameters.get("PolicyStore", "ssm"))
    check(policy)
    yield DeploySource(
        policy=policy,
        control_table=control,
        ledger_table=ledger,
        client=partial(_client, region=args.region),
        identity=partial(_caller_arn, args.region),
        policy_parameter=policy_parameter,
        alerts_topic_arn=outputs.get(ALERTS_TOPIC_OUTPUT, ""),
        deploy_state_machine_arn=outputs.get(DEPLOY_STATE_MACHINE_OUTPUT, ""),
        model_execution_role_arn=parameters.get(MODEL_ROLE_PARAMETER, ""),
    )


@contextmanager
def deploy_source(
    args: argparse.Namespace, check: Callable[[Policy], object]
) -> Iterator[DeploySource]:
    if args.local is not None:
        if args.region is not None:
            raise CommandError("--region applies to --stack")
        with local_source(args, check) as source:
            yield source
    else:
        with aws_source(args, check) as source:
            yield source


def settle_locally(source: DeploySource, since: int) -> list[dict[str, Any]]:
    """Offline, let the cloud run until quiet after a command acted; the timeline entries that
    followed, AWS calls left out (shared by `aiops rollback` and `aiops resume`)."""
    cloud = source.cloud
    assert cloud is not None
    cloud.run_until_quiet()
    return [
        {k: v for k, v in e.items() if not k.startswith("_")}
        for e in cloud.timeline.entries(since)
        if e["kind"] != "api"
    ]


def render_timeline(entries: list[dict[str, Any]]) -> str:
    from aiops_local.timeline import Story

    return "".join(line + "\n" for line in Story(show_api=False).lines(entries))


def add_deploy_source(parser: argparse.ArgumentParser, local_help: str) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--local", type=Path, metavar="SCENARIO.yaml", help=local_help)
    source.add_argument(
        "--stack",
        metavar="STACK_NAME",
        help=f"deployed stack: its outputs name the tables ({CONTROL_TABLE_OUTPUT}, "
        f"{LEDGER_TABLE_OUTPUT}), its {POLICY_PARAMETER} parameter the policy",
    )
    parser.add_argument("--region", help="AWS region (default: the AWS SDK's)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")


# ------------------------------------------------------------------ what status shows


class _View(BaseModel):
    model_config = ConfigDict(frozen=True)


class EndpointState(_View):
    status: str | None = None
    endpoint_config: str | None = None
    pending_config: str | None = None
    failure_reason: str | None = None
    # Why it could not be described (permission, …); "not found" when there is no endpoint.
    error: str | None = None


class FlightView(_View):
    version: int
    how: How
    started_at: datetime
    previous_version: int | None = None
    # When SageMaker accepted the create/update (None: not yet).
    requested_at: datetime | None = None


class WaitingView(_View):
    version: int
    requested_at: datetime


class ApprovalView(_View):
    version: int
    created_at: datetime
    age_seconds: int
    expires_at: datetime
    expires_in_seconds: int


class RunLockView(_View):
    owner: str
    expires_at: datetime | None = None
    expired: bool = False
    # Triggers coalesced into the run that follows.
    pending: int = 0


class PauseView(_View):
    """A model's paused triggers (a cost action's, or an operator's)."""

    owner: str
    reason: str
    since: datetime
    until: datetime | None = None
    # Past `until`: it holds nothing any more (`aiops resume` still removes it).
    expired: bool = False


class LastRun(_View):
    at: datetime
    action: str
    reason: str
    run_id: str | None = None


class ModelStatus(_View):
    model: str
    endpoint: str
    strategy: str
    dry_run: bool = False
    # What serves the endpoint, and the versions that served it well (the domain's records).
    deployed: Deployed | None = None
    endpoint_state: EndpointState | None = None
    last_known_good: KnownGood | None = None
    other_known_goods: list[KnownGood] = []
    in_flight: FlightView | None = None
    waiting: WaitingView | None = None
    pending_approvals: list[ApprovalView] = []
    run_lock: RunLockView | None = None
    # The deployment holding the endpoint's deploy lock (an expired lease holds nothing).
    endpoint_lock: str | None = None
    last_run: LastRun | None = None
    paused: PauseView | None = None
    # The capacity a cost scale-down saved, per variant: what `aiops resume` restores.
    scaled_down: list[VariantCapacity] = []


class ServingState(_View):
    """What serves, as Bedrock (the custom model deployment) or SSM (the parameter) says."""

    arn: str | None = None
    status: str | None = None
    model_arn: str | None = None
    update_model_arn: str | None = None
    update_status: str | None = None
    failure_message: str | None = None
    # Why it could not be read (permission, …); "not found" when there is none yet.
    error: str | None = None


class ServingFlightView(_View):
    version: int
    how: ServingHow
    started_at: datetime
    previous_version: int | None = None
    requested_at: datetime | None = None


class BedrockStatus(_View):
    model: str
    kind: str = "bedrock"
    serving: str
    # The custom model deployment's name, or the parameter's.
    target: str
    dry_run: bool = False
    served: Served | None = None
    serving_state: ServingState | None = None
    last_known_good: ServedGood | None = None
    other_known_goods: list[ServedGood] = []
    in_flight: ServingFlightView | None = None
    waiting: WaitingView | None = None
    pending_approvals: list[ApprovalView] = []
    # The serving change holding the model's lock.
    serving_lock: str | None = None
    paused: PauseView | None = None
    scaled_down: list[VariantCapacity] = []


_FlightOf = TypeVar("_FlightOf", FlightView, ServingFlightView)


def _flight_view(
    view: type[_FlightOf], flight: Deployment | ServingChange | None
) -> _FlightOf | None:
    """The change in flight (an endpoint's deployment, or a Bedrock serving change)."""
    if flight is None:
        return None
    return view.model_validate(
        {
            "version": flight.request.version,
            "how": flight.how,
            "started_at": flight.started_at,
            "previous_version": flight.previous_version,
            "requested_at": flight.requested_at,
        }
    )


def _waiting_view(waiting: DeploymentRequest | None) -> WaitingView | None:
    if waiting is None:
        return None
    return WaitingView(version=waiting.version, requested_at=waiting.requested_at)


def _pending_approvals(source: DeploySource, model: str, now: datetime) -> list[ApprovalView]:
    rows = [
        approval_row(a, now)
        for a in source.approvals.for_model(model)
        if a.status == ApprovalStatus.PENDING
    ]
    return [
        ApprovalView(
            version=r.version,
            created_at=r.created_at,
            age_seconds=r.age_seconds,
            expires_at=r.expires_at,
            expires_in_seconds=r.expires_in_seconds,
        )
        for r in rows
    ]


def pause_view(pause: Pause | None, now: datetime) -> PauseView | None:
    if pause is None:
        return None
    return PauseView(
        owner=pause.owner,
        reason=pause.reason,
        since=pause.since,
        until=pause.until,
        expired=not pause.holds(now),
    )


def serving_state(source: DeploySource, serving: str, target: str) -> ServingState:
    try:
        if serving == "parameter":
            value = source.serving_parameters.get(target)
            return ServingState(model_arn=value) if value else ServingState(error="not found")
        view = source.custom_model_deployments.get(target)
    except Exception as error:  # noqa: BLE001 - a missing permission is shown, not fatal
        return ServingState(error=error_code(error) or type(error).__name__)
    if view is None:
        return ServingState(error="not found")
    return ServingState(
        arn=view.arn,
        status=view.status,
        model_arn=view.model_arn,
        update_model_arn=view.update_model_arn,
        update_status=view.update_status,
        failure_message=view.failure_message,
    )


def bedrock_status(
    source: DeploySource, name: str, model: BedrockModelPolicy, now: datetime
) -> BedrockStatus:
    store = source.serving_store
    goods = store.known_goods(name)
    last_good = next((g for g in goods if g.revoked is None), None)
    flight = store.in_flight(name)
    waiting = store.locks.waiting(name)
    served = store.served(name)
    serving = served.serving if served is not None else model.deploy.serving_mode
    target = served.target if served is not None else serving_target(name, model)
    return BedrockStatus(
        model=name,
        serving=serving,
        target=target,
        dry_run=model.dry_run,
        served=served,
        serving_state=serving_state(source, serving, target),
        last_known_good=last_good,
        other_known_goods=[g for g in goods if g is not last_good],
        in_flight=_flight_view(ServingFlightView, flight),
        waiting=_waiting_view(waiting),
        pending_approvals=_pending_approvals(source, name, now),
        serving_lock=store.locks.holder(name, now),
        paused=pause_view(source.pauses.get(name), now),
        scaled_down=source.saved_capacities.saved(name),
    )


def _endpoint_state(source: DeploySource, endpoint: str) -> EndpointState:
    try:
        view = source.endpoints.describe(endpoint)
    except Exception as error:  # noqa: BLE001 - a missing permission is shown, not fatal
        return EndpointState(error=error_code(error) or type(error).__name__)
    if view is None:
        return EndpointState(error="not found")
    return EndpointState(
        status=view.status,
        endpoint_config=view.endpoint_config,
        pending_config=view.pending_config,
        failure_reason=view.failure_reason,
    )


def _run_lock(source: DeploySource, model: str, now: datetime) -> RunLockView | None:
    """The model's run lock (`MODEL#<m>/LOCK`): its owner and lease, nothing else."""
    table = Table(source.control_table, source.client("dynamodb"))
    response = table.client.get_item(
        TableName=table.name,
        Key=to_item({"pk": f"MODEL#{model}", "sk": "LOCK"}),
        ConsistentRead=True,
        ProjectionExpression="#o, expires_at, pending_ids",
        ExpressionAttributeNames={"#o": "owner"},
    )
    item = from_item(response.get("Item"))
    if not item.get("owner"):
        return None
    expires = item.get("expires_at")
    expires_at = datetime.fromisoformat(str(expires)) if expires else None
    return RunLockView(
        owner=str(item["owner"]),
        expires_at=expires_at,
        expired=expires_at is not None and expires_at < now,
        pending=len(item.get("pending_ids") or ()),
    )


def _last_run(source: DeploySource, model: str) -> LastRun | None:
    """The newest run_started/run_succeeded/run_failed entry: read newest first, page by page,
    until one is found."""
    table = source.ledger.table
    request: dict[str, Any] = {
        "TableName": table.name,
        "KeyConditionExpression": "#m = :m",
        "FilterExpression": "#a IN (:started, :succeeded, :failed)",
        "ExpressionAttributeNames": {"#m": "model", "#a": "action"},
        "ExpressionAttributeValues": to_values(
            {
                ":m": model,
                ":started": LedgerAction.RUN_STARTED.value,
                ":succeeded": LedgerAction.RUN_SUCCEEDED.value,
                ":failed": LedgerAction.RUN_FAILED.value,
            }
        ),
        "ScanIndexForward": False,
    }
    while True:
        response = table.client.query(**request)
        items = response.get("Items", [])
        if items:
            entry = from_item(items[0])
            cause = entry.get("cause") or {}
            return LastRun(
                at=datetime.fromisoformat(str(entry["at"])),
                action=str(entry["action"]),
                reason=str(entry.get("reason", "")),
                run_id=cause.get("run_id") if isinstance(cause, dict) else None,
            )
        last = response.get("LastEvaluatedKey")
        if not last:
            return None
        request["ExclusiveStartKey"] = last


def model_status(
    source: DeploySource, name: str, model: SageMakerModelPolicy, now: datetime
) -> ModelStatus:
    endpoint = model.deploy.endpoint
    store = source.store
    goods = store.known_goods(endpoint)  # newest promotion first
    last_good = next((g for g in goods if g.revoked is None), None)
    flight = store.in_flight(endpoint)
    waiting = store.waiting(endpoint)
    return ModelStatus(
        model=name,
        endpoint=endpoint,
        strategy=model.deploy.strategy,
        dry_run=model.dry_run,
        deployed=store.deployed(endpoint),
        endpoint_state=_endpoint_state(source, endpoint),
        last_known_good=last_good,
        other_known_goods=[g for g in goods if g is not last_good],
        in_flight=_flight_view(FlightView, flight),
        waiting=_waiting_view(waiting),
        pending_approvals=_pending_approvals(source, name, now),
        run_lock=_run_lock(source, name, now),
        endpoint_lock=store.holder(endpoint, now),
        last_run=_last_run(source, name),
        paused=pause_view(source.pauses.get(name), now),
        scaled_down=source.saved_capacities.saved(name),
    )


# ------------------------------------------------------------------ human output

_HOW = {
    "created": "created the endpoint",
    "canary": "canary",
    "linear": "linear",
    "all_at_once": "all at once",
    "rollback": "rollback",
    "manual_rollback": "manual rollback",
    "shadow": "shadow test",
}


def _how(how: str) -> str:
    return _HOW.get(how, how)


def _cause(cause: dict[str, Any]) -> str:
    parts = []
    if cause.get("alarm"):
        parts.append(f"alarm {cause['alarm']}")
    elif cause.get("operator"):
        parts.append(f"{cause['operator']} via {cause.get('via', 'cli')}")
    elif cause.get("by"):
        parts.append(str(cause["by"]))
    if cause.get("from_version") is not None:
        parts.append(f"replaced v{cause['from_version']}")
    return ", ".join(parts)


def _since_text(current: Deployed | Served, unapplied: str) -> str:
    """What serves, since when and how; a rollback's cause, and `unapplied` while it is only
    recorded."""
    text = f"v{current.version} since {_when(current.since)}, by {_how(current.how)}"
    if current.how in ("rollback", "manual_rollback"):
        cause = _cause(current.cause)
        text += f" ({cause})" if cause else ""
        if not current.applied:
            text += f" — recorded, {unapplied}"
    return text


def _deployed_line(status: ModelStatus) -> str:
    deployed = status.deployed
    if deployed is None:
        return "nothing the control plane deployed"
    text = _since_text(deployed, "not yet sent to SageMaker")
    return text + f"; EndpointConfig {deployed.endpoint_config}"


def _endpoint_line(state: EndpointState | None) -> str:
    if state is None:
        return "unknown"
    if state.error == "not found":
        return "no such endpoint"
    if state.error is not None:
        return f"unknown ({state.error})"
    text = f"{state.status} on {state.endpoint_config}"
    if state.pending_config:
        text += f", updating to {state.pending_config}"
    if state.failure_reason:
        text += f" (last failure: {state.failure_reason})"
    return text


def _good_text(good: KnownGood) -> str:
    text = f"v{good.version} (promoted {_when(good.promoted_at)})"
    return text + (f" revoked: {good.revoked}" if good.revoked else "")


def _approval_text(approval: ApprovalView) -> str:
    left = (
        f"expires in {_span(approval.expires_in_seconds)}"
        if approval.expires_in_seconds > 0
        else f"expired {_span(approval.expires_in_seconds)} ago"
    )
    return f"v{approval.version} waiting {_span(approval.age_seconds)}, {left}"


def _locks_line(status: ModelStatus) -> str:
    lock = status.run_lock
    if lock is None:
        run = "run: free"
    else:
        until = f" until {_when(lock.expires_at)}" if lock.expires_at else ""
        run = f"run: {lock.owner}{until}" + (" (expired)" if lock.expired else "")
        run += f", {lock.pending} trigger(s) waiting" if lock.pending else ""
    deploy = f"endpoint: {status.endpoint_lock}" if status.endpoint_lock else "endpoint: free"
    return f"{run}; {deploy}"


def _serving_line(state: ServingState | None, serving: str) -> str:
    if state is None:
        return "unknown"
    if state.error == "not found":
        return "not written yet" if serving == "parameter" else "no such deployment"
    if state.error is not None:
        return f"unknown ({state.error})"
    if serving == "parameter":
        return f"names {state.model_arn}"
    text = f"{state.status} ({state.arn}), serving {state.model_arn}"
    if state.update_status == "Updating":
        text += f", updating to {state.update_model_arn}"
    elif state.update_status == "UpdateFailed":
        text += f" (update to {state.update_model_arn} failed)"
    if state.failure_message:
        text += f" (last failure: {state.failure_message})"
    return text


def _served_good_text(good: ServedGood) -> str:
    text = f"v{good.version} {good.custom_model_arn} (promoted {_when(good.promoted_at)})"
    return text + (f" revoked: {good.revoked}" if good.revoked else "")


def _queue_rows(
    waiting: WaitingView | None, approvals: list[ApprovalView]
) -> list[tuple[str, str]]:
    """The version waiting for the lock (if one does) and the pending approvals."""
    rows: list[tuple[str, str]] = []
    if waiting is not None:
        rows.append(("waiting", f"v{waiting.version}, approved {_when(waiting.requested_at)}"))
    rows.append(("approvals", "; ".join(_approval_text(a) for a in approvals) or "none pending"))
    return rows


def _cost_rows(
    model: str, paused: PauseView | None, scaled_down: list[VariantCapacity]
) -> list[tuple[str, str]]:
    """What a cost action left in place, and the command that undoes it (no rows: nothing)."""
    rows: list[tuple[str, str]] = []
    if paused is not None:
        until = _when(paused.until) if paused.until else "resumed"
        expired = " (expired: holds no more)" if paused.expired else ""
        rows.append(
            (
                "paused",
                f"by {paused.owner} since {_when(paused.since)} until {until}{expired}: "
                f"{paused.reason} — `aiops resume {model}` lifts it",
            )
        )
    rows += [
        (
            "capacity",
            f"scaled down; {v.describe()} to restore — `aiops resume {model}` restores it",
        )
        for v in scaled_down
    ]
    return rows


def _block(header: str, rows: list[tuple[str, str]]) -> str:
    return header + "\n" + "".join(f"  {k + ':':<12}{v}\n" for k, v in rows)


def render_bedrock(status: BedrockStatus) -> str:
    served = status.served
    if served is None:
        line = "nothing the control plane served"
    else:
        line = _since_text(served, "not yet applied")
        line += f"; custom model {served.custom_model_arn}"
    rows: list[tuple[str, str]] = [
        ("serves", line),
        (
            "parameter" if status.serving == "parameter" else "deployment",
            _serving_line(status.serving_state, status.serving),
        ),
        (
            "last good",
            _served_good_text(status.last_known_good) if status.last_known_good else "none",
        ),
    ]
    rows += [("other good", _served_good_text(g)) for g in status.other_known_goods]
    flight = status.in_flight
    rows.append(
        (
            "in flight",
            f"v{flight.version} ({_how(flight.how)}), started {_when(flight.started_at)}"
            if flight
            else "none",
        )
    )
    rows += _queue_rows(status.waiting, status.pending_approvals)
    rows.append(("lock", status.serving_lock or "free"))
    rows += _cost_rows(status.model, status.paused, status.scaled_down)
    where = "parameter" if status.serving == "parameter" else "custom model deployment"
    dry = ", dry run" if status.dry_run else ""
    return _block(f"{status.model}: Bedrock, {where} {status.target}{dry}", rows)


def render_status(statuses: list[ModelStatus]) -> str:
    blocks = []
    for s in statuses:
        rows: list[tuple[str, str]] = [
            ("deployed", _deployed_line(s)),
            ("endpoint", _endpoint_line(s.endpoint_state)),
            ("last good", _good_text(s.last_known_good) if s.last_known_good else "none"),
        ]
        rows += [("other good", _good_text(g)) for g in s.other_known_goods]
        flight = s.in_flight
        rows.append(
            (
                "in flight",
                f"v{flight.version} by {_how(flight.how)}, started {_when(flight.started_at)}"
                if flight
                else "none",
            )
        )
        rows += _queue_rows(s.waiting, s.pending_approvals)
        rows.append(("locks", _locks_line(s)))
        run = s.last_run
        rows.append(
            (
                "last run",
                f"{run.action} {_when(run.at)}"
                + (f" ({run.run_id})" if run.run_id else "")
                + f": {run.reason}"
                if run
                else "none",
            )
        )
        rows += _cost_rows(s.model, s.paused, s.scaled_down)
        dry = ", dry run" if s.dry_run else ""
        blocks.append(_block(f"{s.model}: endpoint {s.endpoint} ({s.strategy}{dry})", rows))
    return "\n".join(blocks)


# ------------------------------------------------------------------ the command


def status(args: argparse.Namespace) -> int:
    command = args.command
    try:
        with deploy_source(args, lambda policy: deploy_models(policy, args.model)) as source:
            now = clock.now()
            chosen = deploy_models(source.policy, args.model)
            statuses = [
                model_status(source, name, model, now)
                for name, model in sorted(chosen.items())
                if isinstance(model, SageMakerModelPolicy)
            ]
            bedrock = [
                bedrock_status(source, name, model, now)
                for name, model in sorted(chosen.items())
                if isinstance(model, BedrockModelPolicy)
            ]
    except (CommandError, FileNotFoundError) as error:
        print(f"aiops {command}: {error}", file=sys.stderr)
        return EXIT_INPUT
    except Exception as error:  # noqa: BLE001 - a failing source is reported, not a traceback
        print(f"aiops {command}: failed: {error}", file=sys.stderr)
        return EXIT_SOURCE
    if args.json:
        document = {
            "now": now.isoformat(),
            "models": [s.model_dump(mode="json") for s in [*statuses, *bedrock]],
        }
        print(json.dumps(document, indent=2))
    else:
        blocks = [render_status(statuses)] if statuses else []
        blocks += [render_bedrock(b) for b in bedrock]
        sys.stdout.write("\n".join(blocks) if blocks else "no models to show\n")
    return EXIT_OK


def add_status_commands(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "status",
        help="what each SageMaker model's endpoint serves, known goods, deployments, locks",
        description="Show, per SageMaker model of the policy (or MODEL), the version deployed on "
        "its endpoint (since when, how, a rollback's cause), the last known good and the other "
        "known goods, the deployment in flight and the one waiting, pending approvals, the "
        "run and endpoint locks and the last retrain run; per model (Bedrock too), a cost "
        "pause of its triggers and the capacity a scale-down saved. Reads only.",
    )
    parser.add_argument(
        "model", metavar="MODEL", nargs="?", help="only this model (default: every one)"
    )
    add_deploy_source(
        parser, "run the scenario on a fresh offline cloud and show the state it ends in"
    )
    parser.set_defaults(run=status)
