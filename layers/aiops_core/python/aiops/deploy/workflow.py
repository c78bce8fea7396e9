"""The deploy workflow's steps: start (lock, Model, EndpointConfig, Create/UpdateEndpoint), wait
for SageMaker's outcome on events, finish (read the endpoint, record, hand the lock over).

SageMaker runs the blue/green deployment and its auto-rollback; the workflow never polls: an
endpoint event wakes it, and it reads the endpoint itself before it believes anything.
"""

import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict

from aiops.deploy.config import deployment_config, describe_strategy, lease, outcome_wait
from aiops.deploy.dependencies import DeployDependencies
from aiops.deploy.model import (
    MARK_DEPLOYED,
    MARK_ROLLED_BACK,
    MARK_SHADOW_DISCARDED,
    Deployed,
    Deployment,
    DeploymentRequest,
    EndpointView,
    KnownGood,
    PackageSpec,
    ShadowVariants,
    VariantStats,
)
from aiops.deploy.ports import DeployLocks
from aiops.ledger import Ledger, LedgerAction, record
from aiops.policy import Policy, SageMakerDeployPolicy, SageMakerModelPolicy, ShadowPolicy
from aiops.runs.rendezvous import JobOutcome, TaskNoLongerWaiting, resume
from aiops.units import format_duration

# The event is parsed by the function that receives it: the workflow's other steps never
# create its model classes.
if TYPE_CHECKING:
    from aiops.events.sagemaker import EndpointStateChange

# The lease a handed-over lock starts with when its model left the policy meanwhile.
HANDOVER_LEASE = timedelta(hours=3)
# After SageMaker rolled a deployment back, alarms for this long belong to that incident.
INCIDENT_QUIET = timedelta(minutes=30)
# After a shadow test's scheduled end, time for SageMaker to complete it and publish its metrics.
SHADOW_SETTLE = timedelta(minutes=5)


class EndpointBusy(RuntimeError):
    """The endpoint is changing (another update, a rollback): the step is retried later."""


class StartResult(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)
    action: Literal["started", "serving", "queued", "skipped", "shadow"]
    reason: str
    wait_seconds: int = 0


class FinishResult(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)
    outcome: Literal["promoted", "rolled_back", "failed", "timed_out", "done"]
    reason: str
    next_execution: str | None = None


def _model(policy: Policy, request: DeploymentRequest) -> SageMakerModelPolicy | None:
    model = policy.models.get(request.model)
    if not isinstance(model, SageMakerModelPolicy) or model.deploy.endpoint != request.endpoint:
        return None
    return model


def _cause(request: DeploymentRequest, **more: Any) -> dict[str, Any]:
    return {
        "package_arn": request.package_arn,
        "version": request.version,
        "endpoint": request.endpoint,
        "execution": request.execution_name,
        **{k: v for k, v in more.items() if v is not None},
    }


def take_turn(
    locks: DeployLocks,
    request: DeploymentRequest,
    now: datetime,
    lease: timedelta,
    ledger: Ledger,
    cause: Callable[[DeploymentRequest], dict[str, Any]],
    waits_to: str,
) -> tuple[Literal["skipped", "queued"], str] | None:
    """Claim the lock (an endpoint's, or a Bedrock model's) for `request`: None when it holds it
    now, else how the step ends and why. A request that lost its place is recorded superseded,
    one that waits behind the holder (`waits_to` finish) queued."""
    claim = locks.claim(request, now, lease)
    if claim.superseded is not None:
        older = claim.superseded
        reason = (
            f"v{older.version} gave way to a newer approved version waiting already"
            if older.deployment_id == request.deployment_id
            else f"v{older.version} gave way to v{request.version}, approved later"
        )
        record(ledger, older.model, now, LedgerAction.DEPLOY_SUPERSEDED, reason, cause(older))
    if claim.acquired:
        return None
    if not claim.queued:
        return "skipped", "a newer approved version waits already"
    reason = f"v{request.version} waits for {claim.holder} to {waits_to}"
    record(ledger, request.model, now, LedgerAction.DEPLOY_QUEUED, reason, cause(request))
    return "queued", reason


def hand_over(
    locks: DeployLocks,
    request: DeploymentRequest,
    now: datetime,
    lease: timedelta,
    deps: DeployDependencies,
    cause: Callable[[DeploymentRequest], dict[str, Any]],
    waited: str,
) -> str | None:
    """Release `request`'s lock; the request that waited behind it (`waited` says where and
    what it does now) inherits it and is started: its execution, recorded."""
    following = locks.release(request.endpoint, request.deployment_id, now, lease)
    if following is None:
        return None
    following = following.model_copy(update={"start": "handover"})
    execution = deps.starter.start(following)
    if execution is None:
        return None  # a retried finish: started already, and recorded
    record(
        deps.ledger,
        following.model,
        now,
        LedgerAction.DEPLOY_REQUESTED,
        f"v{following.version} waited behind v{request.version} {waited}",
        cause(following),
    )
    return execution


def record_started(
    ledger: Ledger,
    request: DeploymentRequest,
    now: datetime,
    onto: str,
    previous_version: int | None,
    how: str,
    cause: dict[str, Any],
) -> str:
    """The change was accepted (by SageMaker, or Bedrock): its `deploy_started` entry; the
    reason, said."""
    since = f" (replacing v{previous_version})" if previous_version else ""
    reason = f"v{request.version} → {onto}{since}: {how}"
    record(ledger, request.model, now, LedgerAction.DEPLOY_STARTED, reason, cause)
    return reason


def record_deployed(
    deps: DeployDependencies,
    request: DeploymentRequest,
    now: datetime,
    where: str,
    reason: str,
    cause: dict[str, Any],
) -> None:
    """The version serves (promoted already): the package marked deployed `where` since now,
    the `deployed` entry and its alert."""
    deps.packages.mark(request.package_arn, {MARK_DEPLOYED: f"{where} since {now.isoformat()}"})
    record(deps.ledger, request.model, now, LedgerAction.DEPLOYED, reason, cause)
    deps.alerts.publish(f"[aiops] {request.model} v{request.version} deployed", reason)


def error_text(error: dict[str, Any]) -> str:
    """A Catch's error ({Error, Cause}) in words, bounded."""
    cause = str(error.get("Cause") or "")[:500]
    return f"{error.get('Error', 'error')}: {cause}" if cause else str(error.get("Error", "error"))


def start_deployment(
    request: DeploymentRequest,
    policy: Policy,
    deps: DeployDependencies,
    now: datetime,
    after_shadow: bool = False,
) -> StartResult:
    """Take the endpoint (or wait behind its deployment), then create the Model and the
    EndpointConfig and ask SageMaker to create or update the endpoint."""
    model = _model(policy, request)
    if model is None:
        reason = f"{request.model} no longer deploys to {request.endpoint} (policy changed)"
        record(
            deps.ledger, request.model, now, LedgerAction.DEPLOY_SKIPPED, reason, _cause(request)
        )
        _release(request, None, deps, now)  # a lock handed to it must not wait for its lease
        return StartResult(action="skipped", reason=reason)
    deploy = model.deploy
    waits_to = f"finish on {request.endpoint}"
    turn = take_turn(deps.locks, request, now, lease(deploy), deps.ledger, _cause, waits_to)
    if turn is not None:
        return StartResult(action=turn[0], reason=turn[1])
    wait = int(outcome_wait(deploy).total_seconds())

    flight = deps.history.in_flight(request.endpoint)
    ours = flight is not None and flight.request.deployment_id == request.deployment_id
    if ours and flight is not None and flight.requested_at is not None:
        # A retried step: SageMaker has it already.
        if flight.how != "shadow":
            return StartResult(action="started", reason="already started", wait_seconds=wait)
        if not after_shadow:
            left = _shadow_wait(deploy) - int((now - flight.requested_at).total_seconds())
            return StartResult(
                action="shadow", reason="shadow test running", wait_seconds=max(left, 1)
            )

    deployed = deps.history.deployed(request.endpoint)
    artifact = _artifact(request, deps.packages.spec(request.package_arn), deployed)
    if isinstance(artifact, _Refusal):
        record(deps.ledger, request.model, now, artifact.action, artifact.reason, _cause(request))
        _release(request, deploy, deps, now)
        return StartResult(action="skipped", reason=artifact.reason)
    image, model_data_url = artifact

    view = deps.endpoints.describe(request.endpoint)
    name = request.resource_name
    if view is not None and view.status != "InService":
        accepted = (view.status == "Updating" and view.pending_config == name) or (
            view.status == "Creating" and view.endpoint_config == name
        )
        if accepted:
            # A retried step whose UpdateEndpoint went through: only the record is missing.
            if flight is not None:
                deps.history.begin(flight.model_copy(update={"requested_at": now}))
            return StartResult(action="started", reason="already started", wait_seconds=wait)
        raise EndpointBusy(
            f"{request.endpoint} is {view.status}: a deployment starts once it is InService"
        )
    if view is not None and view.endpoint_config == name:
        if ours and flight is not None and flight.requested_at is None:
            # A retried step whose create or update went through and ended: record it.
            deps.history.begin(flight.model_copy(update={"requested_at": now}))
        return StartResult(action="serving", reason=f"{name} serves {request.endpoint} already")

    tags = {"aiops:model": request.model, "aiops:version": str(request.version)}
    deps.endpoints.ensure_model(name, image, model_data_url, tags)
    deps.endpoints.ensure_endpoint_config(
        name, name, deploy.variant, deploy.instance_type, deploy.instance_count, tags
    )
    # A first deployment (no endpoint yet) has no production to shadow.
    if deploy.strategy == "shadow" and not after_shadow and view is not None:
        return _start_shadow(request, deploy, view, deployed, deps, now)
    deployment = Deployment(
        request=request,
        how="created" if view is None else deploy.shifts_traffic_by,
        model_name=name,
        endpoint_config=name,
        previous_config=view.endpoint_config if view is not None else None,
        previous_version=deployed.version if deployed is not None else None,
        rollback_alarms=list(deploy.rollback_alarms),
        started_at=now,
    )
    deps.history.begin(deployment)
    if view is None:
        deps.endpoints.create(request.endpoint, name, tags)
        how = f"creating {request.endpoint} on {deploy.instance_count} x {deploy.instance_type}"
    else:
        deps.endpoints.update(request.endpoint, name, deployment_config(deploy))
        how = describe_strategy(deploy)
    deps.history.begin(deployment.model_copy(update={"requested_at": now}))
    reason = record_started(
        deps.ledger,
        request,
        now,
        request.endpoint,
        deployment.previous_version,
        how,
        _cause(request, endpoint_config=name, previous_config=deployment.previous_config),
    )
    return StartResult(action="started", reason=reason, wait_seconds=wait)


def shadow_test_name(request: DeploymentRequest) -> str:
    return f"{request.resource_name}-shadow"


def _shadow_wait(deploy: SageMakerDeployPolicy) -> int:
    duration = deploy.shadow.duration if deploy.shadow is not None else timedelta(0)
    return int((duration + SHADOW_SETTLE).total_seconds())


def _start_shadow(
    request: DeploymentRequest,
    deploy: SageMakerDeployPolicy,
    view: EndpointView,
    deployed: Deployed | None,
    deps: DeployDependencies,
    now: datetime,
) -> StartResult:
    """Run the candidate as a shadow variant beside production (CreateInferenceExperiment)."""
    shadow = deploy.shadow
    assert shadow is not None  # the caller checked
    production = deps.endpoints.production_model(view.endpoint_config, deploy.variant)
    if production is None:
        raise ValueError(
            f"{request.endpoint}'s EndpointConfig {view.endpoint_config} has no variant "
            f"{deploy.variant} to shadow"
        )
    name = request.resource_name
    flight = Deployment(
        request=request,
        how="shadow",
        model_name=name,
        endpoint_config=name,
        previous_config=view.endpoint_config,
        previous_version=deployed.version if deployed is not None else None,
        rollback_alarms=list(deploy.rollback_alarms),
        started_at=now,
    )
    deps.history.begin(flight)
    deps.shadows.start(
        shadow_test_name(request),
        request.endpoint,
        ShadowVariants(
            production_model=production,
            production_variant=deploy.variant,
            shadow_model=name,
            shadow_variant=f"shadow-v{request.version}"[:63],
            sampling_percent=shadow.sampling_percent,
            instance_type=deploy.instance_type,
            instance_count=deploy.instance_count,
        ),
        now + shadow.duration,
    )
    deps.history.begin(flight.model_copy(update={"requested_at": now}))
    against = f"v{flight.previous_version}" if flight.previous_version else production
    reason = (
        f"v{request.version} shadows {against} on {request.endpoint}: "
        f"{shadow.sampling_percent}% of requests copied for {format_duration(shadow.duration)}; "
        f"then its 5xx rate and latency against production's decide ({shadow.then} or discard)"
    )
    record(deps.ledger, request.model, now, LedgerAction.SHADOW_STARTED, reason, _cause(request))
    return StartResult(action="shadow", reason=reason, wait_seconds=_shadow_wait(deploy))


class ShadowVerdict(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)
    promote: bool
    reason: str
    next_execution: str | None = None


def judge_shadow(
    request: DeploymentRequest, policy: Policy, deps: DeployDependencies, now: datetime
) -> ShadowVerdict:
    """The shadow test's end: the candidate's 5xx rate and latency against production's, by the
    policy; promote (the workflow then shifts traffic) or discard (marked, never deployed)."""
    model = _model(policy, request)
    flight = deps.history.in_flight(request.endpoint)
    if flight is None or flight.request.deployment_id != request.deployment_id:
        execution = _release(request, model.deploy if model else None, deps, now)
        return ShadowVerdict(
            promote=False,
            reason="no shadow test in flight (judged already)",
            next_execution=execution,
        )
    if model is None or model.deploy.shadow is None:
        verdict, why = False, "the policy no longer asks for a shadow test"
        shadow_variant = f"shadow-v{request.version}"
    else:
        rules = model.deploy.shadow
        shadow_variant = f"shadow-v{request.version}"[:63]
        since = flight.requested_at or flight.started_at
        production = deps.shadows.stats(request.endpoint, model.deploy.variant, since, now)
        candidate = deps.shadows.stats(request.endpoint, shadow_variant, since, now)
        verdict, why = _compare(production, candidate, rules)
    deps.shadows.stop(shadow_test_name(request))
    if verdict:
        reason = f"v{request.version}'s shadow test passed on {request.endpoint}: {why}"
        record(
            deps.ledger, request.model, now, LedgerAction.SHADOW_PROMOTED, reason, _cause(request)
        )
        return ShadowVerdict(promote=True, reason=reason)
    reason = f"v{request.version}'s shadow test failed on {request.endpoint}: {why}; discarded"
    deps.packages.mark(
        request.package_arn, {MARK_SHADOW_DISCARDED: f"{now.isoformat()} {why}"[:256]}
    )
    record(deps.ledger, request.model, now, LedgerAction.SHADOW_DISCARDED, reason, _cause(request))
    deps.alerts.publish(f"[aiops] {request.model} v{request.version}: shadow test failed", reason)
    deps.history.end(request.endpoint, request.deployment_id)
    execution = _release(request, model.deploy if model else None, deps, now)
    return ShadowVerdict(promote=False, reason=reason, next_execution=execution)


def _compare(
    production: VariantStats, candidate: VariantStats, rules: ShadowPolicy
) -> tuple[bool, str]:
    if candidate.invocations < rules.min_invocations:
        return False, (
            f"{candidate.invocations:.0f} shadow requests, fewer than the "
            f"{rules.min_invocations} needed to judge"
        )
    problems: list[str] = []
    facts: list[str] = []
    if candidate.error_rate is None or production.error_rate is None:
        problems.append("no 5xx rate to compare")
    else:
        limit = production.error_rate + rules.max_error_rate_increase
        facts.append(
            f"5xx rate {candidate.error_rate:.4f} vs production {production.error_rate:.4f}"
        )
        if candidate.error_rate > limit:
            problems.append(f"5xx rate {candidate.error_rate:.4f} above {limit:.4f}")
    if candidate.latency_ms is None or production.latency_ms is None:
        problems.append("no latency to compare")
    else:
        limit = production.latency_ms * (1 + rules.max_latency_increase)
        facts.append(
            f"latency {candidate.latency_ms:.1f} ms vs production {production.latency_ms:.1f} ms"
        )
        if candidate.latency_ms > limit:
            problems.append(f"latency {candidate.latency_ms:.1f} ms above {limit:.1f} ms")
    if problems:
        return False, "; ".join(problems)
    return True, f"{'; '.join(facts)} on {candidate.invocations:.0f} requests"


class _Refusal(NamedTuple):
    action: LedgerAction
    reason: str


def _artifact(
    request: DeploymentRequest, spec: PackageSpec | None, deployed: Deployed | None
) -> tuple[str, str] | _Refusal:
    """The package's image and model artifact, or why it is not deployed after all."""
    skipped = LedgerAction.DEPLOY_SKIPPED
    if spec is None or spec.approval_status != "Approved":
        status = "gone" if spec is None else spec.approval_status
        return _Refusal(skipped, f"v{request.version} is {status}, no longer Approved")
    if spec.rolled_back:
        return _Refusal(skipped, f"v{request.version} was rolled back ({spec.rolled_back})")
    if not spec.image or not spec.model_data_url:
        return _Refusal(
            skipped, f"v{request.version} has no container image or model artifact to deploy"
        )
    if deployed is not None and deployed.version > request.version:
        return _Refusal(
            LedgerAction.DEPLOY_SUPERSEDED,
            f"v{deployed.version}, newer, serves {request.endpoint} already",
        )
    if deployed is not None and deployed.version == request.version:
        return _Refusal(skipped, f"v{request.version} serves {request.endpoint} already")
    return spec.image, spec.model_data_url


def await_deployment(
    request: DeploymentRequest, task_token: str, deps: DeployDependencies
) -> Literal["waiting", "resumed"]:
    """Park the workflow's task token until the endpoint's outcome is known (it may be
    already: then resume at once)."""
    flight = deps.history.in_flight(request.endpoint)
    if flight is None or flight.request.deployment_id != request.deployment_id:
        raise LookupError(f"no deployment of {request.deployment_id} in flight")
    resumption = deps.rendezvous.register_waiter(
        flight.wait_key, task_token, {}, run_id=f"deploy/{request.deployment_id}"
    )
    if resumption is None:
        return "waiting"
    with contextlib.suppress(TaskNoLongerWaiting):
        resume(deps.resumer, resumption)
    return "resumed"


class EndpointEventDecision(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)
    action: Literal["resumed", "recorded", "settled_late", "ignored"]
    reason: str


def on_endpoint_event(
    change: "EndpointStateChange", policy: Policy, deps: DeployDependencies, now: datetime
) -> EndpointEventDecision:
    """An endpoint event: when our deployment on it has ended (read from the endpoint itself,
    never from the event), resume the workflow waiting for it."""
    endpoint = change.detail.endpoint_name
    flight = deps.history.in_flight(endpoint)
    if flight is None or flight.requested_at is None:
        return EndpointEventDecision(
            action="ignored", reason=f"no deployment in flight on {endpoint}"
        )
    view = deps.endpoints.describe(endpoint)
    if view is not None and not view.settled:
        return EndpointEventDecision(action="ignored", reason=f"{endpoint} is still {view.status}")
    outcome = JobOutcome(
        status="Succeeded",
        detail={
            "endpoint_status": view.status if view else "Deleted",
            "endpoint_config": view.endpoint_config if view else None,
        },
    )
    first, resumption = deps.rendezvous.record_outcome(flight.wait_key, outcome)
    if resumption is None:
        return EndpointEventDecision(
            action="recorded" if first else "ignored",
            reason="outcome recorded; the workflow picks it up" if first else "already recorded",
        )
    if resumption.abandoned is not None:
        # The workflow gave up waiting: record what happened now, so the history is whole.
        result = _settle(flight, view, policy, deps, now, late=True)
        deps.rendezvous.mark_settled(flight.wait_key)
        return EndpointEventDecision(action="settled_late", reason=result.reason)
    try:
        resume(deps.resumer, resumption)
    except TaskNoLongerWaiting:
        return EndpointEventDecision(action="ignored", reason="the workflow no longer waits")
    return EndpointEventDecision(
        action="resumed", reason=f"{endpoint} is {outcome.detail['endpoint_status']}"
    )


def finish_deployment(
    request: DeploymentRequest,
    policy: Policy,
    deps: DeployDependencies,
    now: datetime,
    error: dict[str, Any] | None = None,
) -> FinishResult:
    """Read the endpoint and record how the deployment ended; release the endpoint, starting
    the version that waited behind it."""
    model = _model(policy, request)
    flight = deps.history.in_flight(request.endpoint)
    if flight is None or flight.request.deployment_id != request.deployment_id:
        if error is not None:
            result = _failed(request, error_text(error), deps, now)
        else:
            result = FinishResult(outcome="done", reason="already finished")
        return _handover(request, model.deploy if model else None, deps, now, result)
    if flight.how == "shadow":
        # The shadow test's step failed: production never changed; the candidate is not
        # judged, so it is not marked either.
        with contextlib.suppress(Exception):
            deps.shadows.stop(shadow_test_name(request))
        deps.history.end(request.endpoint, request.deployment_id)
        why = error_text(error) if error else "the shadow test could not be judged"
        result = _failed(request, f"shadow test: {why}", deps, now)
        return _handover(request, model.deploy if model else None, deps, now, result)
    view = deps.endpoints.describe(request.endpoint)
    if flight.requested_at is None:
        # SageMaker never accepted it: nothing changed on the endpoint.
        deps.history.end(request.endpoint, request.deployment_id)
        result = _failed(request, error_text(error) if error else "the start failed", deps, now)
        return _handover(request, model.deploy if model else None, deps, now, result)
    if view is not None and not view.settled:
        waited = format_duration(now - flight.requested_at)
        deps.rendezvous.abandon(f"deploy/{request.deployment_id}", f"no outcome after {waited}")
        reason = (
            f"v{request.version} on {request.endpoint}: still {view.status} after {waited}; "
            "SageMaker rolls a deployment back past its timeout. The outcome is recorded when "
            "the endpoint settles."
        )
        record(deps.ledger, request.model, now, LedgerAction.DEPLOY_FAILED, reason, _cause(request))
        deps.alerts.publish(
            f"[aiops] {request.model} v{request.version}: deployment timed out", reason
        )
        result = FinishResult(outcome="timed_out", reason=reason)
        return _handover(request, model.deploy if model else None, deps, now, result)
    result = _settle(flight, view, policy, deps, now, late=False)
    return _handover(request, model.deploy if model else None, deps, now, result)


def _settle(
    flight: Deployment,
    view: EndpointView | None,
    policy: Policy,
    deps: DeployDependencies,
    now: datetime,
    late: bool,
) -> FinishResult:
    request = flight.request
    endpoint = request.endpoint
    late_note = " (reported after the workflow stopped waiting)" if late else ""
    if (
        view is not None
        and view.status == "InService"
        and view.endpoint_config == flight.endpoint_config
    ):
        previous = deps.history.deployed(endpoint)
        deps.history.promote(
            Deployed(
                model=request.model,
                endpoint=endpoint,
                version=request.version,
                package_arn=request.package_arn,
                endpoint_config=flight.endpoint_config,
                model_name=flight.model_name,
                since=now,
                how=flight.how,
                cause={"execution": request.execution_name, **request.cause},
            ),
            KnownGood(
                version=request.version,
                package_arn=request.package_arn,
                endpoint_config=flight.endpoint_config,
                model_name=flight.model_name,
                promoted_at=now,
            ),
        )
        was = f"; last known good was v{previous.version}" if previous else ""
        reason = (
            f"v{request.version} serves {endpoint} ({flight.how}) and is its last known good"
            f"{was}{late_note}"
        )
        cause = _cause(
            request, endpoint_config=flight.endpoint_config, previous_config=flight.previous_config
        )
        record_deployed(deps, request, now, endpoint, reason, cause)
        deps.history.end(endpoint, request.deployment_id)
        return FinishResult(outcome="promoted", reason=reason)
    if view is not None and view.status == "InService":
        fired = deps.alarms.firing(flight.rollback_alarms)
        why = (
            f"alarm {', '.join(fired)} fired"
            if fired
            else (view.failure_reason or "SageMaker reported no reason")
        )
        serving = f"v{flight.previous_version}" if flight.previous_version else view.endpoint_config
        reason = (
            f"SageMaker rolled v{request.version} back on {endpoint} during the deployment: {why}; "
            f"{serving} still serves{late_note}"
        )
        deps.packages.mark(
            request.package_arn,
            {MARK_ROLLED_BACK: f"{now.isoformat()} during deployment: {why}"[:256]},
        )
        record(
            deps.ledger,
            request.model,
            now,
            LedgerAction.DEPLOY_ROLLED_BACK,
            reason,
            _cause(
                request,
                alarms=fired or None,
                failure_reason=view.failure_reason,
                serving_config=view.endpoint_config,
            ),
        )
        deps.alerts.publish(f"[aiops] {request.model} v{request.version} rolled back", reason)
        # Slower alarms of the same incident must not roll the version that kept serving back.
        deps.history.hold_rollbacks(
            endpoint,
            now + INCIDENT_QUIET,
            f"SageMaker rolled v{request.version} back at {now:%Y-%m-%d %H:%M} UTC ({why})",
        )
        deps.history.end(endpoint, request.deployment_id)
        return FinishResult(outcome="rolled_back", reason=reason)
    status = view.status if view is not None else "gone"
    why = (view.failure_reason if view is not None else None) or f"the endpoint is {status}"
    deps.history.end(endpoint, request.deployment_id)
    return _failed(request, f"{why}{late_note}", deps, now)


def _failed(
    request: DeploymentRequest, why: str, deps: DeployDependencies, now: datetime
) -> FinishResult:
    reason = f"v{request.version} was not deployed to {request.endpoint}: {why}"
    record(deps.ledger, request.model, now, LedgerAction.DEPLOY_FAILED, reason, _cause(request))
    deps.alerts.publish(f"[aiops] {request.model} v{request.version}: deployment failed", reason)
    return FinishResult(outcome="failed", reason=reason)


def _release(
    request: DeploymentRequest,
    deploy: SageMakerDeployPolicy | None,
    deps: DeployDependencies,
    now: datetime,
) -> str | None:
    held = lease(deploy) if deploy is not None else HANDOVER_LEASE
    waited = f"on {request.endpoint}: deploying now"
    return hand_over(deps.locks, request, now, held, deps, _cause, waited)


def _handover(
    request: DeploymentRequest,
    deploy: SageMakerDeployPolicy | None,
    deps: DeployDependencies,
    now: datetime,
    result: FinishResult,
) -> FinishResult:
    execution = _release(request, deploy, deps, now)
    return result.model_copy(update={"next_execution": execution})
