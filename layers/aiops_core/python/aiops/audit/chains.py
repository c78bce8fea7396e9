"""A model's decision chains, read back from the audit ledger.

Every run is one chain: triggering event → decisions → workflow execution → pipeline execution →
model package → gate result → end. Ledger entries are grouped by `cause.run_id`; entries without
one (ignored or alert-only drift decisions, …) are standalone decisions. Actions this module does
not know are kept as plain decisions, never an error. Live status (the execution's, the package's
current approval) is added by `enrich` through lookups the caller provides.

Pure functions over `LedgerEntry`: no AWS here (the lookups live in `aiops.adapters.audit_sources`).
"""

from collections.abc import Container, Iterable
from datetime import UTC, datetime
from functools import cache
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from aiops.ledger import LedgerAction, LedgerEntry, is_drift

# Actions that start a run (or stand for its start), in the order a run records its steps.
_TRIGGERS = frozenset(
    {LedgerAction.RETRAIN_REQUESTED, LedgerAction.RETRAIN_DRY_RUN, LedgerAction.FOLLOW_UP_STARTED}
)
_GATES: dict[LedgerAction | str, str] = {
    LedgerAction.GATE_REJECTED: "rejected",
    LedgerAction.GATE_APPROVED: "approved",
    LedgerAction.AWAITING_APPROVAL: "awaiting approval",
    LedgerAction.GATE_DRY_RUN: "dry run",
}
# How a person's approval of the run's candidate ended (after the run itself, usually).
_APPROVALS: dict[LedgerAction | str, str] = {
    LedgerAction.APPROVED: "approved",
    LedgerAction.APPROVAL_REJECTED: "rejected",
    LedgerAction.APPROVAL_SUPERSEDED: "superseded",
    LedgerAction.APPROVAL_TIMED_OUT: "timed out",
    LedgerAction.APPROVAL_FAILED: "failed",
    LedgerAction.APPROVAL_REQUESTED: "pending",
}
_ENDS = frozenset({LedgerAction.RUN_SUCCEEDED, LedgerAction.RUN_FAILED})
# Steps only the retrain workflow records: a run with one of them had an execution.
_WORKFLOW_STEPS = frozenset({LedgerAction.RUN_STARTED, LedgerAction.TRIGGER_COALESCED, *_ENDS})
_STAGE: dict[LedgerAction | str, int] = {
    LedgerAction.RUN_STARTED: 1,
    LedgerAction.TRIGGER_COALESCED: 1,
    LedgerAction.WINDOWS_CARRIED_IN: 2,
    LedgerAction.PIPELINE_STARTED: 3,
    LedgerAction.CANDIDATE_REGISTERED: 4,
    **dict.fromkeys(_GATES, 5),
    LedgerAction.APPROVAL_REQUESTED: 5,
}
_UNKNOWN_STAGE = 6  # after the known steps of the same instant, before the run's end
_END_STAGE = 7
# A person decides after the run has ended (the approval is a workflow of its own).
_APPROVAL_STAGE = 8


class _Record(BaseModel):
    """The audit's records are values: built once, never changed."""

    model_config = ConfigDict(frozen=True)


class LiveStatus(_Record):
    """A status read from AWS now: its value, or why it could not be read."""

    value: str | None = None
    unknown: str | None = None

    @classmethod
    def of(cls, value: str) -> "LiveStatus":
        return cls(value=value)

    @classmethod
    def unavailable(cls, reason: str) -> "LiveStatus":
        return cls(unknown=reason or "no reason given")

    def text(self) -> str:
        return self.value if self.value is not None else f"unknown ({self.unknown})"


class StatusLookup(Protocol):
    def status(self, arn: str) -> LiveStatus:
        """The resource's current status; `LiveStatus.unavailable(reason)` rather than raise."""
        ...


class Decision(_Record):
    at: datetime
    action: str
    reason: str
    cause: dict[str, Any] = Field(default_factory=dict)


class Trigger(_Record):
    kind: str
    reason: str
    action: str | None = None
    at: datetime | None = None
    event_id: str | None = None
    trigger_id: str | None = None
    after_run: str | None = None


class Execution(_Record):
    name: str
    arn: str | None = None
    status: LiveStatus | None = None


class Package(_Record):
    arn: str
    name: str
    approval: LiveStatus | None = None


class GateResult(_Record):
    outcome: str
    action: str
    reason: str
    at: datetime
    champion: str | None = None


class HumanApproval(_Record):
    """The approval of the run's candidate: pending, or how it ended and who decided."""

    outcome: str
    reason: str
    at: datetime
    approver: str | None = None
    via: str | None = None


class RunEnd(_Record):
    outcome: str
    reason: str
    at: datetime


class Chain(_Record):
    run_id: str
    outcome: str  # succeeded, failed, coalesced, dry run, open (no end recorded yet)
    started_at: datetime
    last_at: datetime
    trigger: Trigger | None = None
    decisions: list[Decision]
    execution: Execution | None = None
    pipeline_execution: str | None = None
    manifest: str | None = None
    package: Package | None = None
    gate: GateResult | None = None
    approval: HumanApproval | None = None
    end: RunEnd | None = None
    coalesced_into: str | None = None


class Audit(_Record):
    model: str
    entries: int  # the model's ledger entries read, before filters
    since: datetime | None = None
    run: str | None = None
    chains: list[Chain] = Field(default_factory=list)
    standalone: list[Decision] = Field(default_factory=list)


# ------------------------------------------------------------------ building


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _run_id(entry: LedgerEntry) -> str | None:
    value = entry.cause.get("run_id")
    return value if isinstance(value, str) and value else None


def _text(cause: dict[str, Any], key: str) -> str | None:
    value = cause.get(key)
    return str(value) if value not in (None, "") else None


def _is_trigger(entry: LedgerEntry) -> bool:
    if entry.action in _TRIGGERS or is_drift(entry.action):
        return True
    # An action this module does not know that names the execution it started is a start.
    return entry.action not in _STAGE and entry.action not in _ENDS and "execution" in entry.cause


def _stage(entry: LedgerEntry) -> int:
    if _is_trigger(entry):
        return 0
    if entry.action in _ENDS:
        return _END_STAGE
    if entry.action in _APPROVALS and entry.action != LedgerAction.APPROVAL_REQUESTED:
        return _APPROVAL_STAGE
    return _STAGE.get(entry.action, _UNKNOWN_STAGE)


def _decision(entry: LedgerEntry) -> Decision:
    return Decision(
        at=_utc(entry.at), action=entry.action, reason=entry.reason, cause=dict(entry.cause)
    )


def _trigger_kind(trigger: LedgerEntry | None, trigger_id: str | None, event_id: str | None) -> str:
    action = trigger.action if trigger is not None else "unknown"
    trigger_id = trigger_id or ""
    if action == LedgerAction.FOLLOW_UP_STARTED:
        return "follow_up"
    if action.startswith("drift_"):
        return "drift"
    if trigger_id.startswith("follow-up:"):
        return "follow_up"
    if trigger_id.startswith("drift:"):
        return "drift"
    if trigger_id.startswith("window:") or (trigger is not None and "window" in trigger.cause):
        # A window closed by an upload names its event; one closed by the sweep does not.
        return "new_data" if event_id else "window_age"
    return action


def _trigger(ordered: list[LedgerEntry]) -> Trigger | None:
    first = next((e for e in ordered if _is_trigger(e)), None)
    started = next((e for e in ordered if e.action == LedgerAction.RUN_STARTED), None)
    source = first or started
    if source is None:
        return None
    first_cause = first.cause if first is not None else {}
    started_cause = started.cause if started is not None else {}
    event_id = _text(first_cause, "event_id") or _text(started_cause, "event_id")
    trigger_id = _text(started_cause, "trigger")
    if trigger_id is None and _text(first_cause, "window"):
        trigger_id = f"window:{first_cause['window']}"
    return Trigger(
        kind=_trigger_kind(first, trigger_id, event_id),
        reason=source.reason,
        action=first.action if first is not None else None,
        at=_utc(source.at),
        event_id=event_id,
        trigger_id=trigger_id,
        after_run=_text(first_cause, "after"),
    )


def _package_name(arn: str) -> str:
    """`arn:…:model-package/churn/1` → `churn/1`."""
    _, marker, rest = arn.partition(":model-package/")
    return rest if marker and rest else arn


def _execution_name(arn: str) -> str:
    return arn.rsplit(":", 1)[-1]


def _last(ordered: list[LedgerEntry], key: str) -> str | None:
    for entry in reversed(ordered):
        value = _text(entry.cause, key)
        if value:
            return value
    return None


def _latest(
    ordered: list[LedgerEntry], actions: Container[LedgerAction | str]
) -> LedgerEntry | None:
    return next((e for e in reversed(ordered) if e.action in actions), None)


def _execution(
    run_id: str, ordered: list[LedgerEntry], actions: set[LedgerAction | str]
) -> Execution | None:
    arn = _last(ordered, "execution")
    if arn:
        return Execution(name=_execution_name(arn), arn=arn)
    if actions & _WORKFLOW_STEPS:
        # The workflow ran (its steps are recorded); the run id is its execution name.
        return Execution(name=run_id)
    return None


def _gate(ordered: list[LedgerEntry]) -> GateResult | None:
    entry = _latest(ordered, _GATES)
    if entry is None:
        return None
    return GateResult(
        outcome=_GATES[entry.action],
        action=entry.action,
        reason=entry.reason,
        at=_utc(entry.at),
        champion=_text(entry.cause, "champion"),
    )


def _approval(ordered: list[LedgerEntry]) -> HumanApproval | None:
    entry = _latest(ordered, _APPROVALS)
    if entry is None:
        return None
    return HumanApproval(
        outcome=_APPROVALS[entry.action],
        reason=entry.reason,
        at=_utc(entry.at),
        approver=_text(entry.cause, "approver"),
        via=_text(entry.cause, "via"),
    )


def _end(ordered: list[LedgerEntry]) -> RunEnd | None:
    entry = _latest(ordered, _ENDS)
    if entry is None:
        return None
    return RunEnd(outcome=entry.action.removeprefix("run_"), reason=entry.reason, at=_utc(entry.at))


def _outcome(end: RunEnd | None, actions: set[LedgerAction | str]) -> str:
    if end is not None:
        return end.outcome
    if LedgerAction.RUN_STARTED in actions:
        return "open"
    if LedgerAction.TRIGGER_COALESCED in actions:
        return "coalesced"
    if LedgerAction.RETRAIN_DRY_RUN in actions:
        return "dry run"
    return "open"


def _chain(run_id: str, ordered: list[LedgerEntry]) -> Chain:
    actions = {e.action for e in ordered}
    package_arn = _last(ordered, "model_package")
    end = _end(ordered)
    coalesced = next((e for e in ordered if e.action == LedgerAction.TRIGGER_COALESCED), None)
    return Chain(
        run_id=run_id,
        outcome=_outcome(end, actions),
        started_at=_utc(ordered[0].at),
        last_at=_utc(ordered[-1].at),
        trigger=_trigger(ordered),
        decisions=[_decision(e) for e in ordered],
        execution=_execution(run_id, ordered, actions),
        pipeline_execution=_last(ordered, "pipeline_execution"),
        manifest=_last(ordered, "manifest"),
        package=Package(arn=package_arn, name=_package_name(package_arn)) if package_arn else None,
        gate=_gate(ordered),
        approval=_approval(ordered),
        end=end,
        coalesced_into=_text(coalesced.cause, "holder") if coalesced is not None else None,
    )


def build_audit(
    model: str,
    entries: Iterable[LedgerEntry],
    since: datetime | None = None,
    run: str | None = None,
) -> Audit:
    """The model's chains, oldest first, and its standalone decisions in time order.

    Within a run, entries of the same instant are put in the order the workflow records them
    (the ledger's sort key orders them by hash). `since` keeps the chains with an entry at or
    after it (whole) and the standalone decisions from it on; `run` keeps that run's chain only.
    """
    mine = [e for e in entries if e.model == model]
    runs: dict[str, list[tuple[int, LedgerEntry]]] = {}
    alone: list[tuple[int, LedgerEntry]] = []
    for index, entry in enumerate(mine):
        run_id = _run_id(entry)
        if run_id is None:
            alone.append((index, entry))
        else:
            runs.setdefault(run_id, []).append((index, entry))
    chains = []
    for run_id, indexed in runs.items():
        indexed.sort(key=lambda pair: (_utc(pair[1].at), _stage(pair[1]), pair[0]))
        chains.append(_chain(run_id, [entry for _, entry in indexed]))
    chains.sort(key=lambda c: (c.started_at, c.run_id))
    alone.sort(key=lambda pair: (_utc(pair[1].at), pair[0]))
    standalone = [_decision(entry) for _, entry in alone]
    cutoff = _utc(since) if since is not None else None
    if cutoff is not None:
        chains = [c for c in chains if c.last_at >= cutoff]
        standalone = [d for d in standalone if d.at >= cutoff]
    if run is not None:
        chains = [c for c in chains if c.run_id == run]
        standalone = []
    return Audit(
        model=model,
        entries=len(mine),
        since=cutoff,
        run=run,
        chains=chains,
        standalone=standalone,
    )


def with_state_machine(audit: Audit, state_machine_arn: str) -> Audit:
    """Name the execution ARN of chains whose ledger entries did not (the run id is the
    execution's name), so that its status can be looked up."""
    prefix, marker, machine = state_machine_arn.rpartition(":stateMachine:")
    if not marker:
        return audit
    chains = []
    for chain in audit.chains:
        if chain.execution is not None and chain.execution.arn is None:
            arn = f"{prefix}:execution:{machine}:{chain.execution.name}"
            chain = chain.model_copy(
                update={"execution": chain.execution.model_copy(update={"arn": arn})}
            )
        chains.append(chain)
    return audit.model_copy(update={"chains": chains})


def enrich(
    audit: Audit, executions: StatusLookup | None = None, packages: StatusLookup | None = None
) -> Audit:
    """Add each chain's live execution status and its package's current approval status; each
    ARN is looked up once."""
    execution_status = cache(executions.status) if executions is not None else None
    package_status = cache(packages.status) if packages is not None else None
    chains = []
    for chain in audit.chains:
        update: dict[str, Any] = {}
        if execution_status is not None and chain.execution is not None:
            arn = chain.execution.arn
            status = (
                execution_status(arn)
                if arn
                else LiveStatus.unavailable("execution ARN not recorded")
            )
            update["execution"] = chain.execution.model_copy(update={"status": status})
        if package_status is not None and chain.package is not None:
            approval = package_status(chain.package.arn)
            update["package"] = chain.package.model_copy(update={"approval": approval})
        chains.append(chain.model_copy(update=update) if update else chain)
    return audit.model_copy(update={"chains": chains})


# ------------------------------------------------------------------ rendering


def iso(value: datetime) -> str:
    return _utc(value).isoformat(timespec="seconds").replace("+00:00", "Z")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _decision_lines(decisions: list[Decision], indent: str, events: bool = False) -> list[str]:
    width = max((len(d.action) for d in decisions), default=0)
    lines = []
    for d in decisions:
        event = _text(d.cause, "event_id") if events else None
        suffix = f"  (event {event})" if event else ""
        lines.append(f"{indent}{iso(d.at)}  {d.action:<{width}}  {d.reason}{suffix}")
    return lines


def _chain_lines(chain: Chain) -> list[str]:
    pad = " " * 14
    span = iso(chain.started_at)
    if chain.last_at != chain.started_at:
        span += f" … {iso(chain.last_at)}"
    outcome = chain.outcome
    if chain.outcome == "coalesced" and chain.coalesced_into:
        outcome = f"coalesced into run {chain.coalesced_into}"
    lines = [f"run {chain.run_id}  {outcome}  {span}"]
    trigger = chain.trigger
    if trigger is not None:
        lines.append(f"  trigger     {trigger.kind}: {trigger.reason}")
        refs = [f"event {trigger.event_id}"] if trigger.event_id else []
        if trigger.trigger_id:
            refs.append(trigger.trigger_id)
        if trigger.after_run:
            refs.append(f"after run {trigger.after_run}")
        if refs:
            lines.append(pad + ", ".join(refs))
    lines.append("  decisions")
    lines += _decision_lines(chain.decisions, "    ")
    if chain.execution is not None:
        status = f"  status {chain.execution.status.text()}" if chain.execution.status else ""
        lines.append(f"  execution   {chain.execution.name}{status}")
        if chain.execution.arn:
            lines.append(pad + chain.execution.arn)
    if chain.pipeline_execution:
        lines.append(f"  pipeline    {chain.pipeline_execution}")
    if chain.manifest:
        lines.append(f"{pad}manifest {chain.manifest}")
    if chain.package is not None:
        approval = (
            f"  approval now {chain.package.approval.text()}" if chain.package.approval else ""
        )
        lines.append(f"  package     {chain.package.name}{approval}")
        if chain.package.name != chain.package.arn:
            lines.append(pad + chain.package.arn)
    if chain.gate is not None:
        lines.append(f"  gate        {chain.gate.outcome}: {chain.gate.reason}")
        if chain.gate.champion:
            lines.append(f"{pad}champion {_package_name(chain.gate.champion)}")
    if chain.approval is not None:
        lines.append(
            f"  approval    {chain.approval.outcome} at {iso(chain.approval.at)}: "
            f"{chain.approval.reason}"
        )
    if chain.end is not None:
        lines.append(
            f"  end         {chain.end.outcome} at {iso(chain.end.at)}: {chain.end.reason}"
        )
    elif chain.coalesced_into:
        lines.append(
            f"  end         its trigger is handed to a follow-up of {chain.coalesced_into}"
        )
    return lines


def render(audit: Audit) -> str:
    """The audit as an indented, readable text; times in ISO 8601 UTC."""
    filters = []
    if audit.since is not None:
        filters.append(f"since {iso(audit.since)}")
    if audit.run is not None:
        filters.append(f"run {audit.run}")
    header = (
        f"{audit.model}: {_plural(len(audit.chains), 'run')}, "
        f"{_plural(len(audit.standalone), 'standalone decision')}"
        f" ({audit.entries} ledger {'entry' if audit.entries == 1 else 'entries'}"
        + (f"; {', '.join(filters)}" if filters else "")
        + ")"
    )
    lines = [header]
    for chain in audit.chains:
        lines.append("")
        lines += _chain_lines(chain)
    if audit.standalone:
        lines += ["", "standalone decisions"]
        lines += _decision_lines(audit.standalone, "  ", events=True)
    return "\n".join(lines) + "\n"
