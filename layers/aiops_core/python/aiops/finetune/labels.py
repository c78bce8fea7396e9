"""Labeled-data trigger: a labeler's upload → every record validated against the base model →
bad records quarantined with a report and the labelers told → good records counted in the
model's window → a fine-tune run when it holds enough.

Pure orchestration over ports: no AWS here.
"""

from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from aiops.events.s3 import S3ObjectCreated
from aiops.finetune.ports import LabeledFiles, LineSink
from aiops.finetune.validation import Problem, ReportBuilder, ValidationReport, validate
from aiops.idempotency import IdempotencyStore, once
from aiops.ledger import Ledger, LedgerAction, record
from aiops.pauses import PauseStore, active_pause, hold_if_paused
from aiops.policy import (
    CONTROL_PLANE_PREFIXES,
    MAX_WINDOW_BYTES,
    MAX_WINDOW_OBJECTS,
    BedrockModelPolicy,
    Policy,
)
from aiops.runs.ports import Alerts, RunStarter
from aiops.runs.starts import start_window_run
from aiops.runs.window import AddOutcome, ClosedWindow, ObjectRef, WindowLimits, WindowStore
from aiops.storage import ObjectGone

# Where quarantined records and reports go, in the labeled bucket: a control-plane prefix, so
# no model's labels prefix can hold it and nothing we write there is ever counted.
QUARANTINE_PREFIX = "quarantine/"
# A labeler hears about a file once, however often S3 delivers its event.
NOTICE_TTL = timedelta(days=90)


@dataclass(frozen=True)
class LabelsDependencies:
    """What the labeled-data trigger and its age sweep act through."""

    files: LabeledFiles
    windows: WindowStore
    runs: RunStarter
    labelers: Alerts
    claims: IdempotencyStore
    ledger: Ledger
    # A model's paused triggers: labels still count, no fine-tune starts.
    pauses: PauseStore


class LabelsDecision(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)
    action: Literal[
        "ignored",
        "duplicate",
        "counted",
        "rejected",
        "held",
        "finetune_started",
        "finetune_dry_run",
    ]
    reason: str
    key: str
    model: str | None = None
    good: int = 0
    bad: int = 0
    report_uri: str | None = None
    run_id: str | None = None


def labels_limits(model: BedrockModelPolicy) -> WindowLimits:
    """A labeled-data window closes on good records (or age), not on files or bytes."""
    return WindowLimits(
        objects=MAX_WINDOW_OBJECTS,
        bytes=MAX_WINDOW_BYTES,
        max_age=model.labels.max_age,
        records=model.labels.min_records,
    )


def quarantine_keys(model: str, ref: ObjectRef) -> tuple[str, str]:
    """Where a file's rejected records (or, with `quarantine: file`, the file) and its report
    go: per object version, so a new upload of the same key never overwrites the last one's."""
    base = f"{QUARANTINE_PREFIX}{model}/{ref.key}.{ref.natural_key[:12]}"
    return f"{base}.rejected.jsonl", f"{base}.report.json"


def record_labeled_object(
    event: S3ObjectCreated,
    policy: Policy,
    deps: LabelsDependencies,
    now: datetime,
    owner: str,
) -> LabelsDecision:
    """Validate a labeler's file, quarantine and report what is bad, count what is good."""
    obj = event.detail.object
    key = obj.key
    if key.endswith("/"):
        return LabelsDecision(action="ignored", key=key, reason="folder marker, not data")
    if key.startswith(CONTROL_PLANE_PREFIXES):
        return LabelsDecision(
            action="ignored", key=key, reason="the control plane's own output, not labeled data"
        )
    match = policy.bedrock_model_for_key(key)
    if match is None:
        return LabelsDecision(
            action="ignored", key=key, reason="outside every model's labeled-data prefix"
        )
    name, model = match
    ref = ObjectRef(
        bucket=event.detail.bucket.name,
        key=key,
        version_id=obj.version_id,
        etag=obj.etag,
        size=obj.size,
    )
    if deps.windows.counted(name, ref):
        # A repeated delivery: counted (and its labelers told) already; not read again.
        return LabelsDecision(
            action="duplicate", key=key, model=name, reason="object version already counted"
        )
    try:
        report, rejected_uri = _validate_file(name, model, ref, deps.files)
    except ObjectGone:
        # Deleted (or overwritten in an unversioned bucket) before it could be read: there is
        # nothing to count or report; a later upload has its own event.
        return LabelsDecision(
            action="ignored",
            key=key,
            model=name,
            reason="the object version no longer exists: deleted before it was read",
        )
    report_uri = None
    if report.bad or report.file_problems:
        _, report_key = quarantine_keys(name, ref)
        report_uri = deps.files.put_json(
            ref.bucket, report_key, _report_document(name, model, ref, report, rejected_uri)
        )
        _tell_labelers_once(name, model, ref, report, report_uri, rejected_uri, deps, now, event)
    if report.good == 0:
        return LabelsDecision(
            action="rejected",
            key=key,
            model=name,
            bad=report.bad,
            report_uri=report_uri,
            reason=f"no record valid for {model.base_model}: {report.summary()}",
        )
    counted = ref.model_copy(update={"records": report.good})
    limits = labels_limits(model)
    added = deps.windows.add(name, counted, limits, now)
    if added is AddOutcome.DUPLICATE:
        return LabelsDecision(
            action="duplicate",
            key=key,
            model=name,
            good=report.good,
            bad=report.bad,
            report_uri=report_uri,
            reason="object version already counted",
        )
    record(
        deps.ledger,
        name,
        now,
        LedgerAction.LABELS_COUNTED,
        f"{report.good} good record(s) of {report.records} in {key}",
        {
            "event_id": event.id,
            "object": f"s3://{ref.bucket}/{key}",
            "version_id": ref.version_id,
            "good": report.good,
            "bad": report.bad,
            "report": report_uri,
        },
    )
    decision = LabelsDecision(
        action="counted",
        key=key,
        model=name,
        good=report.good,
        bad=report.bad,
        report_uri=report_uri,
        reason="window below its threshold",
    )
    if added is AddOutcome.ADDED:
        return decision
    # Paused: the window stays open and keeps counting; the sweep closes it once resumed.
    pause = hold_if_paused(
        deps.pauses,
        deps.ledger,
        name,
        now,
        "labels threshold reached: a fine-tune would start",
        {"event_id": event.id, "object": f"s3://{ref.bucket}/{key}", "version_id": ref.version_id},
    )
    if pause is not None:
        return decision.model_copy(update={"action": "held", "reason": pause.describe()})
    closed = deps.windows.close(name, limits, now, owner)
    if closed is None:
        return decision.model_copy(update={"reason": "window closed by a concurrent delivery"})
    started = start_labels_run(closed, model, "labeled_data", deps, now, event_id=event.id)
    return started.model_copy(
        update={"key": key, "good": report.good, "bad": report.bad, "report_uri": report_uri}
    )


def _validate_file(
    name: str, model: BedrockModelPolicy, ref: ObjectRef, files: LabeledFiles
) -> tuple[ValidationReport, str | None]:
    """Stream the file through the validator; with `quarantine: records` its bad records go to
    the quarantine prefix as they are found (the object is only created if there are any)."""
    spec = model.base_model_spec
    if ref.size > spec.max_file_bytes:
        # Not read at all: the report says why, and nothing of it counts.
        builder = ReportBuilder(spec, model.labels.max_examples)
        builder.add_bytes(ref.size)
        too_large = builder.build()
        kept = [p for p in too_large.file_problems if p.kind == "file_too_large"]
        return too_large.model_copy(update={"file_problems": kept}), None
    if model.labels.quarantine == "file":
        report = validate(files.chunks(ref), spec, model.labels.max_examples)
        if not (report.bad or report.file_problems):
            return report, None
        # The whole file, as the labeler uploaded it, beside its report.
        return report, files.copy(ref, quarantine_keys(name, ref)[0].replace(".rejected", ""))
    rejected_key, _ = quarantine_keys(name, ref)
    with ExitStack() as stack:
        sink: list[LineSink] = []

        def keep_bad(line: int, raw: bytes, problems: list[Problem]) -> None:
            if not problems:
                return
            if not sink:
                sink.append(stack.enter_context(files.writer(ref.bucket, rejected_key)))
            sink[0].write(raw)

        report = validate(
            files.chunks(ref),
            spec,
            model.labels.max_examples,
            on_record=keep_bad,
        )
        uri = sink[0].uri if sink else None
    return report, uri


def _report_document(
    name: str,
    model: BedrockModelPolicy,
    ref: ObjectRef,
    report: ValidationReport,
    rejected_uri: str | None,
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "model": name,
        "base_model": model.base_model,
        "format": model.base_model_spec.format.value,
        "source": {"bucket": ref.bucket, "key": ref.key, "version_id": ref.version_id},
        "quarantine": model.labels.quarantine,
        "rejected_records": rejected_uri,
        "summary": report.summary(),
    }
    document.update(report.model_dump(mode="json"))
    return document


def _tell_labelers_once(
    name: str,
    model: BedrockModelPolicy,
    ref: ObjectRef,
    report: ValidationReport,
    report_uri: str,
    rejected_uri: str | None,
    deps: LabelsDependencies,
    now: datetime,
    event: S3ObjectCreated,
) -> None:
    def tell() -> None:
        counted = (
            f"The {report.good} good record(s) count towards the next fine-tune."
            if report.good
            else "Nothing in it counts: fix the records and upload the file again."
        )
        where = (
            f"The rejected {'file is' if model.labels.quarantine == 'file' else 'records are'} "
            f"in {rejected_uri}. "
            if rejected_uri
            else ""
        )
        file_name = ref.key.rsplit("/", 1)[-1]
        deps.labelers.publish(
            f"[aiops] {name}: {report.bad} of {report.records} record(s) in {file_name} rejected"
            if report.records
            else f"[aiops] {name}: {file_name} rejected",
            f"{report.summary()}\n\n{where}The full report (every problem with its line and "
            f"field) is {report_uri}. {counted}",
        )
        record(
            deps.ledger,
            name,
            now,
            LedgerAction.LABELS_REJECTED if not report.good else LedgerAction.LABELS_QUARANTINED,
            f"{report.bad} bad record(s) of {report.records} in {ref.key}: {report.summary()}"[
                :900
            ],
            {
                "event_id": event.id,
                "object": f"s3://{ref.bucket}/{ref.key}",
                "version_id": ref.version_id,
                "report": report_uri,
                "rejected_records": rejected_uri,
            },
        )

    once(deps.claims, f"labels-notice:{name}:{ref.natural_key}", now, NOTICE_TTL, tell)


def start_labels_run(
    closed: ClosedWindow,
    model: BedrockModelPolicy,
    kind: Literal["labeled_data", "labels_age"],
    deps: LabelsDependencies,
    now: datetime,
    event_id: str | None = None,
) -> LabelsDecision:
    """The one fine-tune run a closed labels window starts (idempotent on its run id)."""
    request = start_window_run(
        closed,
        kind,
        model.dry_run,
        deps.runs,
        deps.windows,
        deps.ledger,
        now,
        LedgerAction.FINETUNE_REQUESTED,
        LedgerAction.FINETUNE_DRY_RUN,
        event_id,
    )
    return LabelsDecision(
        action="finetune_dry_run" if model.dry_run else "finetune_started",
        key="",
        model=closed.model,
        reason=closed.reason,
        run_id=request.run_id,
    )


class LabelsSweep(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)
    started: list[LabelsDecision] = Field(default_factory=list)


def sweep_labels(
    policy: Policy, deps: LabelsDependencies, now: datetime, owner: str
) -> LabelsSweep:
    """Fine-tune on what there is once the oldest counted record reaches `labels.max_age`, and
    start runs a crash left unstarted."""
    started: list[LabelsDecision] = []
    for name, model in policy.bedrock_models().items():
        if active_pause(deps.pauses, name, now) is not None:
            continue  # what it holds starts on the first sweep after it is lifted or expires
        for closed in deps.windows.unstarted(name):
            started.append(start_labels_run(closed, model, "labels_age", deps, now))
        aged = deps.windows.close(name, labels_limits(model), now, owner)
        if aged is not None:
            started.append(start_labels_run(aged, model, "labels_age", deps, now))
    return LabelsSweep(started=started)
