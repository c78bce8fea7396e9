"""In-memory stand-ins for the domain's ports (unit tests only; moto covers the adapters).

tests/contracts runs every port's contract on these fakes and on the adapters (moto): a fake
behaves like its adapter, down to the edges the domain may meet.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse

from aiops.cost.model import EndpointState, VariantCapacity
from aiops.drift.decisions import CooldownClaim
from aiops.ledger import LedgerEntry
from aiops.pauses import Pause
from aiops.runs.requests import RunRequest
from aiops.runs.window import AddOutcome, ClosedWindow, ObjectRef, WindowLimits, close_reason
from aiops.storage import ObjectGone, ObjectUnreadable


class MemoryWindows:
    def __init__(self) -> None:
        self.pending: dict[str, dict[str, ObjectRef]] = {}
        self.seen: set[tuple[str, str]] = set()
        self.opened: dict[str, datetime] = {}
        self.closed: dict[tuple[str, int], ClosedWindow] = {}
        self.failures: dict[tuple[str, int], int] = {}
        self.started: set[tuple[str, int]] = set()
        self.carried_windows: dict[str, set[int]] = {}
        self.claims: dict[tuple[str, str], list[int]] = {}

    def add(self, model: str, obj: ObjectRef, limits: WindowLimits, now: datetime) -> AddOutcome:
        if (model, obj.natural_key) in self.seen:
            return AddOutcome.DUPLICATE
        self.seen.add((model, obj.natural_key))
        self.pending.setdefault(model, {})[obj.natural_key] = obj
        self.opened.setdefault(model, now)
        objs = self.pending[model].values()
        due = close_reason(
            len(objs),
            sum(o.size for o in objs),
            None,
            limits,
            now,
            sum(o.records or 0 for o in objs),
        )
        return AddOutcome.THRESHOLD_REACHED if due else AddOutcome.ADDED

    def record_failure(self, model: str, seq: int) -> int:
        if (model, seq) not in self.closed:
            raise LookupError(f"{model}: no window w{seq:06d}")
        self.failures[(model, seq)] = self.failures.get((model, seq), 0) + 1
        return self.failures[(model, seq)]

    def counted(self, model: str, obj: ObjectRef) -> bool:
        return (model, obj.natural_key) in self.seen

    def close(
        self,
        model: str,
        limits: WindowLimits,
        now: datetime,
        owner: str,
        force_reason: str | None = None,
    ) -> ClosedWindow | None:
        # In the adapter's order: its pending objects are read back by natural key.
        objs = sorted(self.pending.get(model, {}).values(), key=lambda o: o.natural_key)
        reason = (
            (force_reason if objs else None)
            if force_reason
            else close_reason(
                len(objs),
                sum(o.size for o in objs),
                self.opened.get(model),
                limits,
                now,
                sum(o.records or 0 for o in objs),
            )
        )
        if reason is None:
            return None
        seq = 1 + sum(1 for m, _ in self.closed if m == model)
        window = ClosedWindow(
            model=model,
            seq=seq,
            objects=objs,
            bytes=sum(o.size for o in objs),
            reason=reason,
            closed_at=now,
        )
        self.closed[(model, seq)] = window
        self.pending[model] = {}
        self.opened.pop(model, None)
        return window

    def get(self, model: str, seq: int) -> ClosedWindow | None:
        return self.closed.get((model, seq))

    def latest(self, model: str) -> ClosedWindow | None:
        seqs = [s for m, s in self.closed if m == model]
        return self.closed[(model, max(seqs))] if seqs else None

    def unstarted(self, model: str) -> list[ClosedWindow]:
        return [w for (m, s), w in self.closed.items() if m == model and (m, s) not in self.started]

    def mark_started(self, model: str, seq: int) -> None:
        # Like the adapter's conditional update: only a closed window can be marked started.
        window = self.closed[(model, seq)]
        self.closed[(model, seq)] = window.model_copy(update={"run_started": True})
        self.started.add((model, seq))

    def carry(self, model: str, seqs: list[int]) -> None:
        self.carried_windows.setdefault(model, set()).update(seqs)

    def carried(self, model: str) -> list[int]:
        return sorted(self.carried_windows.get(model, set()))

    def claim_carried(self, model: str, run_id: str) -> list[int]:
        if (model, run_id) not in self.claims:
            carried = sorted(self.carried_windows.pop(model, set()))
            if not carried:
                return []  # like the adapter: an empty claim is not recorded
            self.claims[(model, run_id)] = carried
        return self.claims[(model, run_id)]

    def claimed(self, model: str, run_id: str) -> list[int]:
        return self.claims.get((model, run_id), [])


class MemoryLedger:
    def __init__(self) -> None:
        self.entries: list[LedgerEntry] = []

    def append(self, entry: LedgerEntry) -> bool:
        # The table's key is (model, seq).
        if any(e.model == entry.model and e.seq == entry.seq for e in self.entries):
            return False
        self.entries.append(entry)
        return True

    def for_model(self, model: str, limit: int = 100) -> list[LedgerEntry]:
        """Like the adapter: the newest `limit` entries by seq, oldest first."""
        entries = sorted((e for e in self.entries if e.model == model), key=lambda e: e.seq)
        return entries[-limit:] if limit > 0 else []


class RecordingRunStarter:
    def __init__(self) -> None:
        self.started: list[RunRequest] = []

    def start(self, request: RunRequest) -> str:
        # Like Step Functions: the run id is the execution name, so a second start is a no-op.
        if all(r.run_id != request.run_id for r in self.started):
            self.started.append(request)
        return f"arn:aws:states:us-east-1:123456789012:execution:aiops-dev-retrain:{request.run_id}"


class MemoryReports:
    """S3 objects by URI, read like the adapter (aiops.adapters.s3.S3Objects.read): a missing
    object reads as None; a missing bucket or an object larger than a document is
    `ObjectUnreadable`; a URI that is not s3:// is a ValueError.

    Without `buckets`, every bucket exists (as the stack's buckets do); with them, only those
    named and those holding an object."""

    MAX_DOCUMENT_BYTES = 10 * 1024 * 1024

    def __init__(self, buckets: set[str] | None = None) -> None:
        self.objects: dict[str, str] = {}
        self.buckets = buckets

    def put(self, uri: str, body: str | bytes) -> None:
        text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
        self.objects[uri] = text

    def read(self, uri: str) -> str | None:
        bucket = _bucket_of(uri)
        text = self.objects.get(uri)
        if text is None:
            known = self.buckets is None or bucket in self.buckets
            if not known and all(_bucket_of(u) != bucket for u in self.objects):
                raise ObjectUnreadable(uri, "cannot be read (NoSuchBucket)")
            return None
        if len(text.encode()) > self.MAX_DOCUMENT_BYTES:
            raise ObjectUnreadable(uri, f"larger than {self.MAX_DOCUMENT_BYTES} bytes")
        return text


def _bucket_of(uri: str) -> str:
    parsed = urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise ValueError(f"not an s3:// URI: {uri!r}")
    return parsed.netloc


class MemoryClaims:
    """The idempotency store: claims with expiry, kept like the adapter's in epoch seconds (a
    claim holds through the second its ttl ends in)."""

    def __init__(self) -> None:
        self.claims: dict[str, int] = {}
        self.confirmed: set[str] = set()

    def claim(self, key: str, now: datetime, ttl: timedelta) -> bool:
        if key in self.claims and self.claims[key] >= _epoch(now):
            return False
        # A new claim replaces the expired one whole: it is not done.
        self.claims[key] = _epoch(now + ttl)
        self.confirmed.discard(key)
        return True

    def confirm(self, key: str, now: datetime, ttl: timedelta) -> None:
        self.claims[key] = _epoch(now + ttl)
        self.confirmed.add(key)

    def done(self, key: str) -> bool:
        return key in self.confirmed

    def forget(self, key: str) -> None:
        self.claims.pop(key, None)
        self.confirmed.discard(key)


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


class MemoryCooldowns:
    def __init__(self) -> None:
        self.last: dict[str, tuple[datetime, str, str]] = {}

    def claim(
        self, model: str, key: str, run_id: str, now: datetime, cooldown: timedelta
    ) -> CooldownClaim:
        previous = self.last.get(model)
        if previous is not None and previous[0] > now - cooldown and previous[1] != key:
            return CooldownClaim(granted=False, last_run_at=previous[0])
        self.last[model] = (now, key, run_id)
        return CooldownClaim(granted=True)

    def release(self, model: str, run_id: str) -> None:
        if model in self.last and self.last[model][2] == run_id:
            del self.last[model]


class RecordingAlerts:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def publish(self, subject: str, message: str) -> None:
        self.sent.append((subject, message))


class MemoryLabeledFiles:
    """Labeled files (aiops.finetune.ports.LabeledFiles) as the S3 adapter keeps them: objects
    by (bucket, key) — the newest version — and written ones only once their block ends."""

    def __init__(self, chunk_bytes: int = 7) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}
        self.versions: dict[tuple[str, str, str], bytes] = {}
        self.chunk_bytes = chunk_bytes
        self.reads = 0

    def put(self, bucket: str, key: str, body: bytes, version: str | None = None) -> None:
        self.objects[(bucket, key)] = body
        if version:
            self.versions[(bucket, key, version)] = body

    def chunks(self, obj: ObjectRef) -> Iterator[bytes]:
        self.reads += 1
        if obj.version_id:
            if (obj.bucket, obj.key, obj.version_id) not in self.versions:
                raise ObjectGone(f"s3://{obj.bucket}/{obj.key}")
            body = self.versions[(obj.bucket, obj.key, obj.version_id)]
        elif (obj.bucket, obj.key) in self.objects:
            body = self.objects[(obj.bucket, obj.key)]
        else:
            raise ObjectGone(f"s3://{obj.bucket}/{obj.key}")
        # Small chunks, cut anywhere (inside lines and characters), like a network read.
        for start in range(0, len(body), self.chunk_bytes):
            yield body[start : start + self.chunk_bytes]

    @contextmanager
    def writer(self, bucket: str, key: str) -> Iterator[_MemorySink]:
        sink = _MemorySink(f"s3://{bucket}/{key}")
        yield sink
        self.objects[(bucket, key)] = b"".join(line + b"\n" for line in sink.lines)

    def put_json(self, bucket: str, key: str, body: object) -> str:
        self.objects[(bucket, key)] = json.dumps(body, indent=2, default=str).encode()
        return f"s3://{bucket}/{key}"

    def exists(self, bucket: str, key: str) -> bool:
        return (bucket, key) in self.objects

    def copy(self, obj: ObjectRef, key: str) -> str:
        self.objects[(obj.bucket, key)] = b"".join(self.chunks(obj))
        return f"s3://{obj.bucket}/{key}"


class _MemorySink:
    def __init__(self, uri: str) -> None:
        self.uri = uri
        self.lines: list[bytes] = []

    def write(self, line: bytes) -> None:
        self.lines.append(line)


# ------------------------------------------------------------------ cost capability, pauses


# As the adapters (aiops.adapters.pause_store) store them.
MAX_CAUSE_BYTES = 32 * 1024


def _json_map(value: dict[str, object], field: str) -> dict[str, object]:
    try:
        text = json.dumps(value, default=str, allow_nan=False, sort_keys=True)
    except ValueError as exc:
        raise ValueError(f"{field}: not storable as JSON ({exc})") from exc
    if len(text.encode()) > MAX_CAUSE_BYTES:
        raise ValueError(f"{field}: {len(text.encode())} bytes of JSON, at most {MAX_CAUSE_BYTES}")
    loaded: dict[str, object] = json.loads(text)
    return loaded


def _utc(moment: datetime, field: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{field}: {moment.isoformat()} has no time zone")
    return moment.astimezone(UTC)


class MemoryPauses:
    """PauseStore (aiops.pauses) as DynamoPauseStore keeps it: one pause a model, set unless one
    still holds at the new one's start, times in UTC, the cause as it reads back from JSON."""

    def __init__(self) -> None:
        self.pauses: dict[str, Pause] = {}

    def get(self, model: str) -> Pause | None:
        return self.pauses.get(model)

    def pause(self, pause: Pause) -> bool:
        stored = pause.model_copy(
            update={
                "since": _utc(pause.since, "pause.since"),
                "until": _utc(pause.until, "pause.until") if pause.until else None,
                "cause": _json_map(pause.cause, "pause.cause"),
            }
        )
        current = self.pauses.get(pause.model)
        if current is not None and (current.until is None or current.until > stored.since):
            return False
        self.pauses[pause.model] = stored
        return True

    def lift(self, model: str) -> Pause | None:
        return self.pauses.pop(model, None)


class MemorySavedCapacities:
    """SavedCapacities (aiops.cost.ports): the first saved capacity of a variant is kept."""

    def __init__(self) -> None:
        self.items: dict[str, dict[tuple[str, str], tuple[VariantCapacity, dict[str, object]]]] = {}

    def save(self, model: str, variants: list[VariantCapacity], cause: dict[str, object]) -> None:
        stored = _json_map(cause, "cause")
        for variant in variants:
            self.items.setdefault(model, {}).setdefault(
                (variant.endpoint, variant.variant), (variant, stored)
            )

    def saved(self, model: str) -> list[VariantCapacity]:
        # The adapter's order: by endpoint, then variant.
        return [v for _, (v, _) in sorted(self.items.get(model, {}).items())]

    def forget(self, model: str, variants: list[VariantCapacity]) -> None:
        for variant in variants:
            self.items.get(model, {}).pop((variant.endpoint, variant.variant), None)


class MemoryEndpointCapacity:
    """EndpointCapacity (aiops.cost.ports) over seeded endpoint states: `set_capacity` is
    recorded and applied (its bounds too when it has them, as the scalable target gets them)."""

    def __init__(self, *endpoints: EndpointState) -> None:
        self.endpoints: dict[str, EndpointState] = {e.endpoint: e for e in endpoints}
        self.calls: list[VariantCapacity] = []

    def state(self, endpoint: str) -> EndpointState | None:
        return self.endpoints.get(endpoint)

    def set_capacity(self, variants: list[VariantCapacity]) -> None:
        if not variants:
            return
        endpoint = variants[0].endpoint
        if any(v.endpoint != endpoint for v in variants):
            raise ValueError("set_capacity: the variants of one endpoint at a time")
        state = self.endpoints.get(endpoint)
        for variant in variants:
            low, high = variant.scaling_min, variant.scaling_max
            name = f"{variant.endpoint}/{variant.variant}"
            if low is not None and high is not None:
                if low > high:
                    raise ValueError(f"{name}: scaling_min {low} is above scaling_max {high}")
                if not low <= variant.instances <= high:
                    raise ValueError(
                        f"{name}: instances {variant.instances} is outside the scaling bounds "
                        f"{low}-{high}"
                    )
            if state is None:
                raise LookupError(f"endpoint {variant.endpoint} does not exist")
            if variant.variant not in {v.variant for v in state.variants}:
                raise LookupError(f"endpoint {variant.endpoint} has no variant {variant.variant}")
        assert state is not None
        self.calls.extend(variants)
        by_name = {v.variant: v for v in variants}

        def changed(current: VariantCapacity) -> VariantCapacity:
            asked = by_name.get(current.variant)
            if asked is None:
                return current
            changes: dict[str, int | None] = {"instances": asked.instances}
            if asked.scaled:
                changes.update(scaling_min=asked.scaling_min, scaling_max=asked.scaling_max)
            return current.model_copy(update=changes)

        self.endpoints[endpoint] = state.model_copy(
            update={"variants": [changed(v) for v in state.variants]}
        )


class MemoryRunningJobs:
    """RunningJobs (aiops.cost.ports) over seeded executions and jobs; stops are recorded and
    turn what they stop `Stopping`, as SageMaker and Bedrock do."""

    def __init__(self) -> None:
        self.executions: dict[str, dict[str, str]] = {}
        self.jobs: dict[str, tuple[str, str]] = {}
        self.stopped: list[str] = []

    def add_execution(self, pipeline: str, arn: str, status: str = "Executing") -> None:
        self.executions.setdefault(pipeline, {})[arn] = status

    def add_job(self, arn: str, model_tag: str, status: str = "InProgress") -> None:
        self.jobs[arn] = (model_tag, status)

    def pipeline_executions(self, pipeline: str) -> list[str]:
        # Newest (last added) first, like the adapter's listing.
        found = self.executions.get(pipeline, {})
        return [arn for arn, status in reversed(found.items()) if status == "Executing"]

    def stop_pipeline_execution(self, arn: str) -> bool:
        for found in self.executions.values():
            if found.get(arn) == "Executing":
                found[arn] = "Stopping"
                self.stopped.append(arn)
                return True
        return False

    def customization_jobs(self, model: str) -> list[str]:
        return [
            arn
            for arn, (tag, status) in self.jobs.items()
            if tag == model and status == "InProgress"
        ]

    def stop_customization_job(self, arn: str) -> bool:
        if arn in self.jobs and self.jobs[arn][1] == "InProgress":
            self.jobs[arn] = (self.jobs[arn][0], "Stopping")
            self.stopped.append(arn)
            return True
        return False


class RecordingResumeNotices:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def resumed(self, model: str, by: str) -> None:
        self.sent.append((model, by))
