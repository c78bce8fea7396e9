"""Ground Truth labeling jobs → labeled data: a completed job tagged `aiops:model` with a
Bedrock model of the policy has its output manifest rewritten, line by line, as records of the
base model's format under the model's labels prefix; from there the labeled-data trigger
validates, quarantines, reports and counts them like any labeler's upload.

Pure orchestration over ports: no AWS here.
"""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from aiops.base_models import RecordFormat
from aiops.events.sagemaker import LabelingJobStateChange
from aiops.finetune.model import MODEL_TAG, LabelingJob
from aiops.finetune.ports import LabeledFiles, LabelingJobs
from aiops.finetune.validation import split_lines
from aiops.idempotency import IdempotencyStore, once
from aiops.ledger import Ledger, LedgerAction, record
from aiops.policy import BedrockModelPolicy, GroundTruthPolicy, Policy
from aiops.runs.window import ObjectRef

# A job's output is imported once, whatever the number of deliveries of its event.
IMPORT_TTL = timedelta(days=90)
# An import that died (its function timed out) may be retried after this long: the function's
# timeout; a finished import is also found by its object.
IMPORT_IN_PROGRESS = timedelta(minutes=15)
# A manifest line longer than this is passed on cut short: the validator then reports it.
MAX_MANIFEST_LINE = 16 * 1024 * 1024


@dataclass(frozen=True)
class GroundTruthDependencies:
    jobs: LabelingJobs
    files: LabeledFiles
    claims: IdempotencyStore
    ledger: Ledger
    labeled_bucket: str


class GroundTruthDecision(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)
    action: Literal["ignored", "duplicate", "imported"]
    job: str
    reason: str
    model: str | None = None
    uri: str | None = None


def import_key(model: BedrockModelPolicy, job: LabelingJob) -> str:
    """Where a job's records land: under the model's labels prefix, one object per job."""
    return f"{model.labels.prefix}ground-truth/{job.name}.jsonl"


def import_labeling_job(
    event: LabelingJobStateChange,
    policy: Policy,
    deps: GroundTruthDependencies,
    now: datetime,
) -> GroundTruthDecision:
    """A labeling job completed: its answers become the model's labeled data, once."""
    name = event.job_name
    if event.detail.status != "Completed":
        return GroundTruthDecision(
            action="ignored", job=name, reason=f"labeling job {event.detail.status}"
        )
    job = deps.jobs.describe(name)
    model_name = job.tags.get(MODEL_TAG, "")
    model = policy.bedrock_models().get(model_name)
    if model is None:
        return GroundTruthDecision(
            action="ignored",
            job=name,
            reason=f"no {MODEL_TAG} tag naming a Bedrock model of the policy "
            f"({model_name or 'untagged'})",
        )
    settings = model.labels.ground_truth
    if settings is None:
        return GroundTruthDecision(
            action="ignored",
            job=name,
            model=model_name,
            reason=f"{model_name}: labels.ground_truth is not set in the policy",
        )
    if job.status != "Completed" or not job.output_manifest_uri:
        return GroundTruthDecision(
            action="ignored",
            job=name,
            model=model_name,
            reason=f"the job reads {job.status} with no output manifest",
        )
    key = import_key(model, job)
    if deps.files.exists(deps.labeled_bucket, key):
        return GroundTruthDecision(
            action="duplicate", job=name, model=model_name, reason="already imported"
        )

    def write() -> tuple[str, int]:
        return _rewrite(job, model, settings, key, deps)

    ran, written = once(
        deps.claims,
        f"ground-truth:{job.arn}",
        now,
        IMPORT_TTL,
        write,
        in_progress=IMPORT_IN_PROGRESS,
    )
    if not ran or written is None:
        return GroundTruthDecision(
            action="duplicate", job=name, model=model_name, reason="already imported"
        )
    uri, lines = written
    record(
        deps.ledger,
        model_name,
        now,
        LedgerAction.LABELS_IMPORTED,
        f"labeling job {name}: {lines} record(s) written to {uri} for validation",
        {"labeling_job": job.arn, "manifest": job.output_manifest_uri, "object": uri},
    )
    return GroundTruthDecision(
        action="imported",
        job=name,
        model=model_name,
        uri=uri,
        reason=f"{lines} record(s) from the output manifest",
    )


def _rewrite(
    job: LabelingJob,
    model: BedrockModelPolicy,
    settings: GroundTruthPolicy,
    key: str,
    deps: GroundTruthDependencies,
) -> tuple[str, int]:
    bucket, _, manifest_key = (job.output_manifest_uri or "").removeprefix("s3://").partition("/")
    manifest = ObjectRef(bucket=bucket, key=manifest_key, size=0)
    lines = 0
    with deps.files.writer(deps.labeled_bucket, key) as out:
        for line in split_lines(deps.files.chunks(manifest), MAX_MANIFEST_LINE):
            if not line.data.strip():
                continue
            out.write(
                to_record(line.data, job.label_attribute, settings, model.base_model_spec.format)
            )
            lines += 1
        uri = out.uri
    return uri, lines


def _answer(value: Any, field: str) -> Any:
    if isinstance(value, dict):
        return value.get(field)
    return value


def to_record(
    line: bytes, label_attribute: str, settings: GroundTruthPolicy, fmt: RecordFormat
) -> bytes:
    """One output-manifest line as a record of `fmt`. A line that is not what we expect (not
    JSON, no question, no answer) is rewritten as faithfully as it can be and left to the
    validator, which reports it to the labelers with its line: nothing is dropped silently."""
    try:
        item = json.loads(line)
    except ValueError:
        return line
    if not isinstance(item, dict):
        return line
    prompt = item.get(settings.prompt_field)
    answer = _answer(item.get(label_attribute), settings.answer_field)
    if fmt is RecordFormat.PROMPT_COMPLETION:
        converted: dict[str, Any] = {"prompt": prompt, "completion": answer}
    elif fmt is RecordFormat.CLAUDE_MESSAGES:
        converted = {
            "messages": [
                {"role": "user", "content": prompt},
                {"role": "assistant", "content": answer},
            ]
        }
    else:
        converted = {
            "schemaVersion": "bedrock-conversation-2024",
            "messages": [
                {"role": "user", "content": [{"text": prompt}]},
                {"role": "assistant", "content": [{"text": answer}]},
            ],
        }
    return json.dumps(converted, ensure_ascii=False).encode()
