"""Drift: a Model Monitor execution, an alarm on a Model Monitor metric, or our own drift check
→ the model's drift policy → retrain with the reason, alert only, or ignore; always explained.

Every signal has a natural key (the monitoring job, the alarm's state change, the report), so a
duplicate or concurrent delivery acts once; a drift-triggered retrain also claims the model's
cooldown atomically, so two different signals inside it start one run.
"""

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol, get_args

from pydantic import BaseModel, ConfigDict, Field

from aiops.drift.reports import (
    DRIFT_CHECK_WRITER,
    REPORT_CHECKED_AT_KEY,
    REPORT_MODEL_KEY,
    REPORT_NAME,
    REPORT_WRITER_KEY,
    STATISTICS_NAME,
    drift_report_prefix,
)
from aiops.drift.violations import InvalidReport, Violation, parse_violations
from aiops.events import InvalidEvent, parse_event
from aiops.events.cloudwatch import AlarmStateChange
from aiops.events.control_plane import DriftCheckCompleted
from aiops.events.sagemaker import ProcessingJobStateChange
from aiops.idempotency import IdempotencyStore, once
from aiops.ledger import Ledger, LedgerAction, LedgerEntry
from aiops.pauses import PauseStore, active_pause
from aiops.policy import DriftPolicy, Policy, SageMakerModelPolicy
from aiops.runs.ports import Alerts, RunStarter
from aiops.runs.requests import RunRequest, RunTrigger, execution_safe
from aiops.runs.window import WindowLimits, WindowStore
from aiops.storage import ObjectReader, ObjectUnreadable
from aiops.units import format_duration

# The AWS pages disagree on Model Monitor's namespace (events/README.md): accept each form.
MONITOR_METRICS_NAMESPACES = frozenset(
    {
        "aws/sagemaker/Endpoints/data-metrics",
        "aws/sagemaker/Endpoints/data-metric",
        "aws/sagemaker/Endpoint/data-metrics",
    }
)
# Model Monitor's per-feature metric names → the check type a violation of it is.
_METRIC_CHECKS = {
    "feature_baseline_drift_": "baseline_drift_check",
    "feature_non_null_": "completeness_check",
}
# Deliveries are retried by EventBridge for up to 24 h: remember each signal for longer.
SIGNAL_MEMORY = timedelta(days=2)


class ReportObjects(Protocol):
    def read_with_metadata(self, uri: str) -> tuple[str, dict[str, str]] | None:
        """The object's text and S3 user metadata (keys in lowercase), or None when there is no
        such object (`ObjectUnreadable` when it cannot be read)."""
        ...


@dataclass(frozen=True)
class DriftReports:
    """Our drift check's reports: in `drift/<model>/` of the artifacts bucket, with the metadata
    that names their writer and model. A report is trusted for what it is, not for what the
    event pointing at it says."""

    bucket: str
    objects: ReportObjects

    def verified(
        self, model: str, uri: str, claimed: int | None, now: datetime
    ) -> list[Violation] | str:
        """The report's violations, or why it is not a report our drift check wrote for `model`
        (outside the model's prefix, another writer or model, stale, or at odds with the
        event's count)."""
        prefix = drift_report_prefix(model)
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        stamp = key.removeprefix(prefix).removesuffix(f"/{REPORT_NAME}")
        if (
            not uri.startswith("s3://")
            or bucket != self.bucket
            or not key.startswith(prefix)
            or not key.endswith(f"/{REPORT_NAME}")
            or not stamp
            or "/" in stamp
        ):
            return (
                f"report {uri} is outside {prefix} of the artifacts bucket "
                f"(s3://{self.bucket}/{prefix}<time>/{REPORT_NAME}): not the drift check's"
            )
        try:
            stored = self.objects.read_with_metadata(uri)
        except ObjectUnreadable as exc:
            return str(InvalidReport(uri, exc.reason))
        if stored is None:
            return f"violations report missing: {uri}"
        text, metadata = stored
        writer, written_for = metadata.get(REPORT_WRITER_KEY), metadata.get(REPORT_MODEL_KEY)
        if writer != DRIFT_CHECK_WRITER or written_for != model:
            return (
                f"report {uri} not written by the drift check for {model} "
                f"(metadata {REPORT_WRITER_KEY}={writer!r}, {REPORT_MODEL_KEY}={written_for!r})"
            )
        checked_at = _aware_time(metadata.get(REPORT_CHECKED_AT_KEY))
        if checked_at is None:
            return f"report {uri} not written by the drift check: no valid {REPORT_CHECKED_AT_KEY}"
        if now - checked_at > SIGNAL_MEMORY:
            return (
                f"report {uri} was written at {checked_at.isoformat()}, more than "
                f"{format_duration(SIGNAL_MEMORY)} ago: a replay, not a new check"
            )
        try:
            violations = parse_violations(text, uri)
        except InvalidReport as exc:
            return str(exc)
        if claimed is not None and len(violations) != claimed:
            return f"report {uri} has {len(violations)} violation(s); the event says {claimed}"
        return violations


def _aware_time(text: str | None) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(text) if text else None
    except ValueError:
        return None
    return parsed if parsed is not None and parsed.tzinfo is not None else None


# Any of the three events the drift handler consumes, told apart by `detail-type`.
DriftEvent = ProcessingJobStateChange | AlarmStateChange | DriftCheckCompleted
# Dispatched by hand rather than through a pydantic discriminated union: that union's model costs
# about 8 ms to create and 20 ms to build on a cold start, and names the tag in every error.
_DRIFT_EVENTS: dict[str, type[DriftEvent]] = {
    kind: model
    for model in (ProcessingJobStateChange, AlarmStateChange, DriftCheckCompleted)
    for kind in get_args(model.model_fields["detail_type"].annotation)
}


def parse_drift_event(raw: Any) -> DriftEvent:
    """`raw` as the drift event its `detail-type` names, or `InvalidEvent` naming the field."""
    kind = raw.get("detail-type") if isinstance(raw, dict) else None
    model = _DRIFT_EVENTS.get(kind) if isinstance(kind, str) else None
    if model is None:
        expected = ", ".join(repr(k) for k in _DRIFT_EVENTS)
        shown = repr(kind)[:80] if isinstance(raw, dict) else "not a JSON object"
        raise InvalidEvent("drift", [f"detail-type: must be one of {expected} (is {shown})"])
    return parse_event(model, raw)


class DriftSignal(BaseModel):
    """What a drift event says, whatever its source."""

    model_config = ConfigDict(frozen=True, defer_build=True)
    source: Literal["model_monitor", "cloudwatch_alarm", "drift_check"]
    key: str
    event_id: str
    endpoint: str | None = None
    model: str | None = None
    report_uri: str | None = None
    violations: list[Violation] = Field(default_factory=list)
    # A report may legitimately be absent when the job says it found nothing.
    report_optional: bool = False
    # Our drift check's event says how many violations its report holds; the report must agree.
    claimed_violations: int | None = None
    problem: str | None = None
    not_drift: str | None = None

    @property
    def origin(self) -> str:
        return {
            "model_monitor": "Model Monitor execution",
            "cloudwatch_alarm": "alarm",
            "drift_check": "drift check",
        }[self.source]


def read_signal(event: DriftEvent, policy: Policy) -> DriftSignal:
    if isinstance(event, ProcessingJobStateChange):
        return _monitor_signal(event, policy)
    if isinstance(event, AlarmStateChange):
        return _alarm_signal(event, policy)
    return _check_signal(event)


def _model_of(policy: Policy, endpoint: str | None) -> str | None:
    match = policy.sagemaker_model_for_endpoint(endpoint) if endpoint else None
    return match[0] if match else None


def _monitor_signal(event: ProcessingJobStateChange, policy: Policy) -> DriftSignal:
    job = event.detail
    base: dict[str, Any] = {
        "source": "model_monitor",
        "key": f"monitor:{job.job_arn}:{job.status}",
        "event_id": event.id,
        "endpoint": job.endpoint,
        "model": _model_of(policy, job.endpoint),
    }
    if job.monitoring_schedule_arn is None:
        return DriftSignal(**base, not_drift="processing job is not a monitoring execution")
    if job.status in ("InProgress", "Stopping"):
        return DriftSignal(**base, not_drift=f"monitoring execution is {job.status}")
    if job.status != "Completed":
        why = job.failure_reason or job.exit_message or "no reason given"
        return DriftSignal(
            **base, problem=f"monitoring execution {job.job_name} {job.status}: {why}"
        )
    prefix = job.report_prefix
    if prefix is None:
        return DriftSignal(
            **base, problem=f"monitoring execution {job.job_name} names no S3 output"
        )
    exit_message = job.exit_message or ""
    return DriftSignal(
        **base,
        report_uri=f"{prefix.rstrip('/')}/{REPORT_NAME}",
        report_optional=exit_message.startswith("Completed:") and "no violations" in exit_message,
    )


def _alarm_signal(event: AlarmStateChange, policy: Policy) -> DriftSignal:
    alarm = event.detail
    metrics = alarm.metrics
    endpoint = next(
        (
            m.dimensions.get("Endpoint") or m.dimensions.get("EndpointName")
            for m in metrics
            if m.dimensions.get("Endpoint") or m.dimensions.get("EndpointName")
        ),
        None,
    )
    base: dict[str, Any] = {
        "source": "cloudwatch_alarm",
        "key": f"alarm:{alarm.alarm_name}:{alarm.state.timestamp}",
        "event_id": event.id,
        "endpoint": endpoint,
        "model": _model_of(policy, endpoint),
    }
    monitor_metrics = [m for m in metrics if m.namespace.strip("/") in MONITOR_METRICS_NAMESPACES]
    if not monitor_metrics:
        return DriftSignal(**base, not_drift="alarm is not on a Model Monitor metric")
    if alarm.state.value != "ALARM":
        return DriftSignal(**base, not_drift=f"alarm {alarm.alarm_name} is {alarm.state.value}")
    if alarm.previous_state is not None and alarm.previous_state.value == "ALARM":
        return DriftSignal(**base, not_drift=f"alarm {alarm.alarm_name} was already in ALARM")
    violations = []
    for metric in monitor_metrics:
        check, feature = "cloudwatch_alarm", metric.name
        for prefix, check_type in _METRIC_CHECKS.items():
            if metric.name.startswith(prefix):
                check, feature = check_type, metric.name[len(prefix) :]
        violations.append(
            Violation(
                feature_name=feature,
                constraint_check_type=check,
                description=f"alarm {alarm.alarm_name}: {alarm.state.reason}"[:500],
            )
        )
    return DriftSignal(**base, violations=violations)


def _check_signal(event: DriftCheckCompleted) -> DriftSignal:
    detail = event.detail
    return DriftSignal(
        source="drift_check",
        key=f"check:{detail.report_uri}",
        event_id=event.id,
        endpoint=detail.endpoint,
        model=detail.model,
        report_uri=detail.report_uri,
        # The drift check always writes its report before the event: none is not "no drift".
        claimed_violations=detail.violations,
    )


class CooldownClaim(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)
    granted: bool
    last_run_at: datetime | None = None


class DriftCooldowns(Protocol):
    def claim(
        self, model: str, key: str, run_id: str, now: datetime, cooldown: timedelta
    ) -> CooldownClaim:
        """Take the model's drift-retrain slot unless a drift run started within `cooldown`
        (the same `key` retried gets it again)."""
        ...

    def release(self, model: str, run_id: str) -> None:
        """Give the slot back when `run_id` did not start after all."""
        ...


class DriftDecision(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)
    action: Literal["retrain", "alert_only", "ignored", "duplicate", "dry_run", "held"]
    reason: str
    key: str
    model: str | None = None
    counted: list[Violation] = Field(default_factory=list)
    run_id: str | None = None


def counted_violations(violations: list[Violation], drift: DriftPolicy) -> list[Violation]:
    """The violations the model's drift policy counts: its check types, its features."""
    return [
        v
        for v in violations
        if v.constraint_check_type in drift.checks
        and (drift.features is None or v.feature_name in drift.features)
    ]


def describe(violations: list[Violation]) -> str:
    by_check: dict[str, list[str]] = {}
    for v in violations:
        by_check.setdefault(v.constraint_check_type, []).append(v.feature_name)
    return "; ".join(f"{check} on {', '.join(feats)}" for check, feats in by_check.items())


def _digest(signal: DriftSignal) -> str:
    return hashlib.sha256(signal.key.encode()).hexdigest()[:12]


def drift_run_id(model: str, signal: DriftSignal) -> str:
    """Same signal, same run id: starting it again is a no-op."""
    return execution_safe(f"{model}-d-{_digest(signal)}")[:80]


def drift_evidence_uri(signal: DriftSignal) -> str | None:
    """Our drift check's statistics beside the signal's report (what the approval page charts);
    None for Model Monitor's signals, which have no such statistics."""
    if signal.source != "drift_check" or signal.report_uri is None:
        return None
    folder, _, name = signal.report_uri.rpartition("/")
    return f"{folder}/{STATISTICS_NAME}" if folder and name == REPORT_NAME else None


def drift_run(model: str, signal: DriftSignal, reason: str, windows: list[int]) -> RunRequest:
    digest = _digest(signal)
    return RunRequest(
        model=model,
        run_id=drift_run_id(model, signal),
        trigger=RunTrigger(
            kind="drift",
            trigger_id=f"drift:{digest}",
            reason=reason,
            windows=windows,
            event_id=signal.event_id,
            evidence_uri=drift_evidence_uri(signal),
        ),
    )


@dataclass(frozen=True)
class DriftDependencies:
    """What the drift trigger acts through. `reports` reads Model Monitor's reports (its events
    come from AWS); `drift_reports` reads and verifies our own drift check's, whose event anyone
    allowed on the bus could forge."""

    reports: ObjectReader
    drift_reports: DriftReports
    cooldowns: DriftCooldowns
    signals: IdempotencyStore
    windows: WindowStore
    runs: RunStarter
    alerts: Alerts
    ledger: Ledger
    # A model's paused triggers: drift is recorded and its data held, no run starts.
    pauses: PauseStore


def on_drift(
    event: DriftEvent, policy: Policy, deps: DriftDependencies, now: datetime, owner: str
) -> DriftDecision:
    """Apply the model's drift policy to one drift event; acts once per signal."""
    signal = read_signal(event, policy)
    if signal.model is None or signal.model not in policy.sagemaker_models():
        where = f"endpoint {signal.endpoint}" if signal.endpoint else "no endpoint"
        return DriftDecision(
            action="ignored",
            key=signal.key,
            reason=f"{signal.origin} for {where}, which no SageMaker model of the policy serves",
        )
    name = signal.model
    model = policy.sagemaker_model(name)
    decide = _Decider(name, model, signal, deps, now, owner)
    if signal.source == "drift_check" and signal.report_uri is not None:
        found = deps.drift_reports.verified(name, signal.report_uri, signal.claimed_violations, now)
        if isinstance(found, str):
            # Decided outside `once`: a forged pointer must not use up the key of the report it
            # names, or one sent ahead of the drift check would make the check's event a duplicate.
            return decide.report_invalid(found)
        decide = replace(decide, signal=signal.model_copy(update={"violations": found}))
    ran, decision = once(deps.signals, f"drift:{signal.key}", now, SIGNAL_MEMORY, decide.run)
    if not ran or decision is None:
        return DriftDecision(
            action="duplicate",
            key=signal.key,
            model=name,
            reason="this signal was already acted on",
        )
    return decision


@dataclass(frozen=True)
class _Decider:
    """One signal's decision, with what acting on it needs."""

    name: str
    model: SageMakerModelPolicy
    signal: DriftSignal
    deps: DriftDependencies
    now: datetime
    owner: str

    def _cause(self, **extra: Any) -> dict[str, Any]:
        return {
            "event_id": self.signal.event_id,
            "signal": self.signal.key,
            "source": self.signal.source,
            "report": self.signal.report_uri,
            **extra,
        }

    def _decide(
        self,
        action: Literal["retrain", "alert_only", "ignored", "dry_run", "held"],
        ledger_action: LedgerAction,
        reason: str,
        counted: list[Violation] | None = None,
        run_id: str | None = None,
        alert: bool = False,
        **cause: Any,
    ) -> DriftDecision:
        counted = counted or []
        self.deps.ledger.append(
            LedgerEntry(
                model=self.name,
                at=self.now,
                action=ledger_action,
                reason=reason,
                cause=self._cause(
                    run_id=run_id,
                    violations=[v.model_dump() for v in counted],
                    **cause,
                ),
            )
        )
        if alert:
            self.deps.alerts.publish(
                f"[aiops] {self.name}: drift {'alert' if action != 'retrain' else 'retrain'}",
                f"{self.signal.origin} ({self.signal.key}): {reason}",
            )
        return DriftDecision(
            action=action,
            reason=reason,
            key=self.signal.key,
            model=self.name,
            counted=counted,
            run_id=run_id,
        )

    def report_invalid(self, reason: str) -> DriftDecision:
        return self._decide("alert_only", LedgerAction.DRIFT_REPORT_INVALID, reason, alert=True)

    def _violations(self) -> list[Violation] | DriftDecision:
        signal = self.signal
        # Our drift check's report was read and verified before the signal was claimed (on_drift).
        if signal.report_uri is None or signal.source == "drift_check":
            return list(signal.violations)
        try:
            text = self.deps.reports.read(signal.report_uri)
        except ObjectUnreadable as exc:
            report = InvalidReport(signal.report_uri, exc.reason)
            return self._decide(
                "alert_only", LedgerAction.DRIFT_REPORT_INVALID, str(report), alert=True
            )
        if text is None:
            if signal.report_optional:
                return []
            return self._decide(
                "alert_only",
                LedgerAction.DRIFT_REPORT_INVALID,
                f"violations report missing: {signal.report_uri}",
                alert=True,
            )
        try:
            return parse_violations(text, signal.report_uri)
        except InvalidReport as exc:
            return self._decide(
                "alert_only", LedgerAction.DRIFT_REPORT_INVALID, str(exc), alert=True
            )

    def run(self) -> DriftDecision:
        signal, drift = self.signal, self.model.drift
        if signal.not_drift:
            return self._decide("ignored", LedgerAction.DRIFT_IGNORED, signal.not_drift)
        if signal.problem:
            return self._decide(
                "alert_only", LedgerAction.DRIFT_ALERT_ONLY, signal.problem, alert=True
            )
        found = self._violations()
        if isinstance(found, DriftDecision):
            return found
        counted = counted_violations(found, drift)
        if not counted:
            reason = (
                "no violations"
                if not found
                else f"{len(found)} violation(s), none the policy counts "
                f"(checks {', '.join(drift.checks)}"
                + (f"; features {', '.join(drift.features)})" if drift.features else ")")
            )
            return self._decide("ignored", LedgerAction.DRIFT_IGNORED, reason)
        summary = f"{len(counted)} violation(s): {describe(counted)}"
        if len(counted) < drift.min_violations:
            return self._decide(
                "alert_only",
                LedgerAction.DRIFT_ALERT_ONLY,
                f"{summary}; below the policy's {drift.min_violations} to retrain",
                counted,
                alert=True,
            )
        reason = f"{signal.origin} found {summary}"
        if self.model.dry_run:
            return self._decide(
                "dry_run", LedgerAction.DRIFT_DRY_RUN, f"{reason}; dry_run: nothing started"
            )
        pause = active_pause(self.deps.pauses, self.name, self.now)
        if pause is not None:
            return self._hold(reason, summary, counted, pause.describe())
        run_id = drift_run_id(self.name, signal)
        claim = self.deps.cooldowns.claim(self.name, signal.key, run_id, self.now, drift.cooldown)
        if not claim.granted:
            last = claim.last_run_at.isoformat() if claim.last_run_at else "recently"
            return self._decide(
                "alert_only",
                LedgerAction.DRIFT_ALERT_ONLY,
                f"{summary}; within the {format_duration(drift.cooldown)} cooldown "
                f"(last drift run {last})",
                counted,
                alert=True,
            )
        try:
            return self._retrain(reason, summary, counted, run_id)
        except BaseException:
            # Nothing started: the slot must not block the next signal for a whole cooldown.
            self.deps.cooldowns.release(self.name, run_id)
            raise

    def _hold(
        self, reason: str, summary: str, counted: list[Violation], paused: str
    ) -> DriftDecision:
        # The data the retrain would train on is closed into a window now, under the drift's
        # reason, and left unstarted: the first sweep after the pause starts it. One held window
        # is enough; data arriving later keeps counting in the open window.
        held = self.deps.windows.unstarted(self.name)
        if not held:
            limits = WindowLimits.from_policy(self.model.data.window)
            closed = self.deps.windows.close(
                self.name, limits, self.now, self.owner, force_reason=reason
            )
            held = [closed] if closed is not None else []
        if not held:
            return self._decide(
                "alert_only",
                LedgerAction.DRIFT_ALERT_ONLY,
                f"{summary}; no new training data to hold for a retrain ({paused})",
                counted,
                alert=True,
            )
        windows = [w.window_id for w in held]
        return self._decide(
            "held",
            LedgerAction.RUN_HELD,
            f"{reason}: a retrain would start; held: {paused}",
            counted,
            alert=True,
            windows=windows,
        )

    def _retrain(
        self, reason: str, summary: str, counted: list[Violation], run_id: str
    ) -> DriftDecision:
        # The run trains on the freshest data: the open window (closed now), any window a
        # crash or an earlier attempt of this signal closed but did not start, carried windows.
        limits = WindowLimits.from_policy(self.model.data.window)
        closed = self.deps.windows.close(
            self.name, limits, self.now, self.owner, force_reason=reason
        )
        seqs = sorted(
            {w.seq for w in self.deps.windows.unstarted(self.name)}
            | ({closed.seq} if closed else set())
        )
        if not seqs and not self.deps.windows.carried(self.name):
            # Retraining on the very data the model already saw would not answer the drift.
            self.deps.cooldowns.release(self.name, run_id)
            return self._decide(
                "alert_only",
                LedgerAction.DRIFT_ALERT_ONLY,
                f"{summary}; no new training data since the last run to retrain on",
                counted,
                alert=True,
            )
        request = drift_run(self.name, self.signal, reason, seqs)
        execution = self.deps.runs.start(request)
        for seq in seqs:
            self.deps.windows.mark_started(self.name, seq)
        return self._decide(
            "retrain",
            LedgerAction.DRIFT_RETRAIN,
            reason,
            counted,
            run_id=request.run_id,
            execution=execution,
            windows=request.trigger.windows,
        )
