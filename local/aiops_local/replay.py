"""Policy what-if: recorded events run through the offline runtime under two policies, and the
decisions that differ.

    plan = plan_replay(read_recordings([Path("events.jsonl")]), Path("template.yaml"))
    old = load_policy(Path("policies/default.yaml"), "given")
    new = load_policy(Path("new.yaml"), "given")
    old_run, new_run = run_policies(plan, [old, new])
    differences = compare(old_run.decisions, new_run.decisions)

**What is replayed.** The events the world sends the control plane: training and labeled data
uploads, Model Monitor executions, alarms, cost anomalies, Ground Truth jobs. Not what the
control plane or the services working for it emit (our `aiops.*` events, job and deployment
progress, its own S3 writes): each run makes its own. Not the approvals of the recorded
candidates: the replay's candidates are its own, and a person's decision is not the policy's.
Events are made to fit the replay's stack: recorded in another account, region or stage, their
names are rewritten to the replay's (the stage is found from the events' bucket names). Alarm
state changes are replayed as events, for the handlers that decide on them; the alarms in the
replay keep their own state (what a deployment's bake reads there).

**Content.** A recorded event has no object behind it. A training upload gets an object at its
key (filler of the event's size, at most `MAX_OBJECT_BYTES`: nothing offline reads its content;
the window counts the event's size). Where the content decides and is not in the event — a
labeled file's records, a Model Monitor violations report, a labeling job's output — the event is
replayed without it: both policies then see the same missing content, and the comparison cannot
show what that content would have decided. Those events are listed, never filled in.

**Time.** Each run is a fresh `LocalCloud` whose virtual clock starts at the first event; each
event goes on the bus at its own time, after everything due before it (Wait states, timeouts,
simulated jobs) has happened. The sweeps run on their schedule at the moments they can act:
where a window's oldest object reaches its `max_age`, or a pause its `pause_for` (every other
5-minute tick finds nothing to do, and a month of them would cost minutes). After the last event
the run goes on for the policies' longest duration (capped), so runs, approvals and deploys end.
Simulators keep their defaults: simulated jobs do not repeat the recorded jobs' outcomes.

**Comparison** (`compare`, pure: decisions in, differences out). A decision is a ledger decision
(model, time, action, reason), or, for a recorded event on which the handler wrote nothing to the
ledger, the handler's answer (e.g. `added — window not full yet`), so that a decision one policy
makes and the other does not shows as one pair. Equal decisions cancel; of the rest, at one model
and time, the same action for another reason is one change, and so are two answers to the same
recorded event; anything else stands alone, as `x → —` / `— → x`.
"""

from __future__ import annotations

import itertools
import json
import math
import multiprocessing
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from moto.events.models import EventPattern
from pydantic import BaseModel

from aiops.policy import CONTROL_PLANE_PREFIXES, Policy, PolicyError, parse_policy
from aiops_local.cfn_yaml import load_cfn_yaml
from aiops_local.cloud import LocalCloud
from aiops_local.patches.events_pattern import flatten
from aiops_local.recorded import RecordedEvent, Recording, RecordingError, parse_time
from aiops_local.router import describe_event
from aiops_local.schedules import Schedule
from aiops_local.template import ACCOUNT, REGION, CloudTemplate

# How events are replayed.
REPLAYED = "replayed"
WITHOUT_CONTENT = "replayed without its content"
SKIPPED = "skipped"

# Why an event is skipped (each run makes its own, or it is not the policy's to decide).
SKIP_OWN_EVENT = "emitted by the control plane itself: each run emits its own"
SKIP_OWN_WRITE = "the control plane's own S3 write: each run writes its own"
SKIP_JOB_PROGRESS = (
    "progress of a job or deployment the control plane started: each run's simulated jobs "
    "report their own"
)
SKIP_APPROVAL = (
    "a decision on a recorded candidate (a person's in Studio, or the control plane's own): the "
    "replay's candidates are its own, and a person's decision is not the policy's"
)
SKIP_UNCONSUMED = "no rule of the template consumes it"

_JOB_PROGRESS = frozenset(
    {
        ("aws.sagemaker", "SageMaker Model Building Pipeline Execution Status Change"),
        ("aws.sagemaker", "SageMaker Endpoint State Change"),
        ("aws.sagemaker", "SageMaker Endpoint Deployment State Change"),
        ("aws.sagemaker", "SageMaker Inference Experiment State Change"),
        ("aws.bedrock", "Model Customization Job State Change"),
    }
)
_APPROVALS = frozenset({("aws.sagemaker", "SageMaker Model Package State Change")})
# Events whose decision rests on content the event does not carry.
_MISSING_MONITOR_REPORT = "its Model Monitor violations report (constraint_violations.json)"
_MISSING_LABELS = "the labeled records (JSONL) of the uploaded file"
_MISSING_LABELING_OUTPUT = "the labeling job and its output manifest"
_CONTENT_BOUND = {
    _MISSING_MONITOR_REPORT: (
        "drift decisions on Model Monitor executions are not the policies': both runs find no "
        "report (drift_report_invalid), so a change to drift checks, min_violations or cooldown "
        "shows no difference for them"
    ),
    _MISSING_LABELS: (
        "labeled uploads count no records in either run, so a change to labels.min_records or "
        "max_age shows no difference for them, and no fine-tune they would have started runs"
    ),
    _MISSING_LABELING_OUTPUT: (
        "Ground Truth jobs import no records in either run (the job is not in the replay's "
        "account), so no fine-tune they would have started runs"
    ),
}
# A training object is filler: nothing offline reads it; the window counts the event's size.
MAX_OBJECT_BYTES = 64 * 1024
# After the last event: the policies' longest duration (approval timeouts, max ages, pauses),
# within these bounds, so that what the last events started can end.
MIN_TAIL = timedelta(hours=1)
MAX_TAIL = timedelta(days=14)


class ReplayError(ValueError):
    """The replay cannot run as asked (a bad policy, a template without what it needs)."""


# ---------------------------------------------------------------------- planning
@dataclass(frozen=True)
class PlannedEvent:
    recorded: RecordedEvent
    event: dict[str, Any]  # as the replay's stack sees it (names rewritten)
    treatment: str  # REPLAYED | WITHOUT_CONTENT | SKIPPED
    why: str = ""  # skip reason, or the content that is missing
    training_object: tuple[str, str, int] | None = None  # bucket, key, size

    @property
    def epoch(self) -> float:
        return self.recorded.time.timestamp()

    @property
    def id(self) -> str:
        return str(self.event.get("id", ""))

    @property
    def is_replayed(self) -> bool:
        return self.treatment != SKIPPED


@dataclass
class ReplayPlan:
    template: Path
    stage: str
    events: list[PlannedEvent]
    recorded_in: dict[str, list[str]]  # accounts, regions the events came from
    notes: list[str] = field(default_factory=list)

    @property
    def replayed(self) -> list[PlannedEvent]:
        return [e for e in self.events if e.is_replayed]

    @property
    def without_content(self) -> list[PlannedEvent]:
        return [e for e in self.events if e.treatment == WITHOUT_CONTENT]

    @property
    def skipped(self) -> Counter[str]:
        return Counter(e.why for e in self.events if e.treatment == SKIPPED)

    @property
    def start(self) -> datetime:
        return self.events[0].recorded.time

    @property
    def end(self) -> datetime:
        return self.events[-1].recorded.time


@dataclass(frozen=True)
class _StackNames:
    """What the replay's stack calls its buckets, and the patterns its rules route with."""

    training_buckets: frozenset[str]
    labeled_buckets: frozenset[str]
    buckets: frozenset[str]
    patterns: tuple[EventPattern, ...]

    def consumes(self, event: dict[str, Any]) -> bool:
        flat = flatten(json.loads(json.dumps(event)))
        return any(p._does_event_match(flat, p.get_pattern()) for p in self.patterns)


def _stack_names(template: Path, stage: str | None) -> _StackNames:
    t = CloudTemplate(template, {"Stage": stage} if stage else None)
    buckets = {r.logical_id: str(t.ref(r.logical_id)) for r in t.of_type("AWS::S3::Bucket")}
    patterns = []
    for rule in t.of_type("AWS::Events::Rule"):
        pattern = t.properties(rule.logical_id).get("EventPattern")
        if pattern:
            patterns.append(
                EventPattern.load(pattern if isinstance(pattern, str) else json.dumps(pattern))
            )
    return _StackNames(
        training_buckets=frozenset(v for k, v in buckets.items() if k == "TrainingDataBucket"),
        labeled_buckets=frozenset(v for k, v in buckets.items() if k == "LabeledDataBucket"),
        buckets=frozenset(buckets.values()),
        patterns=tuple(patterns),
    )


def _stages(template: Path) -> tuple[str | None, list[str]]:
    """The template's default stage and the stages it allows."""
    definition = (load_cfn_yaml(template).get("Parameters") or {}).get("Stage")
    if not isinstance(definition, dict):
        return None, []
    allowed = [str(v) for v in definition.get("AllowedValues") or []]
    default = definition.get("Default")
    return (str(default) if default is not None else None), allowed


def _rewrite(node: Any, replacements: Sequence[tuple[str, str]]) -> Any:
    """Every string of `node` with the recorded account and region replaced by the replay's."""
    if isinstance(node, str):
        for old, new in replacements:
            node = node.replace(old, new)
        return node
    if isinstance(node, dict):
        return {k: _rewrite(v, replacements) for k, v in node.items()}
    if isinstance(node, list):
        return [_rewrite(v, replacements) for v in node]
    return node


def plan_replay(recording: Recording, template: Path) -> ReplayPlan:
    """How each recorded event is replayed on the template's stack (see the module's doc)."""
    accounts = Counter(
        str(e.event.get("account")) for e in recording.events if e.event.get("account")
    )
    regions = Counter(str(e.event.get("region")) for e in recording.events if e.event.get("region"))
    replacements = [(a, ACCOUNT) for a in accounts if a != ACCOUNT] + [
        (r, REGION) for r in regions if r != REGION
    ]
    events = [_rewrite(e.event, replacements) for e in recording.events]
    default_stage, allowed = _stages(template)
    stage, names = _detect_stage(events, template, default_stage, allowed)
    planned = [_plan_one(r, e, names) for r, e in zip(recording.events, events, strict=True)]
    plan = ReplayPlan(
        template=template,
        stage=stage or "",
        events=planned,
        recorded_in={"accounts": sorted(accounts), "regions": sorted(regions)},
    )
    alarms = sum(1 for e in planned if e.is_replayed and e.recorded.source == "aws.cloudwatch")
    if alarms:
        plan.notes.append(
            f"{alarms} alarm state change(s) replayed as events: the alarms themselves keep the "
            "replay's state (a deployment's bake in the replay does not see them)"
        )
    if replacements:
        plan.notes.append(
            f"recorded in account {', '.join(sorted(accounts))}, region "
            f"{', '.join(sorted(regions))}: replayed as account {ACCOUNT}, region {REGION}"
        )
    return plan


def _detect_stage(
    events: list[dict[str, Any]], template: Path, default: str | None, allowed: list[str]
) -> tuple[str | None, _StackNames]:
    """The stage whose bucket names the events use most (the template's default when none)."""
    mentioned = Counter(
        str((e.get("detail") or {}).get("bucket", {}).get("name"))
        for e in events
        if isinstance((e.get("detail") or {}).get("bucket"), dict)
    )
    best = (default, _stack_names(template, default))
    best_hits = sum(n for name, n in mentioned.items() if name in best[1].buckets)
    for stage in allowed:
        if stage == default or not mentioned:
            continue
        names = _stack_names(template, stage)
        hits = sum(n for name, n in mentioned.items() if name in names.buckets)
        if hits > best_hits:
            best, best_hits = (stage, names), hits
    return best


def _plan_one(recorded: RecordedEvent, event: dict[str, Any], names: _StackNames) -> PlannedEvent:
    source, detail_type = recorded.source, recorded.detail_type

    def skip(why: str) -> PlannedEvent:
        return PlannedEvent(recorded, event, SKIPPED, why)

    if source.startswith("aiops."):
        return skip(SKIP_OWN_EVENT)
    if (source, detail_type) in _JOB_PROGRESS:
        return skip(SKIP_JOB_PROGRESS)
    if (source, detail_type) in _APPROVALS:
        return skip(SKIP_APPROVAL)
    if source == "aws.s3":
        bucket, obj = _s3_object(recorded, event)
        key = str(obj.get("key", ""))
        if recorded.origin == "control_plane" or (
            bucket in names.buckets and key.startswith(CONTROL_PLANE_PREFIXES)
        ):
            return skip(SKIP_OWN_WRITE)
    if not names.consumes(event):
        return skip(SKIP_UNCONSUMED)
    if source == "aws.s3" and detail_type == "Object Created":
        bucket, obj = _s3_object(recorded, event)
        if bucket in names.labeled_buckets:
            return PlannedEvent(recorded, event, WITHOUT_CONTENT, _MISSING_LABELS)
        size = obj.get("size")
        if bucket in names.training_buckets and isinstance(obj.get("key"), str):
            filler = size if isinstance(size, int) and not isinstance(size, bool) else 0
            return PlannedEvent(
                recorded,
                event,
                REPLAYED,
                training_object=(bucket, str(obj["key"]), max(0, filler)),
            )
    if (source, detail_type) == ("aws.sagemaker", "SageMaker Processing Job State Change"):
        return PlannedEvent(recorded, event, WITHOUT_CONTENT, _MISSING_MONITOR_REPORT)
    if (source, detail_type) == (
        "aws.sagemaker",
        "SageMaker Ground Truth Labeling Job State Change",
    ):
        return PlannedEvent(recorded, event, WITHOUT_CONTENT, _MISSING_LABELING_OUTPUT)
    return PlannedEvent(recorded, event, REPLAYED)


def _s3_object(recorded: RecordedEvent, event: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """An S3 event's bucket name and object (`detail.bucket.name`, `detail.object`); a recorded
    event whose bucket or object is not a JSON object is refused with its place."""
    detail = event.get("detail") or {}
    bucket, obj = (detail.get(name) or {} for name in ("bucket", "object"))
    for name, value in (("bucket", bucket), ("object", obj)):
        if not isinstance(value, dict):
            raise RecordingError(
                recorded.path, recorded.line, f"detail.{name} must be a JSON object, not {value!r}"
            )
    return str(bucket.get("name", "")), obj


def content_limits(plan: ReplayPlan) -> list[str]:
    """How the events replayed without their content limit the comparison, one line each."""
    missing = Counter(e.why for e in plan.without_content)
    return [f"{n} event(s) without {what}: {_CONTENT_BOUND[what]}" for what, n in missing.items()]


# ---------------------------------------------------------------------- policies
@dataclass(frozen=True)
class PolicyChoice:
    path: Path
    # Where it came from: "given" (--policy / --against), "recorded" (exported with the events),
    # or "default" (the project's, the events' own being unknown).
    origin: str
    policy: Policy


def load_policy(path: Path, origin: str) -> PolicyChoice:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ReplayError(f"{path}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise ReplayError(f"{path}: not UTF-8 text") from None
    try:
        policy = parse_policy(text, str(path))
    except PolicyError as error:
        raise ReplayError(str(error)) from None
    return PolicyChoice(path, origin, policy)


def recorded_policy(paths: Iterable[Path]) -> Path | None:
    """The policy exported beside the events (`aiops events export` writes FILE.policy.yaml
    next to FILE when it can read the stack's policy), if any."""
    for path in paths:
        sidecar = path.with_name(path.name + ".policy.yaml")
        if sidecar.is_file():
            return sidecar
    return None


def _durations(node: Any) -> Iterable[timedelta]:
    """Every duration a policy names (walked as objects: dumped, durations become text)."""
    if isinstance(node, timedelta):
        yield node
    elif isinstance(node, BaseModel):
        for name in type(node).model_fields:
            yield from _durations(getattr(node, name))
    elif isinstance(node, dict):
        for value in node.values():
            yield from _durations(value)
    elif isinstance(node, list | tuple):
        for value in node:
            yield from _durations(value)


def tail_after(policies: Sequence[Policy]) -> timedelta:
    """How long each run goes on after the last event: the policies' longest duration."""
    longest = max((d for p in policies for d in _durations(p)), default=MIN_TAIL)
    return min(max(longest, MIN_TAIL), MAX_TAIL)


def sweep_delays(event: PlannedEvent, policies: Sequence[Policy]) -> set[float]:
    """After `event`, when may a sweep act on what it started: its window's max_age (the model
    whose data or labels prefix holds its key, in either policy), or a pause's pause_for (a cost
    signal). Seconds."""
    delays: set[float] = set()
    source = event.recorded.source
    if source == "aws.s3":
        key = str(_s3_object(event.recorded, event.event)[1].get("key", ""))
        for policy in policies:
            data = policy.sagemaker_model_for_key(key)
            if data is not None:
                delays.add(data[1].data.window.max_age.total_seconds())
            labels = policy.bedrock_model_for_key(key)
            if labels is not None:
                delays.add(labels[1].labels.max_age.total_seconds())
    elif source in ("aws.ce", "aws.cloudwatch"):
        for policy in policies:
            for model in policy.models.values():
                if model.budget.pause_for is not None:
                    delays.add(model.budget.pause_for.total_seconds())
    return delays


# ---------------------------------------------------------------------- running
@dataclass(frozen=True)
class Decision:
    model: str
    time: str  # ISO 8601, UTC, to the second
    action: str
    reason: str
    kind: str  # "ledger" | "outcome" (the handler's answer to a recorded event)
    event_id: str | None = None  # the recorded event it answers, or its cause names
    order: int = 0  # position in the run's timeline
    without_content: bool = False

    def document(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "model": self.model,
            "time": self.time,
            "action": self.action,
            "reason": self.reason,
            "kind": self.kind,
        }
        if self.event_id:
            document["event"] = self.event_id
        if self.without_content:
            document["without_content"] = True
        return document


@dataclass
class PolicyRun:
    policy: Path
    decisions: list[Decision]
    warnings: list[str] = field(default_factory=list)
    errors: int = 0  # timeline errors (a handler failing on a content-less event, ...)
    cpu_s: float = 0.0  # CPU time of the run (its process, every thread)

    @property
    def ledger_decisions(self) -> list[Decision]:
        return [d for d in self.decisions if d.kind == "ledger"]


def _second(value: Any) -> str:
    when = parse_time(value)
    return utc(when) if when else str(value)


def _grid_after(start: float, period: float, at: float) -> float:
    """The first tick of a schedule started at `start` with `period`, at or after `at`."""
    return start + period * max(1, math.ceil((at - start) / period))


def run_policy(
    plan: ReplayPlan,
    policy: Path,
    policies: Sequence[Policy] | None = None,
    stuck_after_s: float = 120.0,
) -> PolicyRun:
    """Replay the plan's events on a fresh offline cloud with `policy`; its decisions. `policies`
    (both of a comparison; default: `policy`'s own) decide when sweeps tick and how long the run
    goes on, so that the runs of a comparison tick alike."""
    if policies is None:
        policies = [load_policy(policy, "given").policy]
    replayed = plan.replayed
    if not replayed:
        return PolicyRun(policy, [])
    parameters = {"Stage": plan.stage} if plan.stage else None
    start = plan.start
    cpu = time.process_time()
    answers: dict[str, Any] = {}
    content_less = {e.id for e in plan.without_content}
    with LocalCloud(
        plan.template,
        policy=policy,
        parameters=parameters,
        start=start,
        stuck_after_s=stuck_after_s,
    ) as cloud:

        def remember(invocation: Any) -> None:
            answers[invocation.result.request_id] = (
                invocation.result.payload if invocation.result.ok else invocation.result
            )

        cloud.invoker.observers.append(remember)
        origin = cloud.clock.time()
        end = replayed[-1].epoch + tail_after(policies).total_seconds()
        # The runtime fires every schedule whenever time moves; the replay fires them itself, on
        # their own grid, at the ticks where the sweeps can act (see the module's doc).
        schedules = list(cloud.schedules.items)
        cloud.schedules.items.clear()
        due: dict[float, list[Schedule]] = {}
        for event in replayed:
            for delay in sweep_delays(event, policies):
                for schedule in schedules:
                    at = _grid_after(origin, schedule.period_s, event.epoch + delay)
                    if at <= end and schedule not in due.setdefault(at, []):
                        due[at].append(schedule)
        ticks = sorted(due)
        index = 0
        attributed: list[tuple[PlannedEvent, int]] = []
        for event in replayed:
            while index < len(ticks) and ticks[index] < event.epoch:
                _tick(cloud, ticks[index], due[ticks[index]])
                index += 1
            _advance_to(cloud, event.epoch)
            if event.training_object is not None:
                _put_quietly(cloud, *event.training_object)
            mark = len(cloud.timeline)
            cloud.send_event(event.event)
            cloud.advance(0.0)
            attributed.append((event, mark))
        for at in ticks[index:]:
            _tick(cloud, at, due[at])
        _advance_to(cloud, end)
        entries = cloud.timeline.entries()
        warnings = list(cloud.warnings)
    decisions = _ledger_decisions(entries, content_less)
    decisions += _outcomes(entries, attributed, answers, decisions, content_less)
    decisions.sort(key=lambda d: (d.time, d.order))
    errors = sum(1 for e in entries if e["kind"] == "error")
    return PolicyRun(policy, decisions, warnings, errors, round(time.process_time() - cpu, 2))


def run_policies(
    plan: ReplayPlan, choices: Sequence[PolicyChoice], workers: int = 1
) -> list[PolicyRun]:
    """One run per policy, each on a fresh cloud, ticking alike. With `workers` > 1 the runs go
    in processes of their own at once (moto is global to a process: one cloud per process)."""
    policies = [c.policy for c in choices]
    if workers <= 1 or len(choices) <= 1:
        return [run_policy(plan, c.path, policies) for c in choices]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(choices)), mp_context=context) as pool:
        futures = [pool.submit(run_policy, plan, c.path, policies) for c in choices]
        return [f.result() for f in futures]


def _tick(cloud: LocalCloud, at: float, schedules: list[Schedule]) -> None:
    _advance_to(cloud, at)
    for schedule in schedules:
        schedule.fire()
    cloud.advance(0.0)


def _advance_to(cloud: LocalCloud, epoch: float) -> None:
    if epoch > cloud.clock.time():
        cloud.advance(epoch - cloud.clock.time())


def _put_quietly(cloud: LocalCloud, bucket: str, key: str, size: int) -> None:
    """The recorded upload's object, without the S3 event of the put: the recorded event
    itself follows (its own id, version and etag: a delivery EventBridge repeated stays a
    duplicate)."""
    if cloud.events:
        raise RuntimeError("replay: the bus is not empty before a recorded upload")
    cloud.put_object(bucket, key, size=min(size, MAX_OBJECT_BYTES))
    queued = cloud.events.take()
    if queued is None or queued.event.get("source") != "aws.s3":
        raise RuntimeError(f"replay: the put of s3://{bucket}/{key} queued no S3 event")


def _ledger_decisions(entries: list[dict[str, Any]], content_less: set[str]) -> list[Decision]:
    decisions = []
    for entry in entries:
        if entry["kind"] != "decision":
            continue
        item = entry.get("item")
        cause = item.get("cause") if isinstance(item, dict) else None
        event_id = cause.get("event_id") if isinstance(cause, dict) else None
        event_id = event_id if isinstance(event_id, str) else None
        decisions.append(
            Decision(
                model=str(entry.get("model") or ""),
                time=_second(entry["time"]),
                action=str(entry.get("action")),
                reason=str(entry.get("reason") or ""),
                kind="ledger",
                event_id=event_id,
                order=int(entry["seq"]),
                without_content=event_id in content_less,
            )
        )
    return decisions


def _outcomes(
    entries: list[dict[str, Any]],
    attributed: list[tuple[PlannedEvent, int]],
    answers: dict[str, Any],
    ledger: list[Decision],
    content_less: set[str],
) -> list[Decision]:
    """The handlers' answers to each recorded event (the event's entry, then the rule deliveries
    up to the next event), where the ledger holds no decision of that model caused by it."""
    written = {(d.model, d.event_id) for d in ledger if d.event_id}
    outcomes: list[Decision] = []
    for event, mark in attributed:
        position = next(
            (
                i
                for i in range(mark, len(entries))
                if entries[i]["kind"] == "event" and entries[i].get("id") == event.id
            ),
            None,
        )
        if position is None:
            continue
        for entry in itertools.takewhile(
            lambda e: e["kind"] != "event", itertools.islice(entries, position + 1, None)
        ):
            if entry["kind"] != "invoke" or not str(entry.get("via", "")).startswith("rule "):
                continue
            answer = answers.get(str(entry.get("request_id")))
            outcome = _answer(answer, entry)
            if outcome is None:
                continue
            model, action, reason = outcome
            if (model, event.id) in written:
                continue
            when = _second(entry["time"])
            outcomes.append(
                Decision(
                    model=model,
                    time=when,
                    action=action,
                    reason=reason,
                    kind="outcome",
                    event_id=event.id,
                    order=int(entry["seq"]),
                    without_content=event.id in content_less,
                )
            )
    return outcomes


def _answer(answer: Any, entry: dict[str, Any]) -> tuple[str, str, str] | None:
    if isinstance(answer, dict) and "action" in answer and "reason" in answer:
        models = answer.get("models")
        model = answer.get("model") or (models[0] if isinstance(models, list) and models else "")
        return str(model or ""), str(answer["action"]), str(answer["reason"])
    if entry.get("status") == "error":
        return "", "failed", f"{entry.get('function')}: {entry.get('error')}"
    return None


# ---------------------------------------------------------------------- comparing
@dataclass(frozen=True)
class Difference:
    model: str
    time: str
    old: Decision | None
    new: Decision | None

    @property
    def without_content(self) -> bool:
        return any(d is not None and d.without_content for d in (self.old, self.new))

    @property
    def reason(self) -> str:
        old, new = self.old, self.new
        if old is not None and new is not None and old.reason != new.reason:
            return f"{old.reason} → {new.reason}"
        return (old or new).reason if (old or new) is not None else ""  # type: ignore[union-attr]

    def document(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "time": self.time,
            "old": self.old.document() if self.old else None,
            "new": self.new.document() if self.new else None,
            "without_content": self.without_content,
        }


def _key(decision: Decision) -> tuple[str, str, str, str]:
    return (decision.model, decision.time, decision.action, decision.reason)


def _unmatched(side: list[Decision], common: Counter[tuple[str, str, str, str]]) -> list[Decision]:
    left = Counter(common)
    rest = []
    for decision in side:
        key = _key(decision)
        if left[key] > 0:
            left[key] -= 1
        else:
            rest.append(decision)
    return rest


def compare(old: Sequence[Decision], new: Sequence[Decision]) -> list[Difference]:
    """The decisions that differ between two runs, paired (see the module's doc)."""
    common = Counter(_key(d) for d in old) & Counter(_key(d) for d in new)
    old_rest, new_rest = _unmatched(list(old), common), _unmatched(list(new), common)
    groups: dict[tuple[str, str], tuple[list[Decision], list[Decision]]] = {}
    for decision in old_rest:
        groups.setdefault((decision.time, decision.model), ([], []))[0].append(decision)
    for decision in new_rest:
        groups.setdefault((decision.time, decision.model), ([], []))[1].append(decision)
    differences: list[Difference] = []
    for (moment, model), (olds, news) in sorted(groups.items()):
        olds = sorted(olds, key=lambda d: d.order)
        news = sorted(news, key=lambda d: d.order)
        # One change: the same action with another reason, or two answers to the same recorded
        # event. Anything else stands alone: unrelated decisions at one moment are no pair.
        for same in (_same_action, _same_event):
            for decision in list(olds):
                twin = next((n for n in news if same(decision, n)), None)
                if twin is not None:
                    differences.append(Difference(model, moment, decision, twin))
                    olds.remove(decision)
                    news.remove(twin)
        differences += [Difference(model, moment, o, None) for o in olds]
        differences += [Difference(model, moment, None, n) for n in news]
    differences.sort(key=lambda d: (d.time, d.model, _first_order(d)))
    return differences


def _same_action(old: Decision, new: Decision) -> bool:
    return old.action == new.action


def _same_event(old: Decision, new: Decision) -> bool:
    return old.event_id is not None and old.event_id == new.event_id


def _first_order(difference: Difference) -> int:
    return min(d.order for d in (difference.old, difference.new) if d is not None)


# ---------------------------------------------------------------------- reporting
def describe(event: PlannedEvent) -> str:
    return f"{event.recorded.time:%Y-%m-%dT%H:%M:%SZ} {describe_event(event.event)}"


def utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
