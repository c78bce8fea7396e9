"""Serving an approved Bedrock custom model: the deploy workflow's Bedrock branch and its
rollback.

Applications call one ARN. With `serving: custom_model_deployment` it is an on-demand custom
model deployment (default name `aiops-<model>`): the first version creates it, every later one
swaps the model behind it (`UpdateCustomModelDeployment`), and so does a rollback. With
`serving: parameter` an SSM String parameter holds the custom model's ARN; the application
reads it (the parameter is its switch).

Bedrock sends no event when a deployment is created or updated (the EventBridge reference lists
none), so the workflow reads it: start (swap) → wait `POLL` → check, again and again, bounded by
`SERVING_TIMEOUT` (and `MAX_POLLS` reads) whatever the policy says. A change that fails or does
not finish in time puts the model that served before back. One change per model at a time: the
endpoints' lock, keyed by the model's name (`BEDROCK#<model>` in the control table).
"""

import hashlib
import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

from aiops.deploy.dependencies import BedrockServing, DeployDependencies
from aiops.deploy.model import (
    MARK_CUSTOM_MODEL,
    DeploymentRequest,
    PackageSpec,
    Served,
    ServedGood,
    ServingChange,
)
from aiops.deploy.rollback import (
    Decider,
    RollbackDecision,
    rollback_pending,
    rollback_target,
    rolled_back_already,
)
from aiops.deploy.workflow import (
    error_text,
    hand_over,
    record_deployed,
    record_started,
    take_turn,
)
from aiops.ledger import LedgerAction, record
from aiops.policy import BedrockModelPolicy, Policy
from aiops.units import format_duration

if TYPE_CHECKING:
    from aiops.deploy.model import CustomModelDeploymentView

# How often the workflow reads a deployment that is being created or updated. AWS documents no
# duration; creations take minutes. Fixed, not the policy's: the workflow's bound must not depend
# on what a policy says.
POLL = timedelta(minutes=1)
# The longest a create or update may take before the previous model is put back.
SERVING_TIMEOUT = timedelta(hours=1)
# Reads of one change, whatever the clock says (the Wait loop's second bound): an hour of
# one-minute polls and a margin for retried checks.
MAX_POLLS = 90
# The model's lock covers the wait and the steps around it (Lambda retries).
SERVING_LEASE = SERVING_TIMEOUT + timedelta(minutes=30)
# Bedrock's rule for deployment names (CreateCustomModelDeployment's modelDeploymentName).
DEPLOYMENT_NAME = re.compile(r"([0-9a-zA-Z][_-]?){1,63}")


class ServingBusy(RuntimeError):
    """The deployment is being created or updated by someone else: the step is retried."""


class ServingStart(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)
    action: Literal["started", "served", "queued", "skipped", "failed"]
    reason: str
    wait_seconds: int = 0


class ServingCheck(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)
    outcome: Literal["waiting", "promoted", "failed", "timed_out", "done"]
    reason: str
    polls: int = 0
    wait_seconds: int = 0
    next_execution: str | None = None


# ---------------------------------------------------------------------- names and checks
def deployment_name(name: str, model: BedrockModelPolicy) -> str:
    """The custom model deployment serving `name`: the policy's, or `aiops-<model>`."""
    return model.deploy.deployment_name or f"aiops-{name}"


def serving_target(name: str, model: BedrockModelPolicy) -> str:
    """The deployment's or the parameter's name."""
    if model.deploy.serving_mode == "parameter":
        return str(model.deploy.serving_parameter)
    return deployment_name(name, model)


def describe_serving(serving: str, target: str) -> str:
    if serving == "parameter":
        return f"parameter {target}"
    return f"custom model deployment {target}"


def _serving(deps: DeployDependencies) -> BedrockServing:
    if deps.bedrock is None:
        raise RuntimeError("this function is not given Bedrock serving (Stack.deploy's bedrock)")
    return deps.bedrock


def _target_problem(serving: str, target: str, bedrock: BedrockServing) -> str | None:
    """Why the control plane may not serve through `target`, if it may not."""
    if serving == "parameter":
        if target in bedrock.reserved_parameters:
            return f"serving_parameter {target} is the control plane's own parameter"
        if not target.startswith(bedrock.parameter_prefix):
            # The policy check cannot know the stack's prefix: refused here, before IAM would.
            return (
                f"serving_parameter {target} is outside the stack's ServingParameterPrefix "
                f"{bedrock.parameter_prefix}; the control plane may write parameters under it only"
            )
        return None
    if not DEPLOYMENT_NAME.fullmatch(target):
        return (
            f"{target!r} is not a name Bedrock accepts for a custom model deployment "
            "(letters and digits, single '-' or '_' between them, at most 63); set "
            "deploy.deployment_name"
        )
    return None


def _model(policy: Policy, request: DeploymentRequest) -> BedrockModelPolicy | None:
    model = policy.models.get(request.model)
    return model if isinstance(model, BedrockModelPolicy) else None


def _cause(request: DeploymentRequest, **more: Any) -> dict[str, Any]:
    return {
        "package_arn": request.package_arn,
        "version": request.version,
        "custom_model_arn": request.custom_model_arn,
        "execution": request.execution_name,
        **{k: v for k, v in more.items() if v is not None},
    }


def custom_model_of(spec: PackageSpec) -> str | None:
    return spec.marks.get(MARK_CUSTOM_MODEL) or None


def _refusal(
    request: DeploymentRequest, spec: PackageSpec | None, served: Served | None
) -> tuple[LedgerAction, str] | None:
    skipped = LedgerAction.DEPLOY_SKIPPED
    if spec is None or spec.approval_status != "Approved":
        status = "gone" if spec is None else spec.approval_status
        return skipped, f"v{request.version} is {status}, no longer Approved"
    if spec.rolled_back:
        return skipped, f"v{request.version} was rolled back ({spec.rolled_back})"
    if custom_model_of(spec) is None:
        return skipped, f"v{request.version} names no Bedrock custom model ({MARK_CUSTOM_MODEL})"
    if served is not None and served.version > request.version:
        return (
            LedgerAction.DEPLOY_SUPERSEDED,
            f"v{served.version}, newer, serves {request.model} already",
        )
    if served is not None and served.version == request.version:
        return skipped, f"v{request.version} serves {request.model} already"
    return None


# ---------------------------------------------------------------------- the workflow's steps
def start_serving(
    request: DeploymentRequest, policy: Policy, deps: DeployDependencies, now: datetime
) -> ServingStart:
    """Take the model (or wait behind its serving change), then swap: create or update the
    custom model deployment, or write the serving parameter (promoted at once)."""
    bedrock = _serving(deps)
    model = _model(policy, request)
    if model is None:
        reason = f"{request.model} is no longer a Bedrock model of the policy"
        record(
            deps.ledger, request.model, now, LedgerAction.DEPLOY_SKIPPED, reason, _cause(request)
        )
        _release(request, deps, now)
        return ServingStart(action="skipped", reason=reason)
    waits_to = f"finish serving {request.model}"
    turn = take_turn(bedrock.locks, request, now, SERVING_LEASE, deps.ledger, _cause, waits_to)
    if turn is not None:
        return ServingStart(action=turn[0], reason=turn[1])
    poll = int(POLL.total_seconds())

    flight = bedrock.history.in_flight(request.model)
    ours = flight is not None and flight.request.deployment_id == request.deployment_id
    if ours and flight is not None and flight.requested_at is not None:
        return ServingStart(action="started", reason="already started", wait_seconds=poll)

    served = bedrock.history.served(request.model)
    spec = deps.packages.spec(request.package_arn)
    refusal = _refusal(request, spec, served)
    if refusal is not None:
        record(deps.ledger, request.model, now, refusal[0], refusal[1], _cause(request))
        _release(request, deps, now)
        return ServingStart(action="skipped", reason=refusal[1])
    assert spec is not None  # _refusal refuses a missing package
    model_arn = str(custom_model_of(spec))  # the registry's word, not the event's
    request = request.model_copy(update={"custom_model_arn": model_arn})
    serving = model.deploy.serving_mode
    target = serving_target(request.model, model)
    problem = _target_problem(serving, target, bedrock)
    if problem is not None:
        result = _failed(request, problem, deps, now)
        _release(request, deps, now)
        return ServingStart(action="failed", reason=result.reason)

    if serving == "parameter":
        return _serve_by_parameter(request, target, served, bedrock, deps, now)

    view = bedrock.deployments.get(target)
    change = ServingChange(
        request=request,
        serving=serving,
        target=target,
        how="created" if view is None else "updated",
        previous_version=served.version if served is not None else None,
        previous_model_arn=view.model_arn if view is not None else None,
        started_at=now,
        deployment_arn=view.arn if view is not None else None,
    )
    if ours and flight is not None:
        # A retried start: what it saw before the swap is what a failure puts back.
        change = change.model_copy(
            update={
                "how": flight.how,
                "previous_model_arn": flight.previous_model_arn,
                "previous_version": flight.previous_version,
            }
        )
    if view is not None:
        moving = view.outcome(model_arn)
        if moving in ("in_progress", "serving"):
            # Our create or update went through (a retried step), or this model serves already
            # (someone swapped it by hand): the check reads it and promotes.
            bedrock.history.begin(change.model_copy(update={"requested_at": now}))
            return ServingStart(action="started", reason="already started", wait_seconds=poll)
        if view.busy:
            raise ServingBusy(
                f"{target} is {view.update_status or view.status}: the swap starts once it is "
                "Active"
            )
        if view.status == "Failed":
            why = view.failure_message or "Bedrock gave no reason"
            result = _failed(
                request,
                f"custom model deployment {target} is Failed ({why}); delete it or name "
                "another in deploy.deployment_name",
                deps,
                now,
            )
            _release(request, deps, now)
            return ServingStart(action="failed", reason=result.reason)
    bedrock.history.begin(change)
    tags = {"aiops:model": request.model, "aiops:version": str(request.version)}
    if view is None:
        token = hashlib.sha256(f"{target}/{request.package_arn}".encode()).hexdigest()[:64]
        arn = bedrock.deployments.create(target, model_arn, tags, token)
        change = change.model_copy(update={"deployment_arn": arn})
        how = f"creating custom model deployment {target} on {model_arn}"
    else:
        bedrock.deployments.update(view.arn, model_arn)
        how = f"swapping {target}'s model {view.model_arn} for {model_arn}"
    bedrock.history.begin(change.model_copy(update={"requested_at": now}))
    reason = record_started(
        deps.ledger,
        request,
        now,
        request.model,
        change.previous_version,
        how,
        _cause(request, deployment=target, previous_model_arn=change.previous_model_arn),
    )
    return ServingStart(action="started", reason=reason, wait_seconds=poll)


def _serve_by_parameter(
    request: DeploymentRequest,
    target: str,
    served: Served | None,
    bedrock: BedrockServing,
    deps: DeployDependencies,
    now: datetime,
) -> ServingStart:
    """PutParameter is the swap: synchronous, so promoted at once."""
    model_arn = str(request.custom_model_arn)
    bedrock.parameters.put(target, model_arn)
    change = ServingChange(
        request=request,
        serving="parameter",
        target=target,
        how="parameter",
        previous_version=served.version if served is not None else None,
        previous_model_arn=served.custom_model_arn if served is not None else None,
        started_at=now,
        requested_at=now,
    )
    reason = _promote(change, served, deps, bedrock, now)
    _release(request, deps, now)
    return ServingStart(action="served", reason=reason)


def check_serving(
    request: DeploymentRequest,
    policy: Policy,
    deps: DeployDependencies,
    now: datetime,
    polls: int = 0,
    error: dict[str, Any] | None = None,
) -> ServingCheck:
    """Read the custom model deployment: promote the version once it serves; put the previous
    model back when the change failed, a step failed, or it took too long; else wait again."""
    bedrock = _serving(deps)
    polls += 1
    flight = bedrock.history.in_flight(request.model)
    if flight is None or flight.request.deployment_id != request.deployment_id:
        if error is not None:
            result = _failed(request, error_text(error), deps, now)
        else:
            result = ServingCheck(outcome="done", reason="already finished")
        return _handover(request, deps, now, result, polls)
    if flight.requested_at is None:
        # Bedrock never accepted it: nothing changed.
        bedrock.history.end(request.model, request.deployment_id)
        why = error_text(error) if error is not None else "the start failed"
        return _handover(request, deps, now, _failed(request, why, deps, now), polls)
    if error is not None:
        why = f"{error_text(error)}{_put_back(flight, bedrock, now)}"
        bedrock.history.end(request.model, request.deployment_id)
        return _handover(request, deps, now, _failed(request, why, deps, now), polls)
    model_arn = str(flight.request.custom_model_arn)
    view = bedrock.deployments.get(flight.deployment_arn or flight.target)
    moving = view.outcome(model_arn) if view is not None else "gone"
    if moving == "serving":
        served = bedrock.history.served(request.model)
        reason = _promote(flight, served, deps, bedrock, now, view_arn=view.arn if view else None)
        return _handover(request, deps, now, ServingCheck(outcome="promoted", reason=reason), polls)
    if moving == "in_progress":
        waited = now - flight.requested_at
        if waited < SERVING_TIMEOUT and polls < MAX_POLLS:
            return ServingCheck(
                outcome="waiting",
                reason=f"{flight.target} is {_state(view)} after {format_duration(waited)}",
                polls=polls,
                wait_seconds=int(POLL.total_seconds()),
            )
        why = (
            f"still {_state(view)} after {format_duration(waited)} ({polls} reads)"
            f"{_put_back(flight, bedrock, now)}"
        )
        bedrock.history.end(request.model, request.deployment_id)
        result = _failed(request, why, deps, now, timed_out=True)
        return _handover(request, deps, now, result, polls)
    if view is None:
        why = f"custom model deployment {flight.target} is gone"
    elif moving == "failed":
        what = "update" if view.update_status else "deployment"
        why = f"Bedrock: {view.failure_message or f'the {what} failed, giving no reason'}"
    else:
        why = f"{view.model_arn} serves {flight.target}, not {model_arn}: it was changed meanwhile"
    why += _put_back(flight, bedrock, now) if view is not None and moving == "failed" else ""
    bedrock.history.end(request.model, request.deployment_id)
    return _handover(request, deps, now, _failed(request, why, deps, now), polls)


def _state(view: "CustomModelDeploymentView | None") -> str:
    return str(view.update_status or view.status) if view is not None else "gone"


def _put_back(flight: ServingChange, bedrock: BedrockServing, now: datetime) -> str:
    """Serve the model that served before the change again: the last known good's (or, without
    one, the deployment's previous model). Said in words for the ledger."""
    goods = [g for g in bedrock.history.known_goods(flight.request.model) if g.revoked is None]
    previous = goods[0].custom_model_arn if goods else flight.previous_model_arn
    label = f"v{goods[0].version}" if goods else previous
    if flight.serving != "custom_model_deployment" or previous is None:
        return "; nothing served before it, nothing to put back"
    try:
        view = bedrock.deployments.get(flight.deployment_arn or flight.target)
        if view is None:
            return f"; {flight.target} is gone, nothing to put back"
        if view.busy and view.update_model_arn not in (None, previous):
            # Bedrock takes no second update while one runs, and none can be cancelled.
            return (
                f"; could not put {label} back: {flight.target} is still {_state(view)} to "
                f"{view.update_model_arn} and takes no other update until it ends (if it "
                f"completes, that model serves: check `aiops status {flight.request.model}`)"
            )
        if view.outcome(previous) in ("serving", "in_progress"):
            return f"; {label} still serves {flight.target}"
        bedrock.deployments.update(view.arn, previous)
    except Exception as exc:  # noqa: BLE001 - the failure is recorded with why it stayed
        return (
            f"; could not put {label} back ({type(exc).__name__}: {str(exc)[:200]}): "
            f"`aiops rollback {flight.request.model}` once {flight.target} is Active"
        )
    return f"; {label} ({previous}) put back on {flight.target}"


def _promote(
    change: ServingChange,
    served: Served | None,
    deps: DeployDependencies,
    bedrock: BedrockServing,
    now: datetime,
    view_arn: str | None = None,
) -> str:
    request = change.request
    model_arn = str(request.custom_model_arn)
    bedrock.history.promote(
        Served(
            model=request.model,
            version=request.version,
            package_arn=request.package_arn,
            custom_model_arn=model_arn,
            serving=change.serving,
            target=change.target,
            deployment_arn=view_arn or change.deployment_arn,
            since=now,
            how=change.how,
            cause={"execution": request.execution_name, **request.cause},
        ),
        ServedGood(
            version=request.version,
            package_arn=request.package_arn,
            custom_model_arn=model_arn,
            promoted_at=now,
        ),
    )
    where = describe_serving(change.serving, change.target)
    arn = view_arn or change.deployment_arn
    was = f"; last known good was v{served.version}" if served is not None else ""
    reason = (
        f"v{request.version} serves {request.model} through {where}"
        f"{f' ({arn})' if arn else ''} and is its last known good{was}"
    )
    cause = _cause(request, serving=change.serving, target=change.target, deployment_arn=arn)
    record_deployed(deps, request, now, where, reason, cause)
    bedrock.history.end(request.model, request.deployment_id)
    return reason


def _failed(
    request: DeploymentRequest,
    why: str,
    deps: DeployDependencies,
    now: datetime,
    timed_out: bool = False,
) -> ServingCheck:
    reason = f"v{request.version} was not served for {request.model}: {why}"
    record(deps.ledger, request.model, now, LedgerAction.DEPLOY_FAILED, reason, _cause(request))
    what = "serving timed out" if timed_out else "serving failed"
    deps.alerts.publish(f"[aiops] {request.model} v{request.version}: {what}", reason)
    return ServingCheck(outcome="timed_out" if timed_out else "failed", reason=reason)


def _release(request: DeploymentRequest, deps: DeployDependencies, now: datetime) -> str | None:
    waited = f"for {request.model}: serving it now"
    return hand_over(_serving(deps).locks, request, now, SERVING_LEASE, deps, _cause, waited)


def _handover(
    request: DeploymentRequest,
    deps: DeployDependencies,
    now: datetime,
    result: ServingCheck,
    polls: int,
) -> ServingCheck:
    execution = _release(request, deps, now)
    return result.model_copy(update={"next_execution": execution, "polls": polls})


# ---------------------------------------------------------------------- rollback
def roll_back_serving(
    model_name: str,
    model: BedrockModelPolicy,
    deps: DeployDependencies,
    now: datetime,
    *,
    by: str,
    cause: dict[str, Any],
    manual: bool,
    to_version: int | None = None,
    dry_run: bool = False,
) -> RollbackDecision:
    """Serve the last known good version before the current one (or `to_version`) again:
    UpdateCustomModelDeployment to its custom model, or the parameter rewritten. Recorded as a
    SageMaker rollback is; an alarm rolls back once per incident. Returns a RollbackDecision."""
    bedrock = _serving(deps)
    decide = Decider(model_name, deps, now, by, cause, dry_run, f"[aiops] {model_name}: rollback")
    current = bedrock.history.served(model_name)
    if current is None:
        return decide(
            "skipped",
            f"{by}: nothing the control plane served is serving {model_name}; no rollback",
            LedgerAction.ROLLBACK_SKIPPED,
        )
    where = describe_serving(current.serving, current.target)
    if rollback_pending(current):
        if to_version is not None and to_version != current.version:
            return decide(
                "skipped",
                f"{by}: a rollback of {model_name} to v{current.version} is recorded but not "
                "applied yet; complete it first (run again without --to)",
                None,
                current,
            )
        if dry_run:
            return decide(
                "dry_run",
                f"would complete the recorded rollback of {model_name} to v{current.version} "
                f"({where})",
                None,
                current,
            )
        return _apply_rollback(current, bedrock, decide)
    holder = bedrock.locks.holder(model_name, now)
    if holder is not None:
        return decide(
            "skipped",
            f"{by}: {holder} is changing what serves {model_name}; a failed change puts the "
            "previous model back itself, so no rollback starts",
            LedgerAction.ROLLBACK_SKIPPED,
            current,
        )
    again = rolled_back_already(by, model_name, current, manual)
    if again is not None:
        return decide("skipped", again, LedgerAction.ROLLBACK_SKIPPED, current)
    goods = bedrock.history.known_goods(model_name)
    target, refusal = rollback_target(goods, current.version, to_version, model_name)
    if refusal is not None:
        return decide("skipped", f"{by}: {refusal}", None, current)
    if target is None:
        return decide(
            "skipped",
            f"{by}: no earlier known good version of {model_name} to roll back to "
            f"(v{current.version} serves)",
            LedgerAction.ROLLBACK_SKIPPED,
            current,
            alert=True,
        )
    plan = f"{where}: v{current.version} → v{target.version} ({target.custom_model_arn})"
    would = decide.would(plan, model.dry_run, current, target)
    if would is not None:
        return would
    rolled = Served(
        model=model_name,
        version=target.version,
        package_arn=target.package_arn,
        custom_model_arn=target.custom_model_arn,
        serving=current.serving,
        target=current.target,
        deployment_arn=current.deployment_arn,
        since=now,
        how="manual_rollback" if manual else "rollback",
        cause={**cause, "by": by, "from_version": current.version},
        applied=False,
    )
    if not bedrock.history.roll_back(current, rolled, current.version, f"{by}: rolled back {plan}"):
        return decide(
            "skipped",
            f"{by}: {model_name} changed meanwhile (another rollback); nothing more to do",
            LedgerAction.ROLLBACK_SKIPPED,
            current,
        )
    return _apply_rollback(rolled, bedrock, decide)


def _apply_rollback(rolled: Served, bedrock: BedrockServing, decide: Decider) -> RollbackDecision:
    """Send the recorded rollback (idempotent), mark the version it replaced, record it."""
    by = decide.by
    where = describe_serving(rolled.serving, rolled.target)
    replaced = rolled.cause.get("from_version")
    if rolled.serving == "parameter":
        if bedrock.parameters.get(rolled.target) != rolled.custom_model_arn:
            bedrock.parameters.put(rolled.target, rolled.custom_model_arn)
    else:
        view = bedrock.deployments.get(rolled.deployment_arn or rolled.target)
        if view is None:
            return decide(  # recorded, not applied: a retry completes it
                "failed",
                f"{by}: custom model deployment {rolled.target} does not exist; nothing to roll "
                "back",
                LedgerAction.ROLLBACK_FAILED,
                None,
                None,
                True,
            )
        if view.outcome(rolled.custom_model_arn) not in ("serving", "in_progress"):
            if view.busy:
                raise ServingBusy(
                    f"{rolled.target} is {_state(view)}: the rollback is recorded and is sent "
                    "once it is Active (a retry, or `aiops rollback` again)"
                )
            bedrock.deployments.update(view.arn, rolled.custom_model_arn)
    decide.mark_replaced(bedrock.history.known_goods(rolled.model), replaced)
    current = rolled.model_copy(update={"version": replaced}) if isinstance(replaced, int) else None
    decision = decide(
        "rolled_back",
        f"{by}: rolled back {rolled.model} from v{replaced} to v{rolled.version} through {where} "
        f"({rolled.custom_model_arn}); v{replaced} is marked rolled back and is not deployed "
        "again",
        LedgerAction.ROLLED_BACK,
        current,
        rolled,
        True,
    )
    # Last: until every record above is written, a retry completes the rollback again.
    bedrock.history.applied(rolled.model, rolled.version)
    return decision
