"""The retrain workflow's steps: lock, manifest + pipeline (waits on its completion event),
the registered candidate, the run's end (and its follow-up). The gate step is the gate's.

Pure orchestration over ports: no AWS here.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict

from aiops.ledger import Ledger, LedgerAction, record
from aiops.pauses import PauseStore
from aiops.policy import Policy
from aiops.registry import Candidate, ModelRegistry
from aiops.runs.ending import RunEnding, close_run
from aiops.runs.lock import LockStore, RunLock, job_wait_budget, take_lock
from aiops.runs.manifest import ManifestWriter, collect_manifest
from aiops.runs.ports import Alerts, RunStarter
from aiops.runs.rendezvous import (
    JobOutcome,
    RendezvousStore,
    Resumption,
    TaskResumer,
    deliver_outcome,
    resume,
)
from aiops.runs.requests import RunRequest
from aiops.runs.window import WindowStore
from aiops.units import format_duration

# The event is parsed by the function that receives it: the workflow's other steps never
# create its model classes.
if TYPE_CHECKING:
    from aiops.events.sagemaker import PipelineExecutionStatusChange


class PipelineStarter(Protocol):
    def start(self, pipeline: str, run_id: str, parameters: dict[str, str]) -> str:
        """Start a pipeline execution (idempotent on run_id); returns its ARN."""
        ...


class Pipelines(PipelineStarter, Protocol):
    def stop(self, pipeline_execution_arn: str) -> bool:
        """Stop the execution; False when it had already ended."""
        ...

    def failure_reason(self, pipeline_execution_arn: str) -> str | None:
        """Why the execution failed (its own reason and its failed steps')."""
        ...


# ------------------------------------------------------------------ workflow steps


@dataclass(frozen=True)
class RetrainWorkflow:
    """What the retrain workflow's steps act through, built once by the composition root."""

    windows: WindowStore
    locks: LockStore
    manifests: ManifestWriter
    pipelines: Pipelines
    registry: ModelRegistry
    rendezvous: RendezvousStore
    resumer: TaskResumer
    runs: RunStarter
    alerts: Alerts
    ledger: Ledger
    pauses: PauseStore

    @property
    def ending(self) -> RunEnding:
        return RunEnding(
            windows=self.windows,
            locks=self.locks,
            runs=self.runs,
            alerts=self.alerts,
            ledger=self.ledger,
            pauses=self.pauses,
            workflow="retrain",
            data="data",
        )


def take_run_lock(
    request: RunRequest, policy: Policy, flow: RetrainWorkflow, now: datetime
) -> RunLock:
    return take_lock(request, policy, flow.locks, flow.ledger, now)


class TrainingStarted(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)
    pipeline_execution_arn: str
    manifest_uri: str
    objects: int
    already_finished: bool


def start_training(
    request: RunRequest, task_token: str, policy: Policy, flow: RetrainWorkflow, now: datetime
) -> TrainingStarted:
    """Write the run's manifest, start its pipeline and park the workflow until it ends."""
    model = policy.sagemaker_model(request.model)
    carried = flow.windows.claim_carried(request.model, request.run_id)
    if carried:
        record(
            flow.ledger,
            request.model,
            now,
            LedgerAction.WINDOWS_CARRIED_IN,
            f"{len(carried)} window(s) of failed runs included",
            {"run_id": request.run_id, "windows": carried},
        )
    manifest = collect_manifest(request, flow.windows, now, carried)
    uri = flow.manifests.write(manifest)
    execution = flow.pipelines.start(
        model.pipeline, request.run_id, {"DataManifest": uri, "RunId": request.run_id}
    )
    context = {
        "pipeline_execution_arn": execution,
        "manifest_uri": uri,
        "model": request.model,
        "run_id": request.run_id,
    }
    # Parked at once: if anything after the start fails, the run's end finds and stops the job.
    resumption = flow.rendezvous.register_waiter(execution, task_token, context, request.run_id)
    record(
        flow.ledger,
        request.model,
        now,
        LedgerAction.PIPELINE_STARTED,
        f"{model.pipeline} on {len(manifest.objects)} objects",
        {"run_id": request.run_id, "pipeline_execution": execution, "manifest": uri},
    )
    if resumption is not None:
        resume(flow.resumer, resumption)
    return TrainingStarted(
        pipeline_execution_arn=execution,
        manifest_uri=uri,
        objects=len(manifest.objects),
        already_finished=resumption is not None,
    )


class PipelineStatusDecision(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)
    action: Literal["resumed", "recorded", "duplicate", "ignored", "late"]
    pipeline_execution_arn: str
    status: str
    reason: str = ""


def on_pipeline_status(
    event: "PipelineExecutionStatusChange", policy: Policy, flow: RetrainWorkflow, now: datetime
) -> PipelineStatusDecision:
    detail = event.detail
    arn, status = detail.pipeline_execution_arn, detail.current_status
    if status not in ("Succeeded", "Failed", "Stopped"):
        return PipelineStatusDecision(action="ignored", pipeline_execution_arn=arn, status=status)
    reason = f"pipeline execution {arn} {status}"
    if status == "Failed":
        try:
            why = flow.pipelines.failure_reason(arn)
        except Exception as exc:  # noqa: BLE001 - detail only: the outcome must be recorded
            why = f"SageMaker's reason could not be read ({type(exc).__name__})"
        reason = f"{reason}: {why or 'SageMaker gave no failure reason'}"
    outcome = JobOutcome(
        status=status,
        detail={"pipeline_execution_arn": arn, "event_id": event.id, "reason": reason},
    )
    action, why = deliver_outcome(
        arn,
        outcome,
        flow.rendezvous,
        flow.resumer,
        lambda late: settle_late_outcome(arn, late, policy, flow, now),
    )
    return PipelineStatusDecision(
        action=action, pipeline_execution_arn=arn, status=status, reason=why
    )


def settle_late_outcome(
    key: str, resumption: Resumption, policy: Policy, flow: RetrainWorkflow, now: datetime
) -> str:
    """A pipeline that ended after its run gave up: recorded, alerted, and what it registered
    rejected, so a result nobody gated can never pass for a candidate. Marked settled only once
    done: a retried delivery settles what a failed attempt left."""
    context = resumption.context
    name, run_id = str(context.get("model", "")), str(context.get("run_id", ""))
    arn = str(context.get("pipeline_execution_arn", ""))
    status = resumption.outcome.status
    why = f"run {run_id} stopped waiting ({resumption.abandoned})"
    rejected = None
    problem = ""
    if resumption.outcome.succeeded:
        model = policy.models.get(name)
        group = getattr(model, "package_group", None) or name
        candidate = flow.registry.find_candidate(group, arn)
        if candidate is not None and candidate.approval_status == "PendingManualApproval":
            flow.registry.set_status(
                candidate.package_arn,
                "Rejected",
                f"aiops: {why} before its pipeline finished; never gated"[:1024],
            )
            rejected = candidate
        elif candidate is None:
            problem = f"; no package of group {group} found for it"
    reason = (
        f"pipeline execution {status} after {why}"
        + (f"; its package v{rejected.version} rejected" if rejected else "")
        + problem
    )
    record(
        flow.ledger,
        name,
        now,
        LedgerAction.LATE_PIPELINE_OUTCOME,
        reason,
        {
            "run_id": run_id,
            "pipeline_execution": arn,
            "model_package": rejected.package_arn if rejected else None,
        },
    )
    if status != "Stopped":  # a stop is what the run asked for; anything else needs a person
        flow.alerts.publish(f"[aiops] {name}: pipeline ended after its run gave up", reason + ".")
    flow.rendezvous.mark_settled(key)
    return reason


class CandidateMissing(LookupError):
    pass


def read_candidate(
    request: RunRequest,
    pipeline_execution_arn: str,
    policy: Policy,
    flow: RetrainWorkflow,
    now: datetime,
) -> Candidate:
    model = policy.sagemaker_model(request.model)
    candidate = flow.registry.find_candidate(model.package_group, pipeline_execution_arn)
    if candidate is None:
        raise CandidateMissing(
            f"{request.model}: pipeline execution {pipeline_execution_arn} "
            f"registered no model package in group {model.package_group}"
        )
    metric = model.gate.metric
    value = candidate.metrics.get(metric)
    shown = f"{metric}={value}" if value is not None else f"no {metric} in its evaluation"
    record(
        flow.ledger,
        request.model,
        now,
        LedgerAction.CANDIDATE_REGISTERED,
        f"version {candidate.version}, {shown}, {candidate.approval_status}",
        {
            "run_id": request.run_id,
            "pipeline_execution": pipeline_execution_arn,
            "model_package": candidate.package_arn,
        },
    )
    return candidate


class RunEnded(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)
    run_id: str
    outcome: Literal["succeeded", "failed"]
    follow_up_run_id: str | None = None


def _give_up_waiting(
    request: RunRequest, why: str, policy: Policy, flow: RetrainWorkflow, now: datetime
) -> str:
    """A run that ends without its pipeline's result stops the pipeline (nothing outlives the
    run), or settles the result that arrived as it gave up."""
    abandoned = flow.rendezvous.abandon(request.run_id, why)
    if abandoned is None:
        return "no pipeline was started"
    if abandoned.settled:
        return f"pipeline {abandoned.key}: its result was already settled"
    if abandoned.outcome is not None:
        late = Resumption(
            task_token=None, outcome=abandoned.outcome, context=abandoned.context, abandoned=why
        )
        return settle_late_outcome(abandoned.key, late, policy, flow, now)
    stopped = flow.pipelines.stop(abandoned.key)
    note = "stop requested" if stopped else "it had already ended"
    record(
        flow.ledger,
        request.model,
        now,
        LedgerAction.PIPELINE_STOPPED,
        f"run {request.run_id} {why} waiting for its pipeline: {note}",
        {"run_id": request.run_id, "pipeline_execution": abandoned.key},
    )
    return f"pipeline {abandoned.key}: {note}"


def end_run(
    request: RunRequest,
    outcome: Literal["succeeded", "failed"],
    error: str | None,
    policy: Policy,
    flow: RetrainWorkflow,
    now: datetime,
    timed_out: bool = False,
    job_ended: bool = False,
) -> RunEnded:
    """Record the run's end, alert on failure (its windows carried into the model's next run),
    stop what a timed-out run left running, release the lock, start the follow-up run."""
    model = policy.sagemaker_model(request.model)
    if timed_out:
        error = (
            f"{error}: the pipeline did not finish within the "
            f"{format_duration(job_wait_budget(model))} the run's lease allows "
            f"(run_timeout {format_duration(model.run_timeout)})"
        )
    cause: dict[str, Any] = {"run_id": request.run_id}
    if outcome == "failed" and not job_ended:
        # Whatever failed (the wait timed out, a step after the start), nothing the run started
        # may outlive it. Its own failure must not keep the run from ending cleanly.
        try:
            cause["pipeline"] = _give_up_waiting(
                request, "timed out" if timed_out else "failed", policy, flow, now
            )
        except Exception as exc:  # noqa: BLE001 - recorded and alerted with the run's end
            cause["pipeline"] = (
                f"could not stop or settle its pipeline: {type(exc).__name__}: {exc}"
            )
            error = f"{error}; {cause['pipeline']}"
    follow_up = close_run(request, outcome, error, cause, flow.ending, model.run_timeout, now)
    return RunEnded(run_id=request.run_id, outcome=outcome, follow_up_run_id=follow_up)
