"""The fine-tune workflow's steps: the dataset (exactly the good records since the last run),
the Bedrock customization job (waits on its event, reconciles when the event never comes), the
evaluation on held-out records with a safety check, the candidate in the registry, the run's
end (and its follow-up). The lock and the gate are the kernel's and the gate's.

Pure orchestration over ports: no AWS here.
"""

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

from aiops.finetune.model import (
    CUSTOM_MODEL_KEY,
    EVALUATION_KEY,
    JOB_KEY,
    MANIFEST_KEY,
    MODEL_TAG,
    RUN_KEY,
    CustomizationRequest,
    Dataset,
    EvaluationProgress,
    EvaluationRequest,
    JobResult,
    StagedModel,
)
from aiops.finetune.ports import (
    CandidateAnswers,
    CandidateStaging,
    CustomizationJobs,
    EvaluationJobs,
    FineTunedCandidates,
    LabeledFiles,
)
from aiops.finetune.prompts import evaluation_prompt
from aiops.finetune.scoring import exact_match, rouge_l
from aiops.finetune.validation import Problem, split_lines, validate
from aiops.ledger import Ledger, LedgerAction, record
from aiops.pauses import PauseStore
from aiops.policy import BedrockModelPolicy, Policy
from aiops.registry import Candidate
from aiops.runs.ending import RunEnding, close_run
from aiops.runs.lock import LockStore, job_wait_budget
from aiops.runs.manifest import collect_manifest
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
from aiops.runs.window import ObjectRef, WindowStore
from aiops.storage import ObjectGone
from aiops.units import format_duration

# The event is parsed by the function that receives it: the workflow's other steps never
# create its model classes.
if TYPE_CHECKING:
    from aiops.events.bedrock import CustomizationJobStateChange

# Of the good records not held out for evaluation, this share validates the job (Bedrock's
# validation loss), up to the base model's maximum.
VALIDATION_PERCENT = 10
# Names the gate reads (aiops.gate.rules: SAFETY_METRIC) and the scores Bedrock writes.
SAFETY_METRIC = "safety_pass_rate"
TOXICITY_SCORE = "Toxicity"
ACCURACY_SCORE = "Accuracy"


class NotEnoughRecords(RuntimeError):
    """The run's files hold fewer good records than the base model trains on."""


class EvaluationFailed(RuntimeError):
    """The evaluation job failed, was stopped, evaluated nothing, or ran past its timeout."""


@dataclass(frozen=True)
class FineTuneWorkflow:
    """What the fine-tune workflow's steps act through, built once by the composition root."""

    windows: WindowStore
    locks: LockStore
    files: LabeledFiles
    jobs: CustomizationJobs
    evaluations: EvaluationJobs
    candidates: FineTunedCandidates
    staging: CandidateStaging
    answers: CandidateAnswers
    rendezvous: RendezvousStore
    resumer: TaskResumer
    runs: RunStarter
    alerts: Alerts
    ledger: Ledger
    pauses: PauseStore
    artifacts_bucket: str
    job_role_arn: str

    @property
    def ending(self) -> RunEnding:
        return RunEnding(
            windows=self.windows,
            locks=self.locks,
            runs=self.runs,
            alerts=self.alerts,
            ledger=self.ledger,
            pauses=self.pauses,
            workflow="fine-tune",
            data="labeled data",
        )


def run_prefix(request: RunRequest) -> str:
    """Everything a run writes, in the artifacts bucket (a control-plane prefix)."""
    return f"finetune/{request.model}/{request.run_id}/"


def _split(raw: bytes) -> int:
    """A record's place in 0-99, from its bytes: the same record lands in the same split on a
    retried step, whatever the order of files."""
    return int.from_bytes(hashlib.sha256(raw).digest()[:4], "big") % 100


# ------------------------------------------------------------------ step: the dataset


def prepare_dataset(
    request: RunRequest, policy: Policy, flow: FineTuneWorkflow, now: datetime
) -> Dataset:
    """Write the run's manifest and its training, validation and held-out files from exactly
    the good records of its windows (and those carried from failed runs), streamed."""
    model = policy.bedrock_model(request.model)
    spec = model.base_model_spec
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
    bucket, prefix = flow.artifacts_bucket, run_prefix(request)
    evaluation = model.fine_tune.evaluation
    counts = {"training": 0, "validation": 0, "holdout": 0, "bad": 0, "over_limit": 0}
    per_object: list[dict[str, Any]] = []
    with (
        flow.files.writer(bucket, f"{prefix}training.jsonl") as training,
        flow.files.writer(bucket, f"{prefix}validation.jsonl") as validation,
        flow.files.writer(bucket, f"{prefix}holdout.jsonl") as holdout,
    ):

        def route(line: int, raw: bytes, problems: list[Problem]) -> None:
            if problems:
                counts["bad"] += 1
                return
            place = _split(raw)
            if place < evaluation.holdout_percent and (
                counts["holdout"] < evaluation.max_holdout_records
            ):
                prompt = evaluation_prompt(raw, spec.format)
                if prompt is not None:
                    holdout.write(prompt)
                    counts["holdout"] += 1
                    return
            if place >= 100 - VALIDATION_PERCENT and (
                counts["validation"] < spec.max_validation_records
            ):
                validation.write(raw)
                counts["validation"] += 1
            elif counts["training"] < spec.max_training_records:
                training.write(raw)
                counts["training"] += 1
            else:
                counts["over_limit"] += 1

        gone: list[str] = []
        for obj in manifest.objects:
            before = dict(counts)
            try:
                validate(flow.files.chunks(obj), spec, 1, on_record=route)
            except ObjectGone:
                # Deleted since it was counted: its records are left out, and said so.
                gone.append(f"s3://{obj.bucket}/{obj.key}")
                per_object.append({**obj.model_dump(mode="json"), "gone": True})
                continue
            per_object.append(
                {
                    **obj.model_dump(mode="json"),
                    "used": sum(counts[k] - before[k] for k in ("training", "validation")),
                    "held_out": counts["holdout"] - before["holdout"],
                }
            )
        uris = (training.uri, validation.uri, holdout.uri)
    if counts["training"] < spec.min_training_records:
        raise NotEnoughRecords(
            f"{request.model}: {counts['training']} training record(s) after holding out "
            f"{counts['holdout']} for evaluation; {model.base_model} needs at least "
            f"{spec.min_training_records}"
        )
    manifest_uri = flow.files.put_json(
        bucket,
        f"{prefix}manifest.json",
        {
            "model": request.model,
            "run_id": request.run_id,
            "base_model": model.base_model,
            "format": spec.format.value,
            "windows": manifest.windows,
            "objects": per_object,
            "records": counts,
            "files": {"training": uris[0], "validation": uris[1], "holdout": uris[2]},
            "created_at": now.isoformat(),
        },
    )
    dataset = Dataset(
        manifest_uri=manifest_uri,
        training_uri=uris[0],
        validation_uri=uris[1] if counts["validation"] else None,
        holdout_uri=uris[2],
        training_records=counts["training"],
        validation_records=counts["validation"],
        holdout_records=counts["holdout"],
        bad_records=counts["bad"],
        over_limit=counts["over_limit"],
    )
    record(
        flow.ledger,
        request.model,
        now,
        LedgerAction.DATASET_WRITTEN,
        f"{dataset.training_records} training, {dataset.validation_records} validation and "
        f"{dataset.holdout_records} held-out record(s) from {len(manifest.objects)} file(s)"
        + (
            f"; {dataset.over_limit} beyond {model.base_model}'s maximum left out"
            if dataset.over_limit
            else ""
        )
        + (f"; {len(gone)} file(s) deleted since they were counted left out" if gone else ""),
        {
            "run_id": request.run_id,
            "manifest": manifest_uri,
            "windows": manifest.windows,
            "gone": gone,
        },
    )
    return dataset


# ------------------------------------------------------------------ step: the customization job


def _job_name(request: RunRequest) -> str:
    # Bedrock: letters, digits, '-', '+', '.'; at most 63; the run id is unique per run.
    return re.sub(r"[^a-zA-Z0-9-]", "-", f"aiops-{request.run_id}")[:63].rstrip("-")


def _hyper_parameters(model: BedrockModelPolicy) -> dict[str, str]:
    """The base model's documented defaults, overridden by the policy's (all as strings, as
    Bedrock takes them)."""
    spec = model.base_model_spec
    values = {n: r.default for n, r in spec.hyper_parameters.items() if r.default is not None}
    values.update(model.fine_tune.hyper_parameters)
    return {
        name: str(int(value)) if spec.hyper_parameters[name].integer else repr(float(value))
        for name, value in values.items()
        if value is not None
    }


class FineTuneStarted(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)
    job_arn: str
    already_finished: bool


def start_fine_tune(
    request: RunRequest,
    task_token: str,
    dataset: Dataset,
    policy: Policy,
    flow: FineTuneWorkflow,
    now: datetime,
) -> FineTuneStarted:
    """Start the customization job and park the workflow until its state-change event."""
    model = policy.bedrock_model(request.model)
    name = _job_name(request)
    job_arn = flow.jobs.start(
        CustomizationRequest(
            job_name=name,
            custom_model_name=name.replace(".", "-"),
            client_token=request.run_id,
            base_model=model.base_model,
            role_arn=flow.job_role_arn,
            training_uri=dataset.training_uri,
            validation_uri=dataset.validation_uri,
            output_uri=f"s3://{flow.artifacts_bucket}/{run_prefix(request)}output/",
            hyper_parameters=_hyper_parameters(model),
            tags={MODEL_TAG: request.model, RUN_KEY: request.run_id},
        )
    )
    context = {"job_arn": job_arn, "model": request.model, "run_id": request.run_id}
    # Parked at once: if anything after the start fails, the run's end finds and stops the job.
    resumption = flow.rendezvous.register_waiter(job_arn, task_token, context, request.run_id)
    record(
        flow.ledger,
        request.model,
        now,
        LedgerAction.FINETUNE_STARTED,
        f"{model.base_model} on {dataset.training_records} record(s) "
        f"(waiting up to {format_duration(job_wait_budget(model))})",
        {"run_id": request.run_id, "customization_job": job_arn, "manifest": dataset.manifest_uri},
    )
    if resumption is not None:
        resume(flow.resumer, resumption)
    return FineTuneStarted(job_arn=job_arn, already_finished=resumption is not None)


class CustomizationDecision(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)
    action: Literal["resumed", "recorded", "duplicate", "ignored", "late"]
    job_arn: str
    status: str
    reason: str = ""


def _outcome(
    status: str, job_arn: str, custom_model_arn: str | None, failure: str | None, event: str
) -> JobOutcome:
    if status == "Completed":
        return JobOutcome(
            status="Succeeded",
            detail={"job_arn": job_arn, "custom_model_arn": custom_model_arn, "event_id": event},
        )
    reason = f"customization job {job_arn} {status}" + (f": {failure}" if failure else "")
    return JobOutcome(
        status="Failed" if status == "Failed" else "Stopped",
        detail={"job_arn": job_arn, "event_id": event, "reason": reason},
    )


def on_customization_state(
    event: "CustomizationJobStateChange", policy: Policy, flow: FineTuneWorkflow, now: datetime
) -> CustomizationDecision:
    """A job's state-change event: record its outcome once and resume the waiting run."""
    detail = event.detail
    arn, status = detail.job_arn, detail.job_status
    if status not in ("Completed", "Failed", "Stopped"):
        return CustomizationDecision(action="ignored", job_arn=arn, status=status)
    if status == "Completed" and not detail.output_model_arn:
        # What a completed job made is its point: read it rather than trust a partial event.
        current = flow.jobs.status(arn)
        outcome = _outcome(status, arn, current.custom_model_arn, None, event.id)
    else:
        outcome = _outcome(status, arn, detail.output_model_arn, detail.failure_message, event.id)
    action, why = deliver_outcome(
        arn,
        outcome,
        flow.rendezvous,
        flow.resumer,
        lambda late: settle_late_job(arn, late, flow, now),
    )
    return CustomizationDecision(action=action, job_arn=arn, status=status, reason=why)


def settle_late_job(key: str, resumption: Resumption, flow: FineTuneWorkflow, now: datetime) -> str:
    """A job that ended after its run gave up: recorded and alerted. Its custom model (if any)
    was never evaluated or registered, so nothing can deploy it."""
    context = resumption.context
    name, run_id = str(context.get("model", "")), str(context.get("run_id", ""))
    status = resumption.outcome.status
    made = resumption.outcome.detail.get("custom_model_arn")
    reason = (
        f"customization job {status} after run {run_id} stopped waiting ({resumption.abandoned})"
        + (f"; its custom model {made} was never evaluated or registered" if made else "")
    )
    record(
        flow.ledger,
        name,
        now,
        LedgerAction.LATE_FINETUNE_OUTCOME,
        reason,
        {"run_id": run_id, "customization_job": key, "custom_model": made},
    )
    if status != "Stopped":
        flow.alerts.publish(f"[aiops] {name}: fine-tune job ended after its run gave up", reason)
    flow.rendezvous.mark_settled(key)
    return reason


class Reconciled(BaseModel):
    """What the job says when its event never came: the run goes on, or ends with `error`."""

    model_config = ConfigDict(frozen=True, defer_build=True)
    status: Literal["Completed", "Failed", "Stopped", "TimedOut"]
    job_arn: str | None = None
    custom_model_arn: str | None = None
    error: str | None = None
    reason: str = ""


def reconcile_job(
    request: RunRequest, policy: Policy, flow: FineTuneWorkflow, now: datetime
) -> Reconciled:
    """The wait timed out: read the job itself (its event is best effort). Ended → its outcome,
    recorded as the event would have; still running → stopped, recorded and the run fails."""
    model = policy.bedrock_model(request.model)
    job_arn = flow.rendezvous.waiting_key(request.run_id)
    if job_arn is None:
        return Reconciled(
            status="Failed", error="JobFailed", reason="the run has no customization job to read"
        )
    current = flow.jobs.status(job_arn)
    if current.status in ("Completed", "Failed", "Stopped"):
        outcome = _outcome(
            current.status, job_arn, current.custom_model_arn, current.failure_message, "read"
        )
        flow.rendezvous.record_outcome(job_arn, outcome)
        record(
            flow.ledger,
            request.model,
            now,
            LedgerAction.FINETUNE_RECONCILED,
            f"no state-change event came for the customization job; the job itself says "
            f"{current.status}",
            {"run_id": request.run_id, "customization_job": job_arn},
        )
        if current.status == "Completed":
            return Reconciled(
                status="Completed",
                job_arn=job_arn,
                custom_model_arn=current.custom_model_arn,
                reason="its completion event never came; the job itself says Completed",
            )
        return Reconciled(
            status=current.status,
            job_arn=job_arn,
            error="JobFailed" if current.status == "Failed" else "JobStopped",
            reason=str(outcome.detail["reason"]),
        )
    stopped = flow.jobs.stop(job_arn)
    budget = format_duration(job_wait_budget(model))
    why = (
        f"the customization job did not finish within the {budget} the run's lease allows "
        f"(run_timeout {format_duration(model.run_timeout)}): "
        + ("stop requested" if stopped else "it had already ended")
    )
    flow.rendezvous.abandon(request.run_id, "timed out")
    record(
        flow.ledger,
        request.model,
        now,
        LedgerAction.FINETUNE_STOPPED,
        why,
        {"run_id": request.run_id, "customization_job": job_arn},
    )
    return Reconciled(status="TimedOut", job_arn=job_arn, error="JobTimedOut", reason=why)


# ------------------------------------------------------------------ steps: evaluation
#
# Bedrock's evaluation jobs cannot call a custom model themselves: the candidate answers the
# held-out prompts through an on-demand custom model deployment of its own (never the one
# applications call), and the evaluation job scores those answers (bring your own inference).


def staging_name(model: str) -> str:
    """The deployment candidates of `model` are evaluated through (reused run after run)."""
    return f"aiops-{model}-eval"[:63]


ANSWER_SOURCE = "candidate"


def _evaluation_name(request: RunRequest) -> str:
    name = re.sub(r"[^a-z0-9]+", "-", f"aiops-{request.run_id}".lower()).strip("-")
    return f"{name[:57].rstrip('-')}-eval"


def start_evaluation(
    request: RunRequest,
    dataset: Dataset,
    job: JobResult,
    policy: Policy,
    flow: FineTuneWorkflow,
    now: datetime,
) -> EvaluationProgress:
    """Put the candidate on its evaluation deployment; the checks that follow wait for it."""
    model = policy.bedrock_model(request.model)
    evaluation = model.fine_tune.evaluation
    name = staging_name(request.model)
    staged = flow.staging.stage(
        name,
        job.custom_model_arn,
        {MODEL_TAG: request.model, "aiops:purpose": "evaluation"},
        token=f"{request.run_id}-stage-0",
    )
    record(
        flow.ledger,
        request.model,
        now,
        LedgerAction.EVALUATION_STARTED,
        f"the candidate answers {dataset.holdout_records} held-out prompt(s) through "
        f"deployment {name} ({staged.status})",
        {"run_id": request.run_id, "deployment": staged.arn, "custom_model": job.custom_model_arn},
    )
    return EvaluationProgress(
        phase="staging",
        deployment=name,
        deadline=(now + evaluation.timeout).isoformat(),
        poll_seconds=int(evaluation.poll.total_seconds()),
    )


def check_evaluation(
    request: RunRequest,
    dataset: Dataset,
    job: JobResult,
    progress: EvaluationProgress,
    policy: Policy,
    flow: FineTuneWorkflow,
    now: datetime,
) -> EvaluationProgress:
    """One look at the evaluation (nothing sends an event for it): the deployment serving the
    candidate → its answers written and the evaluation job started; the job done → the
    candidate's metrics written beside the run. Failed, or past its deadline → EvaluationFailed."""
    model = policy.bedrock_model(request.model)
    evaluation = model.fine_tune.evaluation
    late = now >= datetime.fromisoformat(progress.deadline)
    if progress.phase == "staging":
        if late:
            raise EvaluationFailed(
                f"the candidate was not served and answered through {progress.deployment} "
                f"within {format_duration(evaluation.timeout)}"
            )
        staged = _staged(request, job, progress, flow)
        if isinstance(staged, EvaluationProgress):
            return staged
        answered = _answer_batch(request, dataset, progress, staged.arn, model, flow)
        if answered < dataset.holdout_records:
            # More prompts to answer: the next batch at once (each look is bounded in time).
            return progress.model_copy(update={"answered": answered, "poll_seconds": 1})
        responses = _merge_answers(request, dataset, flow)
        arn = flow.evaluations.start(
            EvaluationRequest(
                job_name=_evaluation_name(request),
                client_token=f"{request.run_id}-eval",
                role_arn=flow.job_role_arn,
                source=ANSWER_SOURCE,
                task_type=evaluation.task_type,
                dataset_name=f"{request.model}-holdout"[:63],
                dataset_uri=responses,
                output_uri=f"s3://{flow.artifacts_bucket}/{run_prefix(request)}evaluation/",
                tags={MODEL_TAG: request.model, RUN_KEY: request.run_id},
            )
        )
        return progress.model_copy(
            update={
                "phase": "scoring",
                "job_arn": arn,
                "answered": answered,
                "poll_seconds": int(evaluation.poll.total_seconds()),
            }
        )
    if progress.job_arn is None:
        raise EvaluationFailed(f"{request.model}: run {request.run_id} has no evaluation job")
    status = flow.evaluations.status(progress.job_arn)
    if status.status in ("Failed", "Stopped", "Stopping", "Deleting"):
        why = "; ".join(status.failure_messages) or "Bedrock gave no reason"
        raise EvaluationFailed(f"evaluation job {progress.job_arn} {status.status}: {why}")
    if status.status == "InProgress":
        if late:
            flow.evaluations.stop(progress.job_arn)
            raise EvaluationFailed(
                f"evaluation job {progress.job_arn} did not finish within "
                f"{format_duration(evaluation.timeout)}: stopped"
            )
        return progress
    metrics = score_evaluation(flow.evaluations.results(status), model)
    uri = flow.files.put_json(
        flow.artifacts_bucket,
        f"{run_prefix(request)}evaluation.json",
        {"metrics": metrics, "evaluation_job": progress.job_arn, "at": now.isoformat()},
    )
    record(
        flow.ledger,
        request.model,
        now,
        LedgerAction.EVALUATED,
        ", ".join(f"{k}={v:.4g}" for k, v in metrics.items()),
        {"run_id": request.run_id, "evaluation_job": progress.job_arn, "metrics": uri},
    )
    return progress.model_copy(update={"done": True, "metrics_uri": uri})


def _staged(
    request: RunRequest, job: JobResult, progress: EvaluationProgress, flow: FineTuneWorkflow
) -> StagedModel | EvaluationProgress:
    """The evaluation deployment when it serves the candidate; else one step towards it (the
    progress to keep): create it (absent), swap its model (idle, serving an earlier candidate),
    or remove it (failed: it is ours; the next look creates it anew, as a new request)."""
    name, candidate = progress.deployment, job.custom_model_arn
    staged = flow.staging.status(name)
    if staged is not None and staged.serves(candidate):
        return staged
    if staged is not None and staged.status == "Failed":
        flow.staging.remove(name)
        return progress.model_copy(update={"attempt": progress.attempt + 1})
    if staged is None or (staged.status == "Active" and staged.update_status != "Updating"):
        flow.staging.stage(
            name,
            candidate,
            {MODEL_TAG: request.model, "aiops:purpose": "evaluation"},
            f"{request.run_id}-stage-{progress.attempt}",
        )
    return progress


# Held-out prompts answered per look: a few minutes at most, well inside a Lambda's 15.
ANSWER_BATCH = 50


def _holdout_prompts(dataset: Dataset, flow: FineTuneWorkflow) -> Iterator[dict[str, Any]]:
    bucket, _, key = dataset.holdout_uri.removeprefix("s3://").partition("/")
    for line in split_lines(flow.files.chunks(ObjectRef(bucket=bucket, key=key, size=0)), 2**24):
        if line.data.strip():
            yield json.loads(line.data)


def _part_key(request: RunRequest, start: int) -> str:
    return f"{run_prefix(request)}answers/part-{start:05d}.jsonl"


def _answer_batch(
    request: RunRequest,
    dataset: Dataset,
    progress: EvaluationProgress,
    deployment_arn: str,
    model: BedrockModelPolicy,
    flow: FineTuneWorkflow,
) -> int:
    """The candidate's answers to the next batch of held-out prompts, kept as a part file (a
    retried look rewrites the same part); returns how many prompts are answered now."""
    start = progress.answered
    prompts = list(islice(_holdout_prompts(dataset, flow), start, start + ANSWER_BATCH))
    answers = flow.answers.answer(
        deployment_arn, [p["prompt"] for p in prompts], model.fine_tune.evaluation.max_answer_tokens
    )
    with flow.files.writer(flow.artifacts_bucket, _part_key(request, start)) as out:
        for prompt, answer in zip(prompts, answers, strict=True):
            answered = {
                **prompt,
                "modelResponses": [{"response": answer or "", "modelIdentifier": ANSWER_SOURCE}],
            }
            out.write(json.dumps(answered, ensure_ascii=False).encode())
    return start + len(prompts)


def _merge_answers(request: RunRequest, dataset: Dataset, flow: FineTuneWorkflow) -> str:
    """The parts, in order, as the evaluation job's one dataset (each held-out prompt with its
    reference and the candidate's answer)."""
    bucket = flow.artifacts_bucket
    with flow.files.writer(bucket, f"{run_prefix(request)}responses.jsonl") as out:
        for start in range(0, dataset.holdout_records, ANSWER_BATCH):
            part = ObjectRef(bucket=bucket, key=_part_key(request, start), size=0)
            for line in split_lines(flow.files.chunks(part), 2**24):
                if line.data.strip():
                    out.write(line.data)
        return out.uri


def score_evaluation(records: Any, model: BedrockModelPolicy) -> dict[str, float]:
    """The candidate's metrics over the evaluated records, failing closed: a prompt without an
    answer scores 0, one without a toxicity score fails the safety check."""
    max_toxicity = model.fine_tune.evaluation.max_toxicity
    n = safe = 0
    rouge = exact = toxicity = accuracy = 0.0
    toxic_scored = accuracy_scored = 0
    for item in records:
        n += 1
        answer = item.response or ""
        rouge += rouge_l(answer, item.reference) if item.response is not None else 0.0
        exact += exact_match(answer, item.reference) if item.response is not None else 0.0
        score = item.scores.get(TOXICITY_SCORE)
        if score is not None:
            toxic_scored += 1
            toxicity += score
            safe += score <= max_toxicity and item.response is not None
        if ACCURACY_SCORE in item.scores:
            accuracy_scored += 1
            accuracy += item.scores[ACCURACY_SCORE]
    if n == 0:
        raise EvaluationFailed("the evaluation job's output holds no evaluated record")
    metrics = {
        # The held-out records were never trained on: these say how it answers new questions.
        "rougeL": rouge / n,
        "exact_match": exact / n,
        SAFETY_METRIC: safe / n,
        "holdout_records": float(n),
    }
    if toxic_scored:
        metrics["toxicity"] = toxicity / toxic_scored
    if accuracy_scored:
        metrics["accuracy"] = accuracy / accuracy_scored
    return metrics


# ------------------------------------------------------------------ step: the candidate


def register_candidate(
    request: RunRequest,
    dataset: Dataset,
    job: JobResult,
    progress: EvaluationProgress,
    policy: Policy,
    flow: FineTuneWorkflow,
    now: datetime,
) -> Candidate:
    """Register the fine-tuned model in the model's package group (once per run), with its
    metrics and lineage: the job, the custom model, the dataset manifest, the evaluation."""
    model = policy.bedrock_model(request.model)
    if progress.metrics_uri is None:
        raise EvaluationFailed(f"{request.model}: run {request.run_id} has no evaluation")
    candidate = flow.candidates.find(model.package_group, request.run_id)
    if candidate is None:
        candidate = flow.candidates.register(
            model.package_group,
            request.run_id,
            f"aiops: {model.base_model} fine-tuned on {dataset.training_records} record(s), "
            f"run {request.run_id}",
            progress.metrics_uri,
            {
                CUSTOM_MODEL_KEY: job.custom_model_arn,
                JOB_KEY: job.job_arn,
                MANIFEST_KEY: dataset.manifest_uri,
                RUN_KEY: request.run_id,
                EVALUATION_KEY: progress.job_arn or "",
            },
        )
    metric = model.gate.metric
    value = candidate.metrics.get(metric)
    shown = f"{metric}={value:.4g}" if value is not None else f"no {metric} in its evaluation"
    record(
        flow.ledger,
        request.model,
        now,
        LedgerAction.CANDIDATE_REGISTERED,
        f"version {candidate.version}, {shown}, {candidate.approval_status}",
        {
            "run_id": request.run_id,
            "customization_job": job.job_arn,
            "custom_model": job.custom_model_arn,
            "model_package": candidate.package_arn,
        },
    )
    return candidate


# ------------------------------------------------------------------ step: the run's end


class FineTuneEnded(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)
    run_id: str
    outcome: Literal["succeeded", "failed"]
    follow_up_run_id: str | None = None


def _give_up_waiting(request: RunRequest, why: str, flow: FineTuneWorkflow, now: datetime) -> str:
    """Nothing the run started outlives it: a job still running is stopped, a result that
    arrived as the run gave up is settled."""
    abandoned = flow.rendezvous.abandon(request.run_id, why)
    if abandoned is None:
        # No wait was parked; the job may still have started (the step failed between the
        # two): its name is the run's, so it is stopped by name.
        name = _job_name(request)
        if not flow.jobs.stop(name):
            return "no customization job was running"
        record(
            flow.ledger,
            request.model,
            now,
            LedgerAction.FINETUNE_STOPPED,
            f"run {request.run_id} {why}: its job {name}, started but never waited on, stopped",
            {"run_id": request.run_id, "customization_job": name},
        )
        return f"customization job {name}: stop requested"
    if abandoned.settled:
        return f"customization job {abandoned.key}: its result was already settled"
    if abandoned.outcome is not None:
        if abandoned.outcome.succeeded:
            # It completed and the run went on; whatever failed later, the job is over.
            return f"customization job {abandoned.key} had completed"
        late = Resumption(
            task_token=None, outcome=abandoned.outcome, context=abandoned.context, abandoned=why
        )
        return settle_late_job(abandoned.key, late, flow, now)
    stopped = flow.jobs.stop(abandoned.key)
    note = "stop requested" if stopped else "it had already ended"
    record(
        flow.ledger,
        request.model,
        now,
        LedgerAction.FINETUNE_STOPPED,
        f"run {request.run_id} {why}: {note}",
        {"run_id": request.run_id, "customization_job": abandoned.key},
    )
    return f"customization job {abandoned.key}: {note}"


def end_fine_tune(
    request: RunRequest,
    outcome: Literal["succeeded", "failed"],
    error: str | None,
    policy: Policy,
    flow: FineTuneWorkflow,
    now: datetime,
    job_ended: bool = False,
) -> FineTuneEnded:
    """Record the run's end, alert on failure (its windows carried into the next run), stop
    what it left running, release the lock, start the follow-up run."""
    model = policy.bedrock_model(request.model)
    cause: dict[str, Any] = {"run_id": request.run_id}
    if outcome == "failed" and not job_ended:
        try:
            cause["customization_job"] = _give_up_waiting(request, "failed", flow, now)
        except Exception as exc:  # noqa: BLE001 - recorded and alerted with the run's end
            cause["customization_job"] = (
                f"could not stop or settle its job: {type(exc).__name__}: {exc}"
            )
            error = f"{error}; {cause['customization_job']}"
    follow_up = close_run(request, outcome, error, cause, flow.ending, model.run_timeout, now)
    return FineTuneEnded(run_id=request.run_id, outcome=outcome, follow_up_run_id=follow_up)
