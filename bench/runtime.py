"""The offline runtime on the new-data path, against moto's floor, at 300 and 3,000 uploads.

Every upload stays under its window's threshold and goes S3 PutObject → EventBridge rule →
NewDataFunction → DynamoDB (one TransactWriteItems). Reported, for each size:

- **runtime**: events/s through the whole offline runtime (`LocalCloud`: the template's bucket,
  rule and function, the handler in-process), and the AWS calls the handler made per event.
- **floor**: events/s of the same AWS calls made with bare boto3 on `moto.mock_aws`, without the
  runtime: the same PutObject (into a versioned bucket, as the template's) and the
  TransactWriteItems the window store makes for a below-threshold add (the same three items,
  expressions and conditions; the report checks their shape against the handler's own call) on a
  table with the control table's keys. Two choices make it the stricter floor:
  - its bucket sends no EventBridge notifications: moto's own sending (which the runtime replaces
    with its bus) would add about 0.2 ms per upload to the floor;
  - it runs with the runtime's `dynamodb_transactions` patch: stock moto deep-copies the whole
    table on every transaction, so its rate falls as the table grows (a ceiling that drops, not a
    floor). Stock moto's floor at 300 uploads is reported beside it, for scale.
- **ratios**: runtime / floor (target >= 0.8), and the runtime's rate at 3,000 uploads over its
  rate at 300 (target >= 0.8: the cost of an upload does not grow with the table).

The machine is shared, so nothing is compared across moments. Each side runs in a process of its
own (runtime and floor, each at 3,000 uploads and at 300 uploads from empty tables ten times over)
and they take turns on every chunk of 50 uploads, the order rotating: each ratio is the median
over the chunks of the two sides' rates in that chunk, by wall clock (by CPU time beside it).
A policy's window holds at most 2,000 objects, so uploads alternate between two models with the
same window (churn and a copy of it): every upload stays below its threshold, and all of them land
in the one control table.
"""

from __future__ import annotations

import copy
import hashlib
import multiprocessing
import statistics
import tempfile
import time
import traceback
from collections import Counter
from contextlib import AbstractContextManager, ExitStack
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol

import yaml

from bench import ROOT

SIZES = (300, 3_000)
CHUNK = 50
OBJECT_SIZE = 1024
TARGET_CALLS_PER_EVENT = 1.5
TARGET_FLOOR_RATIO = 0.8
TARGET_SCALE_RATIO = 0.8
REGION = "us-east-1"
# Two models with the same roomy window: 3,000 uploads stay under both thresholds.
MODELS = {"churn": "raw/churn/", "churn-b": "raw/churn-b/"}
WINDOW_OBJECTS = 2000
WINDOW_BYTES = 5 * 10**9
ROOMY_WINDOW = {"objects": WINDOW_OBJECTS, "bytes": f"{WINDOW_BYTES}B", "max_age": "7d"}
FLOOR_BUCKET = "bench-training"
FLOOR_TABLE = "bench-control"
NOW = "2026-12-01T00:00:00+00:00"


def _policy(directory: Path) -> Path:
    """policies/default.yaml with churn's window made roomy and a second model like it."""
    from aiops.policy import parse_policy

    policy = yaml.safe_load((ROOT / "policies" / "default.yaml").read_text())
    churn = policy["models"]["churn"]
    churn["data"]["window"] = dict(ROOMY_WINDOW)
    twin = copy.deepcopy(churn)
    twin["data"]["prefix"] = MODELS["churn-b"]
    twin["pipeline"] = "churn-b-train"
    twin["package_group"] = "churn-b"
    twin["deploy"]["endpoint"] = "churn-b-prod"
    twin["deploy"]["rollback_alarms"] = ["churn-b-prod-5xx"]
    twin.pop("budget", None)
    twin.pop("drift", None)
    policy["models"]["churn-b"] = twin
    text = yaml.safe_dump(policy)
    parse_policy(text, "bench policy")  # a policy the handler refuses would measure nothing
    path = directory / "bench-policy.yaml"
    path.write_text(text)
    return path


def _keys(uploads: int, tag: str) -> list[str]:
    prefixes = list(MODELS.values())
    return [f"{prefixes[n % len(prefixes)]}bench-{tag}/part-{n:05d}.csv" for n in range(uploads)]


def _shape(transact_items: list[dict[str, Any]]) -> list[Any]:
    """What a TransactWriteItems call does, without its values: operations, the items' and
    values' attribute names and types, expressions."""

    def typed(attrs: dict[str, Any]) -> dict[str, str]:
        return {name: next(iter(value)) for name, value in attrs.items()}

    shape = []
    for entry in transact_items:
        ((operation, body),) = entry.items()
        described = {k: v for k, v in body.items() if k != "TableName"}
        for part in ("Item", "Key", "ExpressionAttributeValues"):
            if part in described:
                described[part] = typed(described[part])
        shape.append((operation, described))
    return shape


# ------------------------------------------------------------------ the two sides


class _Uploader(Protocol):
    def upload(self, keys: list[str]) -> None: ...

    def report(self) -> dict[str, Any]: ...


class _Runtime:
    """Uploads through the whole offline runtime."""

    def __init__(self, stack: ExitStack) -> None:
        from botocore.client import BaseClient

        from aiops_local.actors import current_actor
        from aiops_local.cloud import LocalCloud

        self.handler_calls: list[dict[str, Any]] = []
        original = BaseClient._make_api_call

        # The handler's own TransactWriteItems, seen below the runtime's patch (which wraps this).
        def record(client: Any, operation: str, params: dict[str, Any]) -> Any:
            if not self.handler_calls and operation == "TransactWriteItems":
                actor = current_actor()
                if actor is not None and actor.name == "NewDataFunction":
                    self.handler_calls.append(copy.deepcopy(params))
            return original(client, operation, params)

        stack.callback(setattr, BaseClient, "_make_api_call", original)
        BaseClient._make_api_call = record
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        self.cloud = stack.enter_context(
            LocalCloud(ROOT / "template.yaml", policy=_policy(Path(tmp)))
        )
        # The first invocation imports the handler and reads the policy: not the steady state
        # measured here (the cold-start section measures it).
        self.upload(_keys(len(MODELS), "warm"))
        self.since = len(self.cloud.timeline)

    def upload(self, keys: list[str]) -> None:
        for key in keys:
            self.cloud.put_object("TrainingDataBucket", key, size=OBJECT_SIZE)
        self.cloud.run_until_quiet()

    def report(self) -> dict[str, Any]:
        entries = self.cloud.timeline.entries(self.since)
        ok = [
            e
            for e in entries
            if e["kind"] == "invoke"
            and e.get("function") == "NewDataFunction"
            and e.get("status") == "ok"
        ]
        calls = Counter(
            f"{e['service']}.{e['operation']}"
            for e in entries
            if e["kind"] == "api" and e.get("function") == "NewDataFunction"
        )
        return {
            "handled_ok": len(ok),
            "added": sum(1 for i in ok if i.get("action") == "added"),
            "errors": sum(1 for e in entries if e["kind"] in ("error", "dlq")),
            "retrain_runs_started": len(self.cloud.executions()),
            "calls": dict(calls),
            "shape": _shape(self.handler_calls[0]["TransactItems"]) if self.handler_calls else [],
        }


class _Floor:
    """The handler's AWS calls, bare boto3 on moto (with or without the transactions patch)."""

    def __init__(self, stack: ExitStack, narrowed: bool) -> None:
        import boto3
        from moto import mock_aws

        from aiops_local.patches import dynamodb_transactions
        from aiops_local.patches.base import Patcher

        if narrowed:
            patcher = Patcher()
            dynamodb_transactions.install(patcher)
            stack.callback(patcher.restore)
        stack.enter_context(mock_aws())
        self.s3 = boto3.client("s3", region_name=REGION)
        self.dynamodb = boto3.client("dynamodb", region_name=REGION)
        self.s3.create_bucket(Bucket=FLOOR_BUCKET)
        self.s3.put_bucket_versioning(
            Bucket=FLOOR_BUCKET, VersioningConfiguration={"Status": "Enabled"}
        )
        self.dynamodb.create_table(
            TableName=FLOOR_TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
        )
        self.first: list[dict[str, Any]] = []
        self.upload(_keys(len(MODELS), "warm"))

    def upload(self, keys: list[str]) -> None:
        for key in keys:
            put = self.s3.put_object(Bucket=FLOOR_BUCKET, Key=key, Body=b"x" * OBJECT_SIZE)
            model = next(m for m, prefix in MODELS.items() if key.startswith(prefix))
            items = _window_add(model, key, put["VersionId"], put["ETag"].strip('"'))
            self.first = self.first or items
            self.dynamodb.transact_write_items(TransactItems=items)

    def report(self) -> dict[str, Any]:
        return {"shape": _shape(self.first)}


def _window_add(model: str, key: str, version: str, etag: str) -> list[dict[str, Any]]:
    """aiops.adapters.window_store's below-threshold add of one object, as TransactItems."""
    natural = hashlib.sha256(f"{FLOOR_BUCKET}/{key}#{version}".encode()).hexdigest()[:32]
    obj = {
        "bucket": {"S": FLOOR_BUCKET},
        "key": {"S": key},
        "version_id": {"S": version},
        "etag": {"S": etag},
        "size": {"N": str(OBJECT_SIZE)},
        "records": {"NULL": True},
    }
    return [
        {
            "Put": {
                "TableName": FLOOR_TABLE,
                "Item": {
                    "pk": {"S": f"SEEN#{model}#{natural}"},
                    "sk": {"S": "SEEN"},
                    "ttl": {"N": "1788000000"},
                },
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
        {
            "Put": {
                "TableName": FLOOR_TABLE,
                "Item": {
                    "pk": {"S": f"PENDING#{model}"},
                    "sk": {"S": natural},
                    "object": {"M": obj},
                    "added_at": {"S": NOW},
                },
            }
        },
        {
            "Update": {
                "TableName": FLOOR_TABLE,
                "Key": {"pk": {"S": f"MODEL#{model}"}, "sk": {"S": "WINDOW"}},
                "UpdateExpression": "ADD #o :one, #b :size, #r :records "
                "SET opened_at = if_not_exists(opened_at, :now)",
                "ConditionExpression": (
                    "attribute_not_exists(#o) OR (#o < :room_o AND #b < :room_b)"
                ),
                "ExpressionAttributeNames": {"#o": "objects", "#b": "bytes", "#r": "records"},
                "ExpressionAttributeValues": {
                    ":one": {"N": "1"},
                    ":size": {"N": str(OBJECT_SIZE)},
                    ":records": {"N": "0"},
                    ":now": {"S": NOW},
                    ":room_o": {"N": str(WINDOW_OBJECTS - 1)},
                    ":room_b": {"N": str(WINDOW_BYTES - OBJECT_SIZE)},
                },
            }
        },
    ]


def _serve(kind: str, conn: Connection) -> None:
    """A worker process: set up `kind`, then upload each chunk of keys it is sent, timed; on
    "reset", start again from empty tables. Its report adds up every table it went through."""

    def setup(stack: ExitStack) -> _Uploader:
        return _Runtime(stack) if kind == "runtime" else _Floor(stack, narrowed=kind == "floor")

    try:
        reports: list[dict[str, Any]] = []
        stack = ExitStack()
        uploader = setup(stack)
        conn.send("ready")
        while (message := conn.recv()) is not None:
            if message == "reset":
                reports.append(uploader.report())
                stack.close()
                stack = ExitStack()
                uploader = setup(stack)
                conn.send("ready")
                continue
            started, cpu = time.perf_counter(), time.process_time()
            uploader.upload(message)
            conn.send((time.perf_counter() - started, time.process_time() - cpu))
        reports.append(uploader.report())
        stack.close()
        conn.send(_add_up(reports))
    except BaseException:  # the parent waits on this pipe: tell it, then stop
        conn.send({"error": traceback.format_exc()})
        raise


def _add_up(reports: list[dict[str, Any]]) -> dict[str, Any]:
    total: dict[str, Any] = {"tables": len(reports), "shape": reports[0].get("shape")}
    for report in reports:
        for key, value in report.items():
            if isinstance(value, int):
                total[key] = total.get(key, 0) + value
            elif isinstance(value, dict):
                total[key] = dict(Counter(total.get(key, {})) + Counter(value))
    return total


class _Worker(AbstractContextManager["_Worker"]):
    """One side in its own process: `limit` uploads in all, from empty tables every `cycle`."""

    def __init__(self, kind: str, limit: int, cycle: int | None = None) -> None:
        self.limit, self.cycle = limit, cycle
        self.done = 0
        self.times: list[tuple[float, float]] = []
        context = multiprocessing.get_context("spawn")  # a fresh interpreter: no shared state
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(kind, child), daemon=True)
        self.process.start()
        self._answer()

    def _answer(self) -> Any:
        answer = self.conn.recv()
        if isinstance(answer, dict) and "error" in answer:
            raise RuntimeError(f"bench worker failed:\n{answer['error']}")
        return answer

    def chunk(self, keys: list[str]) -> None:
        if self.cycle and self.done and self.done % self.cycle == 0:
            self.conn.send("reset")
            self._answer()
        self.conn.send(keys)
        wall, cpu = self._answer()
        self.times.append((float(wall), float(cpu)))
        self.done += len(keys)

    def finish(self) -> dict[str, Any]:
        self.conn.send(None)
        report: dict[str, Any] = self._answer()
        return report

    def __exit__(self, *exc: object) -> None:
        self.process.join(timeout=30)
        if self.process.is_alive():
            self.process.kill()


# ------------------------------------------------------------------ measuring

SMALL, LARGE = SIZES
# name: (kind, uploads in all, from empty tables every...). Each chunk of the large run's keys
# goes to every side still uploading, in turn, so all of them see the same moments of the
# machine; the small sides start again from empty tables every SMALL uploads.
SIDES: dict[str, tuple[str, int, int | None]] = {
    "runtime_large": ("runtime", LARGE, None),
    "floor_large": ("floor", LARGE, None),
    "runtime_small": ("runtime", LARGE, SMALL),
    "floor_small": ("floor", LARGE, SMALL),
    "stock_small": ("stock", SMALL, None),
}


def _turns() -> dict[str, Any]:
    keys = _keys(LARGE, "run")
    chunks = [keys[i : i + CHUNK] for i in range(0, LARGE, CHUNK)]
    with ExitStack() as stack:
        workers = {
            name: stack.enter_context(_Worker(kind, limit, cycle))
            for name, (kind, limit, cycle) in SIDES.items()
        }
        names = list(workers)
        for n, chunk in enumerate(chunks):
            for name in names[n % len(names) :] + names[: n % len(names)]:
                if workers[name].done < workers[name].limit:
                    workers[name].chunk(chunk)
        reports = {name: w.finish() for name, w in workers.items()}
    return {
        "chunk": CHUNK,
        "times": {name: w.times for name, w in workers.items()},
        "reports": reports,
    }


def _rate(uploads: int, seconds: float) -> float:
    return round(uploads / seconds, 1) if seconds > 0 else 0.0


def _paired(times: dict[str, Any], reference: str, measured: str, clock: int) -> float:
    """The median over the chunks of `measured`'s rate over `reference`'s, each chunk's pair
    timed at the same moment (`clock`: 0 wall, 1 CPU)."""
    pairs = zip(times[reference], times[measured], strict=True)
    return round(statistics.median(r[clock] / m[clock] for r, m in pairs), 3)


def _side(measured: dict[str, Any], size: str) -> dict[str, Any]:
    times, reports = measured["times"], measured["reports"]
    runtime, floor = f"runtime_{size}", f"floor_{size}"
    uploads = len(times[runtime]) * CHUNK
    report = reports[runtime]
    handled = max(report.get("handled_ok", 0), 1)
    calls = report.get("calls", {})

    def rate(name: str, clock: int) -> float:
        return _rate(len(times[name]) * CHUNK, sum(t[clock] for t in times[name]))

    return {
        "uploads": SMALL if size == "small" else LARGE,
        "tables": report["tables"],
        "runtime_events_per_second": rate(runtime, 0),
        "floor_events_per_second": rate(floor, 0),
        "ratio_to_floor": _paired(times, floor, runtime, 0),
        "runtime_events_per_cpu_second": rate(runtime, 1),
        "floor_events_per_cpu_second": rate(floor, 1),
        "ratio_to_floor_cpu": _paired(times, floor, runtime, 1),
        "handled_ok": report.get("handled_ok", 0),
        "added": report.get("added", 0),
        "uploaded": uploads,
        "errors": report.get("errors", 0),
        "retrain_runs_started": report.get("retrain_runs_started", 0),
        "aws_calls_per_event": round(sum(calls.values()) / handled, 3),
        "handler_operations_per_event": {k: round(v / handled, 3) for k, v in calls.items()},
        "floor_same_call_as_handler": report["shape"] == reports[floor]["shape"],
    }


def run() -> dict[str, Any]:
    measured = _turns()
    small, large = _side(measured, "small"), _side(measured, "large")
    both = (small, large)
    times = measured["times"]
    scale = _paired(times, "runtime_small", "runtime_large", 0)
    calls = max(r["aws_calls_per_event"] for r in both)
    return {
        "what": "new-data path (below-threshold uploads) through the offline runtime, as a ratio "
        "to the same AWS calls on bare moto; every side timed chunk by chunk at the same moments",
        "chunk": CHUNK,
        "sizes": {str(r["uploads"]): r for r in both},
        "scale_ratio": scale,
        "scale_ratio_cpu": _paired(times, "runtime_small", "runtime_large", 1),
        "floor_scale_ratio": _paired(times, "floor_small", "floor_large", 0),
        "stock_moto_floor_events_per_second": {
            str(SMALL): _rate(SMALL, sum(t[0] for t in times["stock_small"]))
        },
        "target_floor_ratio": TARGET_FLOOR_RATIO,
        "target_scale_ratio": TARGET_SCALE_RATIO,
        "aws_calls_per_event": calls,
        "target_calls_per_event": TARGET_CALLS_PER_EVENT,
        "meets_target": (
            calls <= TARGET_CALLS_PER_EVENT
            and all(r["ratio_to_floor"] >= TARGET_FLOOR_RATIO for r in both)
            and scale >= TARGET_SCALE_RATIO
            and all(r["errors"] == 0 and r["added"] == r["uploaded"] for r in both)
        ),
    }


def _mark(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def table(result: dict[str, Any]) -> str:
    sizes = list(result["sizes"].values())
    small, large = sizes
    floor_target, scale_target = result["target_floor_ratio"], result["target_scale_ratio"]
    lines = [
        "offline runtime, new-data path (uploads under the threshold) vs the same calls on moto",
        f"  {'uploads':>13}  {'runtime ev/s':>12}  {'floor ev/s':>10}  {'ratio':>5}  "
        f"{'(by CPU)':>8}  {'ok/errors':>10}  calls/event",
    ]
    for r in sizes:
        runs = f"{r['uploads']}" + (f" (x{r['tables']})" if r["tables"] > 1 else "")
        lines.append(
            f"  {runs:>13}  {r['runtime_events_per_second']:>12}  "
            f"{r['floor_events_per_second']:>10}  {r['ratio_to_floor']:>5}  "
            f"{r['ratio_to_floor_cpu']:>8}  {str(r['handled_ok']) + '/' + str(r['errors']):>10}  "
            f"{r['aws_calls_per_event']}"
        )
    stock = result["stock_moto_floor_events_per_second"]
    lines += [
        f"  runtime / floor >= {floor_target} at both sizes: "
        + _mark(all(r["ratio_to_floor"] >= floor_target for r in sizes)),
        f"  rate at {large['uploads']} / rate at {small['uploads']}: {result['scale_ratio']} "
        f"(by CPU {result['scale_ratio_cpu']}; the floor's {result['floor_scale_ratio']}) "
        f"target >= {scale_target}: " + _mark(result["scale_ratio"] >= scale_target),
        f"  AWS calls per event {result['aws_calls_per_event']} "
        f"(target <= {result['target_calls_per_event']}); the floor makes the handler's call: "
        + ("yes" if all(r["floor_same_call_as_handler"] for r in sizes) else "NO, re-read it"),
        "  stock moto's floor: "
        + ", ".join(f"{v} ev/s at {k}" for k, v in stock.items())
        + " (it copies whole tables)",
    ]
    return "\n".join(lines)
