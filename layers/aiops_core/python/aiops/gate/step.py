"""The gate as a workflow step: apply the rules, then act on the registry, ledger and alerts."""

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from aiops.gate.rules import GateResult, evaluate_gate
from aiops.ledger import Ledger, LedgerAction, record
from aiops.policy import Policy
from aiops.registry import Candidate, ModelRegistry
from aiops.runs.ports import Alerts
from aiops.runs.requests import RunRequest, execution_safe
from aiops.runs.steps import ApprovalRequest
from aiops.verdicts import GateVerdict, GateVerdicts


@dataclass(frozen=True)
class GateDependencies:
    """What the gate acts through (retrain and fine-tune runs alike)."""

    registry: ModelRegistry
    alerts: Alerts
    ledger: Ledger
    verdicts: GateVerdicts


class GateOutcome(BaseModel):
    # Metrics travel to Step Functions as JSON: a non-finite one as a string (see Candidate).
    model_config = ConfigDict(frozen=True, ser_json_inf_nan="strings", defer_build=True)
    decision: Literal["approve", "await_human", "reject"]
    reason: str
    package_arn: str
    champion_arn: str | None = None
    # Set when a person must decide: the approval workflow's input.
    approval: ApprovalRequest | None = None


def gate_candidate(
    request: RunRequest,
    candidate: Candidate,
    policy: Policy,
    deps: GateDependencies,
    now: datetime,
) -> GateOutcome:
    """Apply the automatic gate: reject with the reason, approve, or hand off to a human."""
    model = policy.model(request.model)
    champion = deps.registry.champion(model.package_group)
    if champion is not None and champion.package_arn == candidate.package_arn:
        champion = None
    result: GateResult = evaluate_gate(
        model.gate, candidate.metrics, champion.metrics if champion else None
    )
    cause = {
        "run_id": request.run_id,
        "model_package": candidate.package_arn,
        "champion": champion.package_arn if champion else None,
    }
    if not model.dry_run:
        # Before the registry changes: whoever sees the package change can check our verdict.
        deps.verdicts.record(
            GateVerdict(
                package_arn=candidate.package_arn,
                model=request.model,
                decision=result.decision,
                reason=result.summary,
                run_id=request.run_id,
                at=now,
            )
        )
    approval: ApprovalRequest | None = None
    if model.dry_run:
        record(
            deps.ledger,
            request.model,
            now,
            LedgerAction.GATE_DRY_RUN,
            f"would {result.decision}: {result.summary}",
            cause,
        )
    elif result.decision == "reject":
        deps.registry.set_status(
            candidate.package_arn, "Rejected", f"aiops gate: {result.summary}"[:1024]
        )
        record(deps.ledger, request.model, now, LedgerAction.GATE_REJECTED, result.summary, cause)
        deps.alerts.publish(
            f"[aiops] {request.model}: candidate v{candidate.version} rejected",
            f"Run {request.run_id}: model package {candidate.package_arn} was "
            f"rejected by the automatic gate: {result.summary}.",
        )
    elif result.decision == "approve":
        deps.registry.set_status(
            candidate.package_arn, "Approved", f"aiops gate: {result.summary}"[:1024]
        )
        record(deps.ledger, request.model, now, LedgerAction.GATE_APPROVED, result.summary, cause)
    else:
        # Hand-off: the package stays PendingManualApproval; the approval workflow asks a person.
        approval = ApprovalRequest(
            request=request,
            candidate=candidate,
            champion=champion,
            gate_reason=result.summary,
            timeout_seconds=int(model.gate.timeout.total_seconds()),
            execution_name=approval_execution_name(request.model, candidate),
        )
        record(
            deps.ledger,
            request.model,
            now,
            LedgerAction.AWAITING_APPROVAL,
            f"automatic checks passed ({result.summary}); the policy asks for a human",
            cause,
        )
    return GateOutcome(
        decision=result.decision,
        reason=result.summary,
        package_arn=candidate.package_arn,
        champion_arn=champion.package_arn if champion else None,
        approval=approval,
    )


def approval_execution_name(model: str, candidate: Candidate) -> str:
    """One approval execution per candidate: readable, within Step Functions' 80 characters."""
    digest = hashlib.sha256(candidate.package_arn.encode()).hexdigest()[:10]
    return f"{execution_safe(f'{model}-v{candidate.version}')[:68]}-{digest}"
