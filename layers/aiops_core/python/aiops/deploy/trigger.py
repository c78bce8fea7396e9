"""An approval in the registry → the deploy workflow, only for what our gate passed."""

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict

from aiops.deploy.bedrock import describe_serving, serving_target
from aiops.deploy.dependencies import DeployDependencies
from aiops.deploy.model import MARK_CUSTOM_MODEL, DeploymentRequest
from aiops.events.sagemaker import ModelPackageStateChange
from aiops.idempotency import once
from aiops.ledger import LedgerAction, record
from aiops.policy import BedrockModelPolicy, Policy, SageMakerModelPolicy

# A refusal is alerted once per package, however often its event is delivered.
REFUSAL_CLAIM_TTL = timedelta(days=30)
# How a human approval may end without a yes.
_HUMAN_NO = ("rejected", "superseded", "expired", "failed")


class DeployDecision(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)
    action: Literal["deploy_requested", "refused", "dry_run", "ignored"]
    reason: str
    model: str | None = None
    version: int | None = None
    execution: str | None = None


def endpoint_text(model: SageMakerModelPolicy) -> str:
    return f"{model.deploy.endpoint} ({model.deploy.strategy})"


def request_deployment(
    change: ModelPackageStateChange, policy: Policy, deps: DeployDependencies, now: datetime
) -> DeployDecision:
    """Start the deploy workflow for an approved package of a model the policy deploys (onto
    its endpoint, or a Bedrock model's custom model served), which passed our gate; refuse
    (recorded, alerted) any other approval of such a model."""
    detail = change.detail
    if detail.approval_status != "Approved" or "ModelApprovalStatus" not in detail.updated_fields:
        return DeployDecision(action="ignored", reason="not an approval")
    found: tuple[str, SageMakerModelPolicy | BedrockModelPolicy] | None = (
        policy.sagemaker_model_for_group(detail.package_group)
        or policy.bedrock_model_for_group(detail.package_group)
    )
    if found is None:
        # Not ours: other teams' package groups may share the account.
        return DeployDecision(
            action="ignored",
            reason=f"package group {detail.package_group} belongs to no model of the policy",
        )
    name, model = found
    # The package is the natural key: a redelivered or repeated approval records nothing new
    # (the event id is in the function's logs, as its correlation id).
    cause = {"package_arn": detail.package_arn, "version": detail.version}

    def refuse(reason: str) -> DeployDecision:
        def tell() -> None:
            record(deps.ledger, name, now, LedgerAction.DEPLOY_REFUSED, reason, cause)
            deps.alerts.publish(
                f"[aiops] {name} v{detail.version} approved but not deployed",
                f"{reason}\nPackage: {detail.package_arn}\n"
                "Only packages that passed the control plane's gate are deployed; approve a "
                "candidate of a retrain or fine-tune run instead.",
            )

        if deps.claims is None:
            tell()
        else:
            once(deps.claims, f"deploy-refused/{detail.package_arn}", now, REFUSAL_CLAIM_TTL, tell)
        return DeployDecision(action="refused", reason=reason, model=name, version=detail.version)

    # The event may be stale or forged: the registry's word counts.
    spec = deps.packages.spec(detail.package_arn)
    if spec is None:
        return refuse(f"v{detail.version}: the package no longer exists")
    if spec.approval_status != "Approved":
        return DeployDecision(
            action="ignored",
            reason=f"v{spec.version} is {spec.approval_status} now, no longer Approved",
            model=name,
            version=spec.version,
        )
    verdict = deps.verdicts.get(spec.package_arn)
    if verdict is None:
        return refuse(f"v{spec.version} never passed our gate (approved outside a run)")
    if verdict.decision == "reject":
        return refuse(f"v{spec.version} was rejected by our gate: {verdict.reason}")
    if verdict.decision == "await_human":
        # The gate handed it to people: their "no" stands, whatever the registry says later.
        outcome = deps.approvals.outcome(name, spec.version)
        if outcome in _HUMAN_NO:
            return refuse(
                f"v{spec.version}'s approval ended {outcome}; an approval in the registry "
                "after that does not deploy it"
            )
    if spec.rolled_back:
        return refuse(
            f"v{spec.version} was rolled back ({spec.rolled_back}); it is not deployed again"
        )
    custom_model_arn: str | None = None
    if isinstance(model, BedrockModelPolicy):
        custom_model_arn = spec.marks.get(MARK_CUSTOM_MODEL) or None
        if custom_model_arn is None:
            return refuse(f"v{spec.version} names no Bedrock custom model ({MARK_CUSTOM_MODEL})")
        target = describe_serving(model.deploy.serving_mode, serving_target(name, model))
        endpoint, how = name, f"serving through {target}"
        would = f"would serve v{spec.version} through {target}"
    else:
        endpoint, how = model.deploy.endpoint, f"deploying to {endpoint_text(model)}"
        would = f"would deploy v{spec.version} to {endpoint}"
    # The gate approves alone only when the policy wants no human (its own role is the modifier).
    approver = "the automatic gate" if verdict.decision == "approve" else spec.approved_by
    cause = {**cause, "approved_by": approver, "gate_run": verdict.run_id}
    if model.dry_run:
        reason = f"dry run: {would}"
        record(deps.ledger, name, now, LedgerAction.DEPLOY_DRY_RUN, reason, cause)
        return DeployDecision(action="dry_run", reason=reason, model=name, version=spec.version)
    request = DeploymentRequest(
        model=name,
        endpoint=endpoint,
        version=spec.version,
        package_arn=spec.package_arn,
        package_group=spec.package_group,
        requested_at=now,
        cause=cause,
        kind="bedrock" if custom_model_arn is not None else "sagemaker",
        custom_model_arn=custom_model_arn,
    )
    execution = deps.starter.start(request)
    if execution is None:
        return DeployDecision(
            action="ignored",
            reason=f"v{spec.version}: its deployment was requested already",
            model=name,
            version=spec.version,
        )
    reason = f"v{spec.version} approved{f' by {approver}' if approver else ''}: {how}"
    record(
        deps.ledger,
        name,
        now,
        LedgerAction.DEPLOY_REQUESTED,
        reason,
        {**cause, "execution": request.execution_name},
    )
    return DeployDecision(
        action="deploy_requested",
        reason=reason,
        model=name,
        version=spec.version,
        execution=execution,
    )
