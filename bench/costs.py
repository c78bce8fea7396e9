"""What a million events cost on AWS, measured through the offline runtime.

Three paths run on LocalCloud (the real template, handlers and state machines on moto):

- a below-threshold training-data upload (S3 → EventBridge → NewDataFunction → DynamoDB);
- a below-threshold labeled-data upload: a small valid JSONL file (LabeledDataFunction);
- one retrain run end to end: the upload that fills churn's window (close, start), the retrain
  workflow, the pipeline's completion event, the gate and the approval it opens.

The runtime's timeline keeps only the service and operation of each AWS call, so this module
observes the calls itself, with their parameters, and prices them:

- DynamoDB request units, from the items' sizes as DynamoDB sizes them (`item_size`): a write is
  1 WRU per KB of the item (the larger of before and after), per item; a transaction 2; a
  conditional write that fails still consumes the existing item's size (at least 1 unit). Reads
  are 1 RRU per 4 KB strongly consistent, 0.5 eventually, 2 transactional; a Query pays for every
  item it reads before its filter.
- Lambda: invocations, and GB-seconds from each function's MemorySize in the template and a
  duration estimated per invocation (see `billed_ms`), plus INIT for an assumed share of cold
  starts (billed since 2025-08-01).
- Step Functions standard state transitions (states entered, from the executions' histories),
  SNS publishes, S3 request tiers, EventBridge events by kind.

Two more measurements: window sweeps with closed windows behind them (every sweep asks for
unstarted windows; the first one after the history reads it all, the next ones only what is past
the started watermark), and the write units of a below-threshold upload item by item, with what
each buys and what each cheaper design gives up (`write_unit_analysis`).

Prices are named constants below with the page and the date they were read; the free tiers are
left out (a bill at scale is past them). `table()` prints the figures; `run()` returns them.
"""

from __future__ import annotations

import math
import re
import statistics
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench import ROOT, policy_with_window

# ------------------------------------------------------------------ prices (us-east-1, on-demand)
# Checked on PRICES_READ_ON through the search tool: the AWS page named with each constant (its
# stored copy), or, where the stored excerpt stopped before the rate, restatements of it that
# agree (said so beside the constant).
PRICES_READ_ON = "2026-11-30"
PRICE_REGION = "us-east-1"
# https://aws.amazon.com/dynamodb/pricing/on-demand/ (units as defined there; the rates since
# the 2024-11-01 price cut, as restated by third parties)
DYNAMODB_USD_PER_MILLION_WRU = 0.625
DYNAMODB_USD_PER_MILLION_RRU = 0.125
# https://aws.amazon.com/lambda/pricing/ (Arm, first 7.5 billion GB-s a month; x86 beside it;
# restated rates)
LAMBDA_USD_PER_MILLION_REQUESTS = 0.20
LAMBDA_USD_PER_GB_SECOND = {"arm64": 0.0000133334, "x86_64": 0.0000166667}
# https://aws.amazon.com/step-functions/pricing/ (standard workflows; restated rate)
SFN_USD_PER_THOUSAND_TRANSITIONS = 0.025
# https://aws.amazon.com/sns/pricing/ (standard topics, per 64 KB publish; deliveries apart;
# restated rate)
SNS_USD_PER_MILLION_PUBLISHES = 0.50
# https://aws.amazon.com/s3/pricing/ (S3 Standard: PUT, COPY, POST, LIST / GET and the rest;
# restated rates)
S3_USD_PER_THOUSAND_PUT_TIER = 0.005
S3_USD_PER_THOUSAND_GET_TIER = 0.0004
# https://aws.amazon.com/eventbridge/pricing/: AWS management events are free; custom events
# $1.00 a million. S3's Object Created events are "AWS opt-in data events" there, a category of
# their own whose rate the stored excerpt did not show: the custom-event rate is assumed. Verify
# it on the page: it is the second line of an upload's bill, after DynamoDB.
EVENTBRIDGE_USD_PER_MILLION_CUSTOM = 1.00
EVENTBRIDGE_USD_PER_MILLION_OPT_IN_DATA = 1.00
# Observability, beside the core bill: https://aws.amazon.com/cloudwatch/pricing/ (logs
# ingested: standard class, and Lambda's vended-logs first tier) and
# https://aws.amazon.com/xray/pricing/ (traces recorded: the page's own rate).
CLOUDWATCH_LOGS_USD_PER_GB = 0.50
XRAY_USD_PER_MILLION_TRACES = 5.00

# ------------------------------------------------------------------ assumptions (named, stated)
# Lambda gives a function CPU in proportion to its memory: one vCPU at 1,769 MB (Lambda docs,
# "Configuring function memory"). The handler's own time offline (wall time minus the time
# inside AWS calls) is scaled by that share; each AWS call is then priced at a round trip.
FULL_VCPU_MB = 1769
AWS_CALL_MS = 10.0
# AWS: "INITs (cold starts) typically occur in under 1% of invocations"
# (https://aws.amazon.com/blogs/compute/aws-lambda-standardizes-billing-for-init-phase/);
# a cold start's INIT is taken as 1 s at 512 MB (~0.3 s of imports here, at 512/1769 of a vCPU).
COLD_START_SHARE = 0.01
INIT_SECONDS = 1.0
# Lambda's own platform lines per invocation in JSON log format (start, runtimeDone, report).
PLATFORM_LOG_BYTES = 600
# A standard workflow with logging at ALL and no execution data: one log event per history event.
SFN_LOG_BYTES_PER_EVENT = 300
# X-Ray's default sampling rule keeps the first request each second and 5% of the rest: a
# million events a month is 0.39 a second, so nearly every one is traced.
XRAY_TRACED_SHARE = 1.0
# The window sweeps run on schedules (template: rate(5 minutes)): a fixed monthly cost.
SWEEPS_PER_MONTH = 30 * 24 * 12

# ------------------------------------------------------------------ what is measured
WARMUP_UPLOADS = 3
TRAINING_UPLOADS = 40
LABELED_UPLOADS = 10
LABELED_RECORDS = 20
OBJECT_SIZE = 1024
# churn's window, large enough that the measured uploads stay under it.
ROOMY_WINDOW = {"objects": 2000, "bytes": "5GB", "max_age": "7d"}
DEFAULT_WINDOW_OBJECTS = 5  # policies/default.yaml: churn's window
ISSUE_WRU_PER_UPLOAD = 6
ISSUE_USD_PER_MILLION_UPLOADS = 3.75
SCHEDULED = ("WindowSweepFunction", "LabelsSweepFunction", "ControlPlaneWatchFunction")
HISTORY_WINDOWS = 10
HISTORY_OBJECTS = 100

KB = 1024
WRITE_UNIT_BYTES = KB
READ_UNIT_BYTES = 4 * KB


# ------------------------------------------------------------------ DynamoDB item sizes
_TYPES = frozenset({"S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"})


def _utf8(text: str) -> int:
    return len(text.encode("utf-8"))


def number_size(text: str) -> int:
    """Bytes of a DynamoDB number: 1 per two significant digits, plus 1 (leading and trailing
    zeroes are trimmed)."""
    digits = re.sub(r"[^0-9]", "", text.lower().split("e")[0]).strip("0") or "0"
    return math.ceil(len(digits) / 2) + 1


def _is_typed(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in _TYPES


def value_size(value: Any) -> int:
    """Bytes of one attribute value (DynamoDB JSON, or a plain value boto3 would serialise)."""
    if not _is_typed(value):
        from boto3.dynamodb.types import TypeSerializer

        plain = Decimal(str(value)) if isinstance(value, float) else value
        return value_size(TypeSerializer().serialize(plain))
    kind, inner = next(iter(value.items()))
    if kind == "S":
        return _utf8(inner)
    if kind == "N":
        return number_size(str(inner))
    if kind == "B":
        return len(inner) if isinstance(inner, bytes | bytearray) else _utf8(str(inner))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(_utf8(s) for s in inner)
    if kind == "NS":
        return sum(number_size(str(n)) for n in inner)
    if kind == "BS":
        return sum(len(b) for b in inner)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in inner)
    # A map: each element is its name and its value, plus a byte.
    return 3 + sum(1 + _utf8(k) + value_size(v) for k, v in inner.items())


def item_size(item: dict[str, Any] | None) -> int:
    """An item's size as DynamoDB bills it: the UTF-8 lengths of its attribute names plus
    their values' sizes (DynamoDB Developer Guide, "DynamoDB item sizes and formats")."""
    return sum(_utf8(name) + value_size(value) for name, value in (item or {}).items())


def write_units(size: int, transactional: bool = False) -> int:
    """WRU of writing one item of `size` bytes: 1 per KB, rounded up, at least 1; doubled in a
    transaction."""
    units = max(1, math.ceil(size / WRITE_UNIT_BYTES))
    return units * (2 if transactional else 1)


def read_units(size: int, mode: str = "strong") -> float:
    """RRU of reading `size` bytes in one request (an item, or a Query's items summed): 1 per
    4 KB rounded up, at least one 4 KB; 0.5 for eventually consistent, 2 for transactional."""
    blocks = max(1, math.ceil(size / READ_UNIT_BYTES))
    return blocks * {"eventual": 0.5, "strong": 1.0, "transactional": 2.0}[mode]


# ------------------------------------------------------------------ observing the cloud
@dataclass
class ObservedCall:
    actor: str
    kind: str  # function | state_machine
    service: str
    operation: str
    error: str | None
    started: float
    seconds: float  # the call, and the metering around it: not the handler's own time
    write_units: float = 0.0
    read_units: float = 0.0
    items: list[tuple[str, int]] = field(default_factory=list)  # (what, bytes) written
    count: int = 1  # events in a PutEvents, publishes in a PublishBatch


@dataclass
class Invocation:
    function: str
    memory_mb: int
    started: float
    ended: float
    log_bytes: int
    ok: bool


class Meter:
    """Every AWS call a function or state machine makes, with DynamoDB units, and every Lambda
    invocation with its wall time. Only for use inside a started LocalCloud, and left before
    the cloud stops (its patch sits on top of the runtime's)."""

    def __init__(self, cloud: Any) -> None:
        from aiops_local.patches.base import Patcher

        self.cloud = cloud
        self.calls: list[ObservedCall] = []
        self.invocations: list[Invocation] = []
        self._lock = threading.Lock()
        self._patcher = Patcher()
        self._key_names: dict[str, list[str]] = {}

    def __enter__(self) -> Meter:
        from aiops_local.patches import botocore_calls

        botocore_calls.install(self._patcher, self._observe)
        original = self.cloud.invoker.invoke

        def invoke(binding: Any, event: Any, via: str) -> Any:
            started = time.perf_counter()
            result = original(binding, event, via)
            ended = time.perf_counter()
            with self._lock:
                self.invocations.append(
                    Invocation(
                        binding.logical_id,
                        binding.memory_mb,
                        started,
                        ended,
                        len((result.logs or "").encode("utf-8")),
                        result.ok,
                    )
                )
            return result

        self._patcher.replace(self.cloud.invoker, "invoke", invoke)
        return self

    def __exit__(self, *exc: object) -> None:
        self._patcher.restore()

    def mark(self) -> tuple[int, int, int]:
        """Where the calls, invocations and timeline are now: a phase starts here."""
        with self._lock:
            return len(self.calls), len(self.invocations), len(self.cloud.timeline)

    # -------------------------------------------------------------- observing one call
    def _observe(self, call: Any) -> Callable[[Any], None] | None:
        actor = call.actor
        if actor is None:
            return None  # the runtime itself, simulators, and this meter's own reads
        started = time.perf_counter()
        before = self._before(call) if call.service == "dynamodb" else None

        def finished(outcome: Any) -> None:
            observed = ObservedCall(
                actor.name, actor.kind, call.service, call.operation, outcome.error, started, 0.0
            )
            if call.service == "dynamodb":
                self._price_dynamodb(observed, call.params, outcome, before)
            elif call.operation == "PutEvents":
                observed.count = len(call.params.get("Entries", []))
            elif call.operation == "PublishBatch":
                observed.count = len(call.params.get("PublishBatchRequestEntries", []))
            observed.seconds = time.perf_counter() - started
            with self._lock:
                self.calls.append(observed)

        return finished

    # -------------------------------------------------------------- DynamoDB
    def _client(self) -> Any:
        return self.cloud.client("dynamodb")

    def _keys_of(self, table: str) -> list[str]:
        from aiops_local.actors import acting_as

        if table not in self._key_names:
            with acting_as(None):
                schema = self._client().describe_table(TableName=table)["Table"]["KeySchema"]
            self._key_names[table] = [k["AttributeName"] for k in schema]
        return self._key_names[table]

    def _key(self, table: str, item: dict[str, Any]) -> dict[str, Any]:
        return {name: item[name] for name in self._keys_of(table)}

    def _peek(self, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        """The item as it is now (a strongly consistent read the timeline does not see)."""
        from aiops_local.actors import acting_as

        with acting_as(None):
            item = self._client().get_item(TableName=table, Key=key, ConsistentRead=True)
        found: dict[str, Any] | None = item.get("Item")
        return found

    def _targets(self, operation: str, params: dict[str, Any]) -> list[tuple[str, str, Any]]:
        """(table, action, request) of each item a write names."""
        if operation in ("PutItem", "UpdateItem", "DeleteItem"):
            return [(params["TableName"], operation, params)]
        if operation == "BatchWriteItem":
            return [
                (table, next(iter(r)), next(iter(r.values())))
                for table, requests in params.get("RequestItems", {}).items()
                for r in requests
            ]
        if operation == "TransactWriteItems":
            return [
                (next(iter(t.values()))["TableName"], next(iter(t)), next(iter(t.values())))
                for t in params.get("TransactItems", [])
            ]
        return []

    def _request_key(self, table: str, request: dict[str, Any]) -> dict[str, Any]:
        return request["Key"] if "Key" in request else self._key(table, request["Item"])

    def _before(self, call: Any) -> list[dict[str, Any] | None]:
        return [
            self._peek(table, self._request_key(table, request))
            for table, _, request in self._targets(call.operation, call.params)
        ]

    def _price_dynamodb(
        self,
        observed: ObservedCall,
        params: dict[str, Any],
        outcome: Any,
        before: list[dict[str, Any] | None] | None,
    ) -> None:
        operation = observed.operation
        targets = self._targets(operation, params)
        if targets:
            transactional = operation == "TransactWriteItems"
            for (table, action, request), old in zip(targets, before or [], strict=False):
                old_size = item_size(old)
                if outcome.error is not None:
                    # A failed condition consumes the existing item's size, at least one unit;
                    # a cancelled transaction is taken to consume the same, doubled.
                    units = write_units(old_size, transactional)
                    new_size = old_size
                elif action in ("Put", "PutItem", "PutRequest"):
                    new_size = item_size(request["Item"])
                    units = write_units(max(old_size, new_size), transactional)
                elif action in ("Update", "UpdateItem"):
                    new_size = item_size(self._peek(table, self._request_key(table, request)))
                    units = write_units(max(old_size, new_size), transactional)
                else:  # Delete, DeleteRequest, ConditionCheck: the item as it was
                    new_size = old_size
                    units = write_units(old_size, transactional)
                observed.write_units += units
                observed.items.append((_item_label(request), new_size))
            return
        if outcome.error is not None:
            return
        result = outcome.result or {}
        if operation == "GetItem":
            item = result.get("Item")
            if "ProjectionExpression" in params:
                item = self._peek(params["TableName"], params["Key"])
            mode = "strong" if params.get("ConsistentRead") else "eventual"
            observed.read_units = read_units(item_size(item), mode)
        elif operation in ("Query", "Scan"):
            mode = "strong" if params.get("ConsistentRead") else "eventual"
            items = self._evaluated(operation, params, result)
            observed.read_units = read_units(sum(item_size(i) for i in items), mode)
        elif operation == "BatchGetItem":
            for table, request in params.get("RequestItems", {}).items():
                mode = "strong" if request.get("ConsistentRead") else "eventual"
                for key in request.get("Keys", []):
                    observed.read_units += read_units(item_size(self._peek(table, key)), mode)
        elif operation == "TransactGetItems":
            for entry in params.get("TransactItems", []):
                get = entry["Get"]
                size = item_size(self._peek(get["TableName"], get["Key"]))
                observed.read_units += read_units(size, "transactional")

    def _evaluated(
        self, operation: str, params: dict[str, Any], result: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """The items a Query or Scan read: its filter and projection change what it returns,
        not what it reads, so they are read again without them."""
        if not ({"FilterExpression", "ProjectionExpression", "Select"} & set(params)):
            items: list[dict[str, Any]] = result.get("Items", [])
            return items
        from aiops_local.actors import acting_as

        plain = {
            k: v
            for k, v in params.items()
            if k not in ("FilterExpression", "ProjectionExpression", "Select")
        }
        used = str(plain.get("KeyConditionExpression", ""))
        for placeholder_map in ("ExpressionAttributeNames", "ExpressionAttributeValues"):
            if placeholder_map in plain:
                kept = {
                    k: v
                    for k, v in plain[placeholder_map].items()
                    if re.search(re.escape(k) + r"(?![A-Za-z0-9_])", used)
                }
                if kept:
                    plain[placeholder_map] = kept
                else:
                    del plain[placeholder_map]
        with acting_as(None):
            response = getattr(self._client(), _snake(operation))(**plain)
        read: list[dict[str, Any]] = response.get("Items", [])
        return read


def _snake(operation: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()


def _item_label(request: dict[str, Any]) -> str:
    """A short name for the item a request writes: its sort key's family, or its partition's."""
    attrs = request.get("Item") or request.get("Key") or {}
    values = [v.get("S", "") if isinstance(v, dict) else str(v) for v in attrs.values()][:2]
    pk = values[0] if values else ""
    sk = values[1] if len(values) > 1 else ""
    # The control table's per-model items are told apart by their sort key, the others by
    # their partition key (SEEN#model#object, PENDING#model).
    family = sk.split("#")[0] if pk.startswith("MODEL#") else pk.split("#")[0]
    return family or "?"


# ------------------------------------------------------------------ Lambda durations
def billed_ms(own_seconds: float, memory_mb: int, aws_calls: int) -> int:
    """A warm invocation's billed duration: the handler's own time offline, scaled to the CPU
    share Lambda gives `memory_mb`, plus one round trip per AWS call, rounded up to 1 ms."""
    cpu_scale = max(1.0, FULL_VCPU_MB / memory_mb)
    return math.ceil(own_seconds * 1000 * cpu_scale + aws_calls * AWS_CALL_MS)


def _own_seconds(invocation: Invocation, calls: list[ObservedCall]) -> tuple[float, int]:
    """The handler's own time (wall minus its AWS calls and their metering) and its calls."""
    mine = [
        c
        for c in calls
        if c.kind == "function"
        and c.actor == invocation.function
        and invocation.started <= c.started <= invocation.ended
    ]
    inside = sum(c.seconds for c in mine)
    return max(0.0, invocation.ended - invocation.started - inside), len(mine)


# ------------------------------------------------------------------ one measured phase
@dataclass
class Phase:
    calls: list[ObservedCall]
    invocations: list[Invocation]
    timeline: list[dict[str, Any]]
    transitions: int
    history_events: int


def _phase(cloud: Any, meter: Meter, start: tuple[int, int, int]) -> Phase:
    calls_at, invocations_at, timeline_at = start
    timeline = cloud.timeline.entries(timeline_at)
    started = {
        e["execution"]
        for e in timeline
        if e["kind"] == "execution" and e.get("status") == "RUNNING" and not e.get("state")
    }
    sfn = cloud.client("stepfunctions")
    transitions = history_events = 0
    for execution in cloud.executions():
        if execution.name not in started:
            continue
        for page in sfn.get_paginator("get_execution_history").paginate(executionArn=execution.arn):
            types = [e["type"] for e in page["events"]]
            history_events += len(types)
            transitions += sum(1 for t in types if t.endswith("StateEntered"))
    failed = [e for e in timeline if e["kind"] in ("error", "dlq") or e.get("status") == "error"]
    if failed:
        # A failed path is not a path's cost: say what failed instead of pricing it.
        raise RuntimeError(f"the measured path failed: {failed[0]['text']}")
    return Phase(
        meter.calls[calls_at:],
        meter.invocations[invocations_at:],
        timeline,
        transitions,
        history_events,
    )


def _architectures(cloud: Any) -> dict[str, str]:
    """Each function's architecture as the template sets it (Globals merged by SAM)."""
    result = {}
    for resource in cloud.template.of_type("AWS::Lambda::Function"):
        archs = cloud.template.properties(resource.logical_id).get("Architectures") or ["x86_64"]
        result[resource.logical_id] = str(archs[0])
    return result


def _summarise(phase: Phase, per: int, architectures: dict[str, str]) -> dict[str, Any]:
    """What a phase used, divided by `per` (the events it stands for)."""
    functions: dict[str, dict[str, Any]] = {}
    by_function: dict[str, list[Invocation]] = defaultdict(list)
    for invocation in phase.invocations:
        by_function[invocation.function].append(invocation)
    gb_seconds = init_gb_seconds = log_bytes = 0.0
    usd_duration = 0.0
    for name, invocations in sorted(by_function.items()):
        owns = [_own_seconds(i, phase.calls) for i in invocations]
        memory = invocations[0].memory_mb
        billed = [billed_ms(own, memory, calls) for own, calls in owns]
        fn_gb_s = sum(b / 1000 * memory / 1024 for b in billed)
        fn_init = len(invocations) * COLD_START_SHARE * INIT_SECONDS * memory / 1024
        rate = LAMBDA_USD_PER_GB_SECOND.get(architectures.get(name, "x86_64"), 0.0)
        gb_seconds += fn_gb_s
        init_gb_seconds += fn_init
        usd_duration += (fn_gb_s + fn_init) * rate
        log_bytes += sum(i.log_bytes + PLATFORM_LOG_BYTES for i in invocations)
        functions[name] = {
            "invocations": round(len(invocations) / per, 4),
            "memory_mb": memory,
            "architecture": architectures.get(name, "x86_64"),
            "own_ms_offline_median": round(statistics.median(o for o, _ in owns) * 1000, 2),
            "aws_calls_per_invocation": round(statistics.mean(c for _, c in owns), 2),
            "billed_ms_median": statistics.median(billed),
            "gb_seconds": round(fn_gb_s / per, 6),
            "failed": sum(1 for i in invocations if not i.ok),
        }
    dynamo = [c for c in phase.calls if c.service == "dynamodb"]
    operations: Counter[str] = Counter()
    wru_by_operation: defaultdict[str, float] = defaultdict(float)
    for c in dynamo:
        name = f"{c.operation}" + (f" ({c.error})" if c.error else "")
        operations[name] += 1
        wru_by_operation[name] += c.write_units
    s3_put = sum(
        1
        for c in phase.calls
        if c.service == "s3" and c.operation.startswith(("Put", "Copy", "List", "Post", "Create"))
    )
    s3_get = sum(1 for c in phase.calls if c.service == "s3") - s3_put
    events = [e for e in phase.timeline if e["kind"] == "event"]
    sources = Counter(str(e.get("source")) for e in events)
    opt_in = sources.get("aws.s3", 0)
    scheduler = sources.get("aws.scheduler", 0)
    management = sum(n for s, n in sources.items() if s.startswith("aws.")) - opt_in - scheduler
    custom = sum(c.count for c in phase.calls if c.operation == "PutEvents" and not c.error)
    publishes = sum(
        c.count
        for c in phase.calls
        if c.service == "sns" and c.operation in ("Publish", "PublishBatch") and not c.error
    )
    invoked = len(phase.invocations)
    counts = {
        "dynamodb_write_units": sum(c.write_units for c in dynamo) / per,
        "dynamodb_read_units": sum(c.read_units for c in dynamo) / per,
        "lambda_invocations": invoked / per,
        "lambda_gb_seconds": gb_seconds / per,
        "lambda_init_gb_seconds": init_gb_seconds / per,
        "sfn_transitions": phase.transitions / per,
        "sns_publishes": publishes / per,
        "s3_put_tier_requests": s3_put / per,
        "s3_get_tier_requests": s3_get / per,
        "eventbridge_opt_in_data_events": opt_in / per,
        "eventbridge_custom_events": custom / per,
        "eventbridge_management_events_free": management / per,
        "scheduler_invocations": scheduler / per,
        "log_bytes": (log_bytes + phase.history_events * SFN_LOG_BYTES_PER_EVENT) / per,
        # One trace per event that starts work; a state machine's tasks join its trace.
        "traces": sum(
            1
            for e in phase.timeline
            if e["kind"] == "invoke" and not str(e.get("via", "")).startswith("state machine")
        )
        / per,
    }
    usd = {
        "dynamodb": counts["dynamodb_write_units"] * DYNAMODB_USD_PER_MILLION_WRU / 1e6
        + counts["dynamodb_read_units"] * DYNAMODB_USD_PER_MILLION_RRU / 1e6,
        "lambda_requests": counts["lambda_invocations"] * LAMBDA_USD_PER_MILLION_REQUESTS / 1e6,
        "lambda_duration": usd_duration / per,
        "step_functions": counts["sfn_transitions"] * SFN_USD_PER_THOUSAND_TRANSITIONS / 1e3,
        "sns": counts["sns_publishes"] * SNS_USD_PER_MILLION_PUBLISHES / 1e6,
        "s3": counts["s3_put_tier_requests"] * S3_USD_PER_THOUSAND_PUT_TIER / 1e3
        + counts["s3_get_tier_requests"] * S3_USD_PER_THOUSAND_GET_TIER / 1e3,
        "eventbridge": counts["eventbridge_opt_in_data_events"]
        * EVENTBRIDGE_USD_PER_MILLION_OPT_IN_DATA
        / 1e6
        + counts["eventbridge_custom_events"] * EVENTBRIDGE_USD_PER_MILLION_CUSTOM / 1e6,
    }
    usd["core_total"] = sum(usd.values())
    usd["logs"] = counts["log_bytes"] / 1e9 * CLOUDWATCH_LOGS_USD_PER_GB
    usd["xray"] = counts["traces"] * XRAY_TRACED_SHARE * XRAY_USD_PER_MILLION_TRACES / 1e6
    usd["total_with_observability"] = usd["core_total"] + usd["logs"] + usd["xray"]
    return {
        "counts": {k: round(v, 4) for k, v in counts.items()},
        "usd": usd,
        "functions": functions,
        "dynamodb_calls": {k: round(v / per, 3) for k, v in sorted(operations.items())},
        "dynamodb_wru_by_call": {
            k: round(v / per, 3) for k, v in sorted(wru_by_operation.items()) if v
        },
        "aws_calls": dict(
            sorted(Counter(f"{c.service}.{c.operation}" for c in phase.calls).items())
        ),
    }


def _per_million(summary: dict[str, Any]) -> dict[str, float]:
    return {k: round(v * 1e6, 4) for k, v in summary["usd"].items()}


def _per_run(summary: dict[str, Any]) -> dict[str, float]:
    return {k: round(v, 6) for k, v in summary["usd"].items()}


# ------------------------------------------------------------------ the three paths
@contextmanager
def _cloud(policy: Path | None = None, **simulators: dict[str, Any]) -> Iterator[tuple[Any, Meter]]:
    from aiops_local.cloud import LocalCloud

    with (
        LocalCloud(ROOT / "template.yaml", policy=policy, simulators=simulators) as cloud,
        Meter(cloud) as meter,
    ):
        yield cloud, meter


def _training_upload() -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory() as tmp,
        _cloud(policy_with_window(Path(tmp), "churn", ROOMY_WINDOW)) as (cloud, meter),
    ):
        architectures = _architectures(cloud)
        for n in range(WARMUP_UPLOADS):  # imports, the policy read and cached, clients made
            cloud.put_object("TrainingDataBucket", f"raw/churn/warm/{n}.csv", size=OBJECT_SIZE)
        cloud.run_until_quiet()
        start = meter.mark()
        for n in range(TRAINING_UPLOADS):
            cloud.put_object("TrainingDataBucket", f"raw/churn/b/{n:05d}.csv", size=OBJECT_SIZE)
        cloud.run_until_quiet()
        phase = _phase(cloud, meter, start)
        transaction = next(
            (c for c in phase.calls if c.operation == "TransactWriteItems" and not c.error), None
        )
    summary = _summarise(phase, TRAINING_UPLOADS, architectures)
    summary["transaction_items"] = _items(transaction)
    return summary


def _items(call: ObservedCall | None) -> list[dict[str, Any]]:
    if call is None:
        return []
    return [
        {"item": label, "bytes": size, "write_units": write_units(size, True)}
        for label, size in call.items
    ]


def _labeled_upload() -> dict[str, Any]:
    from aiops.base_models import RecordFormat
    from aiops_local.labels_data import labeled_records

    with _cloud() as (cloud, meter):
        architectures = _architectures(cloud)
        bucket = cloud.bucket("LabeledDataBucket")

        def upload(name: str, seed: int) -> None:
            body = labeled_records(RecordFormat.CONVERSATION, LABELED_RECORDS, seed=seed)
            cloud.put_object(bucket, f"labeled/support/{name}.jsonl", body=body)

        for n in range(WARMUP_UPLOADS):
            upload(f"warm-{n}", seed=100 + n)
        cloud.run_until_quiet()
        start = meter.mark()
        for n in range(LABELED_UPLOADS):
            upload(f"batch-{n:03d}", seed=n)
        cloud.run_until_quiet()
        phase = _phase(cloud, meter, start)
        decisions = [e for e in phase.timeline if e["kind"] == "decision"]
    summary = _summarise(phase, LABELED_UPLOADS, architectures)
    size = len(labeled_records(RecordFormat.CONVERSATION, LABELED_RECORDS, seed=0))
    summary["file"] = f"{LABELED_RECORDS} good conversation records, about {size} bytes"
    summary["ledger_records_per_upload"] = round(len(decisions) / LABELED_UPLOADS, 2)
    return summary


def _retrain_run() -> dict[str, Any]:
    with _cloud() as (cloud, meter):
        architectures = _architectures(cloud)
        for n in range(DEFAULT_WINDOW_OBJECTS - 1):
            cloud.put_object("TrainingDataBucket", f"raw/churn/r/{n}.csv", size=OBJECT_SIZE)
        cloud.run_until_quiet()
        start = meter.mark()
        cloud.put_object("TrainingDataBucket", "raw/churn/r/last.csv", size=OBJECT_SIZE)
        cloud.run_until_quiet()
        phase = _phase(cloud, meter, start)
        statuses = {e.name: e.status for e in cloud.executions() if e.name}
    # The sweeps fire on their schedules while the run waits: a fixed cost, priced apart.
    run = Phase(
        [c for c in phase.calls if c.actor not in SCHEDULED],
        [i for i in phase.invocations if i.function not in SCHEDULED],
        [
            e
            for e in phase.timeline
            if e.get("source") != "aws.scheduler" and e.get("function") not in SCHEDULED
        ],
        phase.transitions,
        phase.history_events,
    )
    sweeps = Phase(
        [c for c in phase.calls if c.actor in SCHEDULED],
        [i for i in phase.invocations if i.function in SCHEDULED],
        [e for e in phase.timeline if e.get("source") == "aws.scheduler"],
        0,
        0,
    )
    sweep_count = max(1, len(sweeps.invocations))
    summary = _summarise(run, 1, architectures)
    summary["executions"] = statuses
    sweep = _summarise(sweeps, sweep_count, architectures)
    summary["sweep_invocation"] = {
        "counts": sweep["counts"],
        "aws_calls_per_sweep": {
            k: round(v / sweep_count, 2) for k, v in sweep["aws_calls"].items()
        },
        "usd_per_month_per_schedule": round(sweep["usd"]["core_total"] * SWEEPS_PER_MONTH, 4),
    }
    return summary


def _sweep_with_history() -> dict[str, Any]:
    """Window sweeps when churn has closed windows behind it. Every sweep asks for unstarted
    windows: the first one after the history reads all of it (what every sweep read before the
    started watermark), the next ones read only what is past the watermark."""
    from datetime import timedelta

    from aiops.adapters.window_store import DynamoWindowStore
    from aiops.runs.window import ObjectRef, WindowLimits

    limits = WindowLimits(objects=10**3, bytes=10**12, max_age=timedelta(days=30))
    with _cloud() as (cloud, meter):
        architectures = _architectures(cloud)
        # The history is written by the bench itself (no actor): only the sweeps are metered.
        windows = DynamoWindowStore(cloud.table("ControlTable"), cloud.client("dynamodb"))
        bucket = cloud.bucket("TrainingDataBucket")
        now = cloud.clock.now()
        for w in range(HISTORY_WINDOWS):
            for n in range(HISTORY_OBJECTS):
                key = f"raw/churn/history/{w:03d}/part-{n:05d}.csv"
                ref = ObjectRef(
                    bucket=bucket, key=key, version_id=f"v{w}-{n}", etag=f"e{n}", size=OBJECT_SIZE
                )
                windows.add("churn", ref, limits, now)
            closed = windows.close("churn", limits, now, owner="bench", force_reason="history")
            if closed is None:
                raise RuntimeError("the history's window did not close")
            windows.mark_started("churn", closed.seq)
        sweeps = []
        for _ in range(2):
            start = meter.mark()
            cloud.advance("5m")
            sweeps.append(_window_sweep(_phase(cloud, meter, start), architectures))
    objects = HISTORY_WINDOWS * HISTORY_OBJECTS
    first, steady = sweeps
    per_object = first["counts"]["dynamodb_read_units"] / objects
    # A million uploads a month add a million closed objects a month: reading them all, month
    # m's 8,640 sweeps each read m million.
    month_12 = 12 * 1e6 * per_object * SWEEPS_PER_MONTH * DYNAMODB_USD_PER_MILLION_RRU / 1e6

    def figures(sweep: dict[str, Any]) -> dict[str, Any]:
        return {
            "read_units": sweep["counts"]["dynamodb_read_units"],
            "write_units": sweep["counts"]["dynamodb_write_units"],
            "dynamodb_calls": sweep["dynamodb_calls"],
            "usd_per_month_per_schedule": round(sweep["usd"]["core_total"] * SWEEPS_PER_MONTH, 4),
        }

    return {
        "history": f"{HISTORY_WINDOWS} closed windows of {HISTORY_OBJECTS} objects, all started",
        "first_sweep_reads_the_history": figures(first),
        "next_sweeps": figures(steady),
        "read_units_per_closed_object_read": round(per_object, 5),
        "usd_a_month_reading_12_months_of_history": round(month_12, 2),
    }


def _window_sweep(phase: Phase, architectures: dict[str, str]) -> dict[str, Any]:
    only = Phase(
        [c for c in phase.calls if c.actor == "WindowSweepFunction"],
        [i for i in phase.invocations if i.function == "WindowSweepFunction"],
        [e for e in phase.timeline if e.get("function") == "WindowSweepFunction"],
        0,
        0,
    )
    return _summarise(only, max(1, len(only.invocations)), architectures)


# ------------------------------------------------------------------ the window's write units
def write_unit_analysis(training: dict[str, Any]) -> dict[str, Any]:
    """What each write of a below-threshold upload buys, and what each cheaper design gives up,
    priced with the item sizes measured."""
    items = training.get("transaction_items", [])
    sizes = {i["item"]: i["bytes"] for i in items}
    seen, pending, head = sizes.get("SEEN", 0), sizes.get("PENDING", 0), sizes.get("WINDOW", 0)
    measured = training["counts"]["dynamodb_write_units"]
    wru_usd = DYNAMODB_USD_PER_MILLION_WRU
    rru_usd = DYNAMODB_USD_PER_MILLION_RRU
    big = 1000  # objects in a large window (policy allows up to 2,000)
    # An object's natural key is 32 characters: a set of them in the head grows by that much.
    listing_head = write_units(head + 32 * big, True) + write_units(seen, True)
    # Threshold by reading the window: on average half of a large window's PENDING items.
    query_rru = read_units(pending * big // 2, "strong")
    return {
        "measured_wru_per_upload": measured,
        "usd_per_million_uploads_dynamodb_writes": round(measured * wru_usd, 4),
        "issue_figure": {
            "wru": ISSUE_WRU_PER_UPLOAD,
            "usd_per_million": ISSUE_USD_PER_MILLION_UPLOADS,
            "check": f"{ISSUE_WRU_PER_UPLOAD} x ${wru_usd} per million WRU "
            f"= ${ISSUE_WRU_PER_UPLOAD * wru_usd:.2f}",
            "holds": math.isclose(ISSUE_WRU_PER_UPLOAD * wru_usd, ISSUE_USD_PER_MILLION_UPLOADS)
            and measured == ISSUE_WRU_PER_UPLOAD,
        },
        "items": items,
        "what_each_write_buys": {
            "SEEN": "exactly once per object version, across closed windows, for 90 days: the "
            "conditional put is what tells a redelivery from new data (and what `counted` reads)",
            "PENDING": "the window's exact membership: the close snapshots these items, so a run "
            "trains on exactly the objects counted",
            "WINDOW": "the head: atomic object/byte/record counters under the below-limits "
            "condition (the add that fills the window knows it), and the item the close's lease "
            "serialises on",
        },
        "target_wru": 2,
        "reached": False,
        "designs": [
            {
                "design": "today: SEEN + PENDING + head in one TransactWriteItems",
                "units_per_upload": f"{measured:g} WRU",
                "usd_per_million": round(measured * wru_usd, 2),
                "gives_up": "nothing",
            },
            {
                "design": "the same three items as three standard writes",
                "units_per_upload": "3 WRU",
                "usd_per_million": round(3 * wru_usd, 2),
                "gives_up": "crash safety: every order has a crash that breaks it (SEEN before "
                "the counter: the redelivery is a duplicate and the object never reaches a run; "
                "SEEN after it: the redelivery counts the object twice)",
            },
            {
                "design": "SEEN + a head that lists the window's objects, in a transaction",
                "units_per_upload": f"4 WRU at the first object, {listing_head} at {big}",
                "usd_per_million": round(listing_head * wru_usd, 2),
                "gives_up": "a bounded price: the head is billed whole, and grows 32 B an object",
            },
            {
                "design": "PENDING (moved to SEEN at close) + the head, standard writes",
                "units_per_upload": "2 WRU + 1 RRU",
                "usd_per_million": round(2 * wru_usd + rru_usd, 2),
                "gives_up": "exactly once: a crash between the writes leaves the counter short for "
                "good (the redelivery finds PENDING and cannot tell whether the counter moved), "
                "and a redelivered closed object must be found and undone by the next close",
            },
            {
                "design": "PENDING + SEEN in a transaction, the threshold read from PENDING",
                "units_per_upload": f"4 WRU + {query_rru:g} RRU at {big} objects",
                "usd_per_million": round(4 * wru_usd + query_rru * rru_usd, 2),
                "gives_up": "a bounded price (the read grows with the window) for 2 WRU saved",
            },
        ],
        "conclusion": "6 WRU is the floor for these guarantees: the three facts (seen, in this "
        "window, counted) live in three items because they have three lifetimes, and only a "
        "transaction changes three items together. The 4 WRU left above the target are "
        f"${(measured - 2) * wru_usd:.2f} a million uploads.",
    }


# ------------------------------------------------------------------ run and table
def run() -> dict[str, Any]:
    training = _training_upload()
    labeled = _labeled_upload()
    retrain = _retrain_run()
    history = _sweep_with_history()
    below = training["usd"]["core_total"]
    run_usd = retrain["usd"]["core_total"]
    n = DEFAULT_WINDOW_OBJECTS
    blended = ((n - 1) / n * below + run_usd / n) * 1e6
    return {
        "what": "AWS bill per million data events and per retrain run, from the AWS calls the "
        "offline runtime sees (DynamoDB units from item sizes)",
        "prices": {
            "read_on": PRICES_READ_ON,
            "region": PRICE_REGION,
            "dynamodb_usd_per_million_wru": DYNAMODB_USD_PER_MILLION_WRU,
            "dynamodb_usd_per_million_rru": DYNAMODB_USD_PER_MILLION_RRU,
            "lambda_usd_per_million_requests": LAMBDA_USD_PER_MILLION_REQUESTS,
            "lambda_usd_per_gb_second": LAMBDA_USD_PER_GB_SECOND,
            "sfn_usd_per_thousand_transitions": SFN_USD_PER_THOUSAND_TRANSITIONS,
            "sns_usd_per_million_publishes": SNS_USD_PER_MILLION_PUBLISHES,
            "s3_usd_per_thousand_put_tier": S3_USD_PER_THOUSAND_PUT_TIER,
            "s3_usd_per_thousand_get_tier": S3_USD_PER_THOUSAND_GET_TIER,
            "eventbridge_usd_per_million_custom": EVENTBRIDGE_USD_PER_MILLION_CUSTOM,
            "eventbridge_usd_per_million_opt_in_data": EVENTBRIDGE_USD_PER_MILLION_OPT_IN_DATA,
            "cloudwatch_logs_usd_per_gb": CLOUDWATCH_LOGS_USD_PER_GB,
            "xray_usd_per_million_traces": XRAY_USD_PER_MILLION_TRACES,
        },
        "assumptions": {
            "lambda_duration": "handler's own time offline x 1769/MemorySize (CPU share) + "
            f"{AWS_CALL_MS:g} ms per AWS call, rounded up to 1 ms",
            "lambda_init": f"{COLD_START_SHARE:.0%} of invocations cold, {INIT_SECONDS:g} s INIT",
            "platform_log_bytes": PLATFORM_LOG_BYTES,
            "sfn_log_bytes_per_history_event": SFN_LOG_BYTES_PER_EVENT,
            "xray_traced_share": XRAY_TRACED_SHARE,
            "cancelled_transaction": "each item consumes as a failed condition does (the "
            "existing item's size, at least 1 unit), doubled",
            "excluded": "free tiers; the uploads' own S3 PUTs and storage; SageMaker and "
            "Bedrock jobs; SNS deliveries (e-mail); KMS (bucket keys and SNS data-key reuse "
            "make it negligible per event); SSM standard parameters (free)",
        },
        "training_upload_below_threshold": {
            **training,
            "usd_per_million": _per_million(training),
        },
        "labeled_upload_below_threshold": {**labeled, "usd_per_million": _per_million(labeled)},
        "retrain_run": {**retrain, "usd_per_run": _per_run(retrain)},
        "churn_default_window": {
            "window_objects": n,
            "usd_per_million_uploads": round(blended, 2),
            "of_which_runs": round(run_usd / n * 1e6, 2),
            "how": f"{n - 1} of {n} uploads below the threshold, 1 of {n} closes a window and "
            "starts a run",
        },
        "sweep_with_history": history,
        "write_units": write_unit_analysis(training),
    }


def _money(value: float) -> str:
    if value >= 1:
        return f"${value:,.2f}"
    return f"${value:.4f}" if value >= 0.01 else f"${value:.6f}"


def _path_lines(title: str, r: dict[str, Any], unit: str, usd: dict[str, float]) -> list[str]:
    c = r["counts"]
    lines = [
        f"  {title}",
        f"    DynamoDB {c['dynamodb_write_units']:g} WRU + {c['dynamodb_read_units']:g} RRU; "
        f"Lambda {c['lambda_invocations']:g} invocations, {c['lambda_gb_seconds']:.4f} GB-s "
        f"(+{c['lambda_init_gb_seconds']:.4f} INIT); Step Functions {c['sfn_transitions']:g} "
        f"transitions; SNS {c['sns_publishes']:g}; S3 {c['s3_put_tier_requests']:g} PUT + "
        f"{c['s3_get_tier_requests']:g} GET; EventBridge {c['eventbridge_opt_in_data_events']:g} "
        f"S3 + {c['eventbridge_custom_events']:g} custom "
        f"(+{c['eventbridge_management_events_free']:g} free)",
        f"    DynamoDB calls {r['dynamodb_calls']}",
    ]
    for name, f in r["functions"].items():
        lines.append(
            f"    {name}: {f['memory_mb']} MB {f['architecture']}, own {f['own_ms_offline_median']}"
            f" ms offline + {f['aws_calls_per_invocation']:g} AWS calls → ~{f['billed_ms_median']}"
            " ms billed"
        )
    parts = ", ".join(
        f"{k.replace('_', ' ')} {_money(v)}"
        for k, v in usd.items()
        if k not in ("core_total", "total_with_observability", "logs", "xray") and v
    )
    lines.append(f"    {unit}: {_money(usd['core_total'])} ({parts})")
    lines.append(
        f"      + logs {_money(usd['logs'])} + X-Ray {_money(usd['xray'])} = "
        f"{_money(usd['total_with_observability'])}"
    )
    return lines


def _item_list(items: list[dict[str, Any]]) -> str:
    return ", ".join(f"{i['item']} {i['bytes']} B" for i in items)


def table(result: dict[str, Any]) -> str:
    p = result["prices"]
    w = result["write_units"]
    issue = w["issue_figure"]
    history = result["sweep_with_history"]
    first, steady = history["first_sweep_reads_the_history"], history["next_sweeps"]
    window = result["churn_default_window"]
    lines = [
        f"AWS bill ({p['region']}, on-demand prices read {p['read_on']}; free tiers left out)",
        *_path_lines(
            "training-data upload below the threshold",
            result["training_upload_below_threshold"],
            "per million uploads",
            result["training_upload_below_threshold"]["usd_per_million"],
        ),
        *_path_lines(
            "labeled-data upload below the threshold "
            f"({result['labeled_upload_below_threshold']['file']})",
            result["labeled_upload_below_threshold"],
            "per million uploads",
            result["labeled_upload_below_threshold"]["usd_per_million"],
        ),
        *_path_lines(
            "one retrain run (closing upload, workflow, pipeline event, gate, approval opened; "
            "durations are each function's first invocation here, clients made: an upper bound)",
            result["retrain_run"],
            "per run",
            result["retrain_run"]["usd_per_run"],
        ),
        f"  churn's default window ({window['window_objects']} objects): "
        f"{_money(window['usd_per_million_uploads'])} per million uploads, of which the runs "
        f"{_money(window['of_which_runs'])} (a run per {window['window_objects']} uploads)",
        f"  window sweep ({history['history']}): before the started watermark every sweep "
        f"read the whole history, {first['read_units']:g} RRU (the first sweep still does); "
        f"now the next ones read {steady['read_units']:g} RRU "
        f"({_money(steady['usd_per_month_per_schedule'])} a month); reading it every 5 minutes "
        "would cost "
        f"{_money(history['usd_a_month_reading_12_months_of_history'])}"
        " a month after 12 months of a million uploads a month",
        f"  write units per below-threshold upload: {w['measured_wru_per_upload']:g} "
        f"({_item_list(w['items'])}; transactional, 2 per item) = "
        f"{_money(w['usd_per_million_uploads_dynamodb_writes'])} per million; the issue's figure "
        f"({issue['check']}) {'holds' if issue['holds'] else 'DOES NOT HOLD'}",
        f"  target <= {w['target_wru']} WRU: {'reached' if w['reached'] else 'not reached'}",
    ]
    for item, why in w["what_each_write_buys"].items():
        lines.append(f"    {item}: {why}")
    for d in w["designs"]:
        lines.append(
            f"    {d['design']}: {d['units_per_upload']}, {_money(d['usd_per_million'])}/M — "
            f"gives up {d['gives_up']}"
        )
    lines.append(f"    {w['conclusion']}")
    return "\n".join(lines)
