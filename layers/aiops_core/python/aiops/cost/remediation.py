"""A cost signal → each model it belongs to → that model's budget actions, once each.

Every action is idempotent on (signal, model, action) and recorded in the ledger with the
signal (done, skipped with the reason, or already done); under `dry_run` each is recorded as
skipped. An action that fails raises: the delivery is retried (what was done is not redone) and,
once retries are spent, the event is kept in the dead-letter queue.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiops.cost.attribution import Scope, alarm_signal, anomaly_signal, attribute
from aiops.cost.model import (
    ActionOutcome,
    Attribution,
    CostActionName,
    CostDecision,
    CostSignal,
    ResumeResult,
    VariantCapacity,
)
from aiops.cost.ports import (
    EndpointCapacity,
    ResumeNotices,
    Rollbacks,
    RunningJobs,
    SavedCapacities,
)
from aiops.events.cloudwatch import AlarmStateChange
from aiops.events.cost import AnomalyDetected
from aiops.idempotency import IdempotencyStore, once
from aiops.ledger import Ledger, LedgerAction, record
from aiops.pauses import Pause, PauseStore
from aiops.policy import BedrockModelPolicy, Policy, SageMakerModelPolicy
from aiops.runs.ports import Alerts
from aiops.units import format_duration

# Cost Anomaly Detection re-sends an anomaly as it grows; one anomaly acts once for this long.
SIGNAL_MEMORY = timedelta(days=90)
# Cost Anomaly Detection dates an anomaly by the day its spend began.
ANOMALY_DAY = timedelta(days=1)
# The ledger's model for a signal no model's budget matches (not a valid model name).
UNATTRIBUTED = "(unattributed)"
# Destructive actions first, then the alert that says what was done.
ACTION_ORDER: tuple[CostActionName, ...] = (
    "pause_triggers",
    "stop_jobs",
    "scale_to_min",
    "rollback",
    "notify",
)


@dataclass(frozen=True)
class ResumeDependencies:
    """What undoing remediation acts through (`aiops resume`, a spend alarm back to OK)."""

    pauses: PauseStore
    endpoints: EndpointCapacity
    saved: SavedCapacities
    notices: ResumeNotices
    alerts: Alerts
    ledger: Ledger


@dataclass(frozen=True)
class CostDependencies:
    """What cost remediation acts through."""

    signals: IdempotencyStore
    pauses: PauseStore
    endpoints: EndpointCapacity
    saved: SavedCapacities
    jobs: RunningJobs
    rollbacks: Rollbacks
    notices: ResumeNotices
    alerts: Alerts
    ledger: Ledger
    # Where the control plane runs: root causes elsewhere are not its models'.
    scope: Scope

    @property
    def resuming(self) -> ResumeDependencies:
        return ResumeDependencies(
            pauses=self.pauses,
            endpoints=self.endpoints,
            saved=self.saved,
            notices=self.notices,
            alerts=self.alerts,
            ledger=self.ledger,
        )


def on_anomaly(
    event: AnomalyDetected, policy: Policy, deps: CostDependencies, now: datetime
) -> CostDecision:
    return _on_signal(anomaly_signal(event), policy, deps, now)


def on_alarm(
    event: AlarmStateChange, policy: Policy, deps: CostDependencies, now: datetime
) -> CostDecision:
    """Every alarm state change reaches this: only the spend alarms a budget names count."""
    signal = alarm_signal(event)
    found = policy.model_for_spend_alarm(signal.alarm_name or "")
    if found is None:
        return CostDecision(
            action="ignored", key=signal.key, reason=f"{signal.origin} is no model's spend alarm"
        )
    if signal.alarm_state == "OK" and signal.alarm_previous != "ALARM":
        # A new alarm settles INSUFFICIENT_DATA → OK: no spend was ever alarmed on.
        return CostDecision(
            action="ignored",
            key=signal.key,
            models=[found[0]],
            reason=f"{signal.origin} is OK, coming from {signal.alarm_previous or 'nothing'}: "
            "nothing to undo",
        )
    if signal.alarm_state == "OK":
        return _once(deps, signal, now, lambda: _alarm_ok(signal, found[0], policy, deps, now))
    if signal.alarm_state != "ALARM":
        return CostDecision(
            action="ignored",
            key=signal.key,
            models=[found[0]],
            reason=f"{signal.origin} is {signal.alarm_state}: no spend evidence either way",
        )
    return _on_signal(signal, policy, deps, now)


def _once(
    deps: CostDependencies, signal: CostSignal, now: datetime, act: Callable[[], CostDecision]
) -> CostDecision:
    ran, decision = once(deps.signals, f"cost:{signal.delivery_key}", now, SIGNAL_MEMORY, act)
    if not ran or decision is None:
        return CostDecision(
            action="duplicate", key=signal.key, reason=f"{signal.origin} was already acted on"
        )
    return decision


def _on_signal(
    signal: CostSignal, policy: Policy, deps: CostDependencies, now: datetime
) -> CostDecision:
    return _once(deps, signal, now, lambda: _remediate(signal, policy, deps, now))


def _cause(signal: CostSignal, **extra: Any) -> dict[str, Any]:
    cause: dict[str, Any] = {"event_id": signal.event_id, "signal": signal.key}
    if signal.source == "anomaly":
        cause.update(
            anomaly_id=signal.anomaly_id,
            impact_usd=signal.impact_usd,
            started=signal.started_at.isoformat(),
            monitor=signal.monitor_name or signal.monitor_arn,
            link=signal.link,
        )
    else:
        cause.update(alarm=signal.alarm_name, state_reason=signal.alarm_reason[:300])
    cause.update({k: v for k, v in extra.items() if v is not None})
    return cause


def _remediate(
    signal: CostSignal, policy: Policy, deps: CostDependencies, now: datetime
) -> CostDecision:
    found, why = attribute(signal, policy, deps.scope)
    if not found:
        reason = f"{signal.origin}: attributed to no model: {why}"
        record(
            deps.ledger,
            UNATTRIBUTED,
            now,
            LedgerAction.COST_SIGNAL_UNATTRIBUTED,
            reason,
            _cause(signal),
        )
        deps.alerts.publish(
            f"[aiops] cost: {signal.origin} matches no model",
            _message(signal, reason, []),
        )
        return CostDecision(action="unattributed", key=signal.key, reason=reason)
    outcomes: list[ActionOutcome] = []
    acted: list[str] = []
    for attribution in found:
        outcomes.extend(_for_model(signal, attribution, policy, deps, now))
        acted.append(attribution.model)
    summary = "; ".join(f"{o.model} {o.action}: {o.outcome}" for o in outcomes)
    return CostDecision(
        action="remediated" if outcomes else "below_threshold",
        key=signal.key,
        models=acted,
        outcomes=outcomes,
        reason=f"{signal.origin}: {summary or 'below every budget threshold: no action'}",
    )


def _for_model(
    signal: CostSignal,
    attribution: Attribution,
    policy: Policy,
    deps: CostDependencies,
    now: datetime,
) -> list[ActionOutcome]:
    name = attribution.model
    model = policy.model(name)
    budget = model.budget
    cause = _cause(signal, attributed=attribution.how, model_impact_usd=attribution.impact_usd)
    impact = attribution.impact_usd
    if signal.source == "anomaly" and impact is not None and impact < budget.anomaly_min_usd:
        reason = (
            f"{signal.origin}: ${impact:,.2f} on {name}, below its budget's "
            f"anomaly_min_usd ${budget.anomaly_min_usd:,.2f}: no action"
        )
        record(deps.ledger, name, now, LedgerAction.COST_BELOW_THRESHOLD, reason, cause)
        return []
    act = _Actions(signal, name, model, attribution, deps, now, cause)
    outcomes: list[ActionOutcome] = []
    failure: Exception | None = None
    for action in ACTION_ORDER:
        if action not in budget.actions and not (
            action == "notify" and attribution.strength == "service"
        ):
            continue
        try:
            outcomes.append(act.run(action, outcomes))
        except Exception as error:  # noqa: BLE001 - recorded, told, then raised for a retry
            outcomes.append(act.failed(action, error))
            failure = failure or error
    if failure is not None:
        # The people were told (notify runs last, with the failure); the delivery is retried,
        # and what was done is not redone (each action is claimed on its own).
        raise failure
    return outcomes


@dataclass(frozen=True)
class _Actions:
    signal: CostSignal
    name: str
    model: SageMakerModelPolicy | BedrockModelPolicy
    attribution: Attribution
    deps: CostDependencies
    now: datetime
    cause: dict[str, Any]

    def run(self, action: CostActionName, before: list[ActionOutcome]) -> ActionOutcome:
        skip = self._why_not(action)
        if skip is not None:
            return self._record(action, "skipped", skip)
        key = f"cost:{self.signal.key}:{self.name}:{action}"

        def act() -> ActionOutcome:
            if action == "notify":
                return self._notify(before)
            outcome, detail = self._acts[action]()
            return self._record(action, outcome, detail)

        ran, outcome = once(self.deps.signals, key, self.now, SIGNAL_MEMORY, act)
        if not ran or outcome is None:
            # Done by an earlier delivery that did not finish the rest: recorded then.
            return ActionOutcome(
                model=self.name, action=action, outcome="already_done", detail="done earlier"
            )
        return outcome

    @property
    def _acts(self) -> dict[CostActionName, Callable[[], tuple[str, str]]]:
        return {
            "pause_triggers": self._pause_triggers,
            "stop_jobs": self._stop_jobs,
            "scale_to_min": self._scale_to_min,
            "rollback": self._rollback,
        }

    def failed(self, action: CostActionName, error: Exception) -> ActionOutcome:
        detail = f"failed: {type(error).__name__}: {str(error)[:300]}"
        record(
            self.deps.ledger,
            self.name,
            self.now,
            LedgerAction.COST_ACTION_FAILED,
            f"{action}: {detail}",
            {**self.cause, "action": action},
        )
        return ActionOutcome(model=self.name, action=action, outcome="failed", detail=detail)

    def _why_not(self, action: CostActionName) -> str | None:
        if self.attribution.strength == "service" and action != "notify":
            return f"attributed by service only ({self.attribution.how})"
        if self.model.dry_run:
            return "dry_run: recorded, not done"
        return None

    def _record(self, action: CostActionName, outcome: str, detail: str) -> ActionOutcome:
        ledger_action = {
            "done": LedgerAction.COST_ACTION_DONE,
            "skipped": LedgerAction.COST_ACTION_SKIPPED,
        }.get(outcome, LedgerAction.COST_ACTION_DONE)
        record(
            self.deps.ledger,
            self.name,
            self.now,
            ledger_action,
            f"{action}: {detail}",
            {**self.cause, "action": action},
        )
        return ActionOutcome(
            model=self.name,
            action=action,
            outcome="done" if outcome == "done" else "skipped",
            detail=detail,
        )

    # ---------------------------------------------------------------- the actions

    def _pause_triggers(self) -> tuple[str, str]:
        until = self.now + self.model.budget.pause_for if self.model.budget.pause_for else None
        pause = Pause(
            model=self.name,
            owner=self.signal.origin,
            reason=f"{self._spend()} ({self.attribution.how})",
            since=self.now,
            until=until,
            cause={k: v for k, v in self.cause.items() if isinstance(v, str | int | float)},
        )
        if self.deps.pauses.pause(pause):
            return "done", pause.describe()
        held = self.deps.pauses.get(self.name)
        if held is not None and held.owner == pause.owner:
            # This signal's own pause, set by a delivery that stopped before recording it.
            return "done", held.describe()
        return "skipped", f"already paused: {held.describe() if held else 'by another signal'}"

    def _stop_jobs(self) -> tuple[str, str]:
        stopped: list[str] = []
        if isinstance(self.model, SageMakerModelPolicy):
            for arn in self.deps.jobs.pipeline_executions(self.model.pipeline):
                if self.deps.jobs.stop_pipeline_execution(arn):
                    stopped.append(arn)
        else:
            for arn in self.deps.jobs.customization_jobs(self.name):
                if self.deps.jobs.stop_customization_job(arn):
                    stopped.append(arn)
        if not stopped:
            return "skipped", "nothing running to stop"
        # The runs waiting on them end failed and carry their data into the next run.
        return "done", f"stopped {len(stopped)}: {', '.join(stopped)}; their data is carried"

    def _scale_to_min(self) -> tuple[str, str]:
        if not isinstance(self.model, SageMakerModelPolicy):
            return "skipped", "a Bedrock model is served on demand: no instances to scale"
        endpoint = self.model.deploy.endpoint
        state = self.deps.endpoints.state(endpoint)
        if state is None:
            return "skipped", f"endpoint {endpoint} does not exist"
        if state.model_tag != self.name:
            tag = f"tagged aiops:model={state.model_tag}" if state.model_tag else "untagged"
            return "skipped", f"endpoint {endpoint} is {tag}: not the control plane's {self.name}"
        if state.status != "InService":
            return "skipped", (
                f"endpoint {endpoint} is {state.status}: an update is under way; not scaled "
                "(the next signal, or `aiops status`, shows it)"
            )
        to_scale = [v for v in state.variants if _above_minimum(v)]
        if not to_scale:
            return "skipped", f"endpoint {endpoint} already runs at its minimum"
        origin = self.signal.origin
        self.deps.saved.save(
            self.name,
            [v.model_copy(update={"saved_by": origin}) for v in to_scale],
            {**self.cause, "at": self.now.isoformat()},
        )
        targets = [
            v.model_copy(
                update={
                    "instances": v.minimum,
                    "scaling_min": v.minimum if v.scaled else None,
                    "scaling_max": v.minimum if v.scaled else None,
                }
            )
            for v in to_scale
        ]
        self.deps.endpoints.set_capacity(targets)
        done = [f"{v.describe()} → {t.instances}" for v, t in zip(to_scale, targets, strict=True)]
        return "done", "; ".join(done) + " (previous capacity kept for resume)"

    def _rollback(self) -> tuple[str, str]:
        deployed = self.deps.rollbacks.deployed_at(self.name)
        if deployed is None:
            return "skipped", "nothing the control plane deployed serves it"
        within = self.model.budget.rollback_within
        started = self.signal.started_at
        if deployed < started - within:
            return "skipped", (
                f"serving since {deployed.isoformat()}, more than {format_duration(within)} "
                f"before the spend started ({started.isoformat()}): not the deployment's doing"
            )
        # An anomaly's start is a day (its spend is daily): a deployment later that day may
        # have started it; one after that came during the anomaly — perhaps its fix.
        latest = started + ANOMALY_DAY if self.signal.source == "anomaly" else started
        if deployed > latest:
            return "skipped", (
                f"serving since {deployed.isoformat()}, after the spend started "
                f"({started.isoformat()}): not what started it"
            )
        rolled, why = self.deps.rollbacks.roll_back(self.name, self.signal.origin, self.cause)
        return ("done" if rolled else "skipped"), why

    def _notify(self, before: list[ActionOutcome]) -> ActionOutcome:
        detail = f"alerted: {self._what()}"
        outcome = self._record("notify", "done", detail)
        self.deps.alerts.publish(
            f"[aiops] {self.name}: {self.signal.origin}",
            _message(self.signal, f"{self._what()} — attributed: {self.attribution.how}", before),
        )
        return outcome

    def _what(self) -> str:
        return f"{self.signal.origin}: {self._spend()}"

    def _spend(self) -> str:
        if self.signal.source == "anomaly":
            impact = self.attribution.impact_usd
            money = f"${impact:,.2f}" if impact is not None else "unknown impact"
            return f"{money} above expected since {self.signal.started_at.date()}"
        reason = f": {self.signal.alarm_reason}" if self.signal.alarm_reason else ""
        return f"in ALARM{reason}"


def _above_minimum(variant: VariantCapacity) -> bool:
    low = variant.minimum
    return variant.instances > low or (variant.scaled and variant.scaling_max != low)


def _message(signal: CostSignal, headline: str, outcomes: list[ActionOutcome]) -> str:
    lines = [headline]
    if signal.link:
        lines.append(f"Details: {signal.link}")
    for cause in signal.root_causes:
        lines.append(
            f"Root cause: {cause.service or '?'} {cause.usage_type or '?'} "
            f"{cause.region or '?'} {cause.linked_account or '?'}"
            + (f" ${cause.contribution_usd:,.2f}" if cause.contribution_usd is not None else "")
        )
    for o in outcomes:
        lines.append(f"{o.action}: {o.outcome} — {o.detail}")
    if any(o.outcome == "done" for o in outcomes):
        lines.append("Undo: aiops resume MODEL")
    return "\n".join(lines)


# ---------------------------------------------------------------- undo


def _alarm_ok(
    signal: CostSignal, name: str, policy: Policy, deps: CostDependencies, now: datetime
) -> CostDecision:
    model = policy.model(name)
    if not model.budget.resume_on_ok:
        return CostDecision(
            action="ignored",
            key=signal.key,
            models=[name],
            reason=f"{signal.origin} back to OK; the budget does not resume on OK "
            "(resume_on_ok: false): `aiops resume` lifts what it did",
        )
    # Only what this alarm did: a pause or a scale-down of another signal stays.
    result = resume(
        name,
        policy,
        deps.resuming,
        now,
        by=signal.origin,
        cause=_cause(signal),
        only_of=signal.origin,
    )
    if not result.lifted and not result.restored:
        reason = f"{signal.origin} back to OK: nothing of its own to undo ({result.reason})"
        record(deps.ledger, name, now, LedgerAction.COST_ACTION_SKIPPED, reason, _cause(signal))
        return CostDecision(action="ignored", key=signal.key, models=[name], reason=reason)
    return CostDecision(action="resumed", key=signal.key, models=[name], reason=result.reason)


def resume(
    name: str,
    policy: Policy,
    deps: ResumeDependencies,
    now: datetime,
    *,
    by: str,
    cause: dict[str, Any],
    only_of: str | None = None,
) -> ResumeResult:
    """Lift the model's pause and restore the capacity a scale-down saved (with `only_of`:
    only the pause and capacity that signal set); tell the sweeps, which start what the pause
    held. Running it again does nothing more."""
    policy.model(name)  # an unknown model is an error, not "nothing to resume"
    left: list[str] = []
    held = deps.pauses.get(name)
    lifted: Pause | None = None
    if held is not None and only_of is not None and held.owner != only_of:
        left.append(f"the pause is {held.owner}'s: left in place")
    elif held is not None:
        lifted = deps.pauses.lift(name)
    if lifted is not None:
        # Recorded and announced at once: a restore that fails below must not leave a lifted
        # pause unrecorded (running resume again would find nothing to lift).
        record(
            deps.ledger,
            name,
            now,
            LedgerAction.TRIGGERS_RESUMED,
            f"resumed by {by}: {lifted.describe()}",
            {**cause, "paused_by": lifted.owner},
        )
        deps.notices.resumed(name, by)
    try:
        restored, still, dropped = _restore(name, deps, now, by, cause, only_of, left)
    except Exception as error:
        if lifted is None:
            raise
        raise ResumeIncomplete(lifted, error) from error
    parts: list[str] = []
    if lifted is not None:
        parts.append(f"lifted the pause ({lifted.describe()})")
    if restored:
        parts.append("restored " + "; ".join(v.describe() for v in restored))
    parts.extend(left)
    reason = f"{name}: " + ("; ".join(parts) if parts else "nothing paused or scaled down")
    if lifted is not None or restored:
        deps.alerts.publish(f"[aiops] {name}: resumed by {by}", reason)
    return ResumeResult(
        model=name,
        pause=lifted,
        restored=restored,
        still_scaled_down=still,
        dropped=dropped,
        reason=reason,
    )


class ResumeIncomplete(RuntimeError):
    """The pause was lifted (recorded, announced), then restoring capacity failed: resuming
    again restores what is left."""

    def __init__(self, lifted: Pause, error: Exception) -> None:
        self.lifted = lifted
        super().__init__(f"failed after lifting the pause ({lifted.describe()}): {error}")


def _restore(
    name: str,
    deps: ResumeDependencies,
    now: datetime,
    by: str,
    cause: dict[str, Any],
    only_of: str | None,
    left: list[str],
) -> tuple[list[VariantCapacity], list[VariantCapacity], list[VariantCapacity]]:
    """The saved capacity (with `only_of`: that signal's) restored per endpoint in one call:
    (restored, still scaled down, dropped); why anything stays is added to `left`."""
    restored: list[VariantCapacity] = []
    still: list[VariantCapacity] = []
    dropped: list[VariantCapacity] = []
    by_endpoint: dict[str, list[VariantCapacity]] = {}
    for saved in deps.saved.saved(name):
        if only_of is not None and saved.saved_by != only_of:
            left.append(f"{saved.endpoint}/{saved.variant} was scaled down by {saved.saved_by}")
            continue
        by_endpoint.setdefault(saved.endpoint, []).append(saved)
    for endpoint, saved_variants in by_endpoint.items():
        state = deps.endpoints.state(endpoint)
        if state is None:
            deps.saved.forget(name, saved_variants)
            dropped.extend(saved_variants)
            left.append(f"{endpoint} is gone: nothing to restore")
            continue
        if state.status != "InService":
            still.extend(saved_variants)
            left.append(f"{endpoint} is {state.status}: restore it by resuming again")
            continue
        deps.endpoints.set_capacity(
            [v.model_copy(update={"saved_by": None}) for v in saved_variants]
        )
        deps.saved.forget(name, saved_variants)
        restored.extend(saved_variants)
        for saved in saved_variants:
            record(
                deps.ledger,
                name,
                now,
                LedgerAction.CAPACITY_RESTORED,
                f"{saved.describe()} restored by {by}",
                {**cause, "endpoint": saved.endpoint, "variant": saved.variant},
            )
    return restored, still, dropped
