"""The retrain loop offline: AWS calls per upload, state transitions per run, runs under load.

- **Transitions per run**: one retrain run with a short (5m) and a long (5h) simulated pipeline;
  the execution's history events (GetExecutionHistory) and states entered. Waiting on the
  pipeline's completion event (task token) costs the same however long the pipeline runs.
- **Runs under load**: uploads at a steady pace of one window per virtual hour while each
  pipeline runs 5 virtual hours, so triggers keep arriving during runs. Reported: runs started,
  most runs running at once, most triggers (and follow-up runs) pending at once, objects in
  manifests vs uploaded, and the AWS calls each below-threshold upload made.

The scale run goes through the full offline runtime as it is (S3 → EventBridge rule → handler →
DynamoDB, Step Functions on moto, the pipeline simulator). The runtime keeps moto's
`TransactWriteItems` rollback copy to the items a transaction names
(`aiops_local/patches/dynamodb_transactions.py`; stock moto copies whole tables, O(n²) over n
uploads), so 10,000 uploads take minutes, not hours. That the narrowed copy decides exactly as
stock moto does is tested (`tests/integration/test_runtime_transactions.py`), not measured here.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from aiops.ledger import LedgerAction
from bench import ROOT, policy_with_window

MODEL = "churn"
LONG = "5h"
SHORT = "5m"
# The scale run: (uploads, window objects). Uploads arrive at one window's worth per virtual hour,
# in 20 batches; a pipeline runs 5 virtual hours, so each run sees about 5 windows close.
LARGE = (10_000, 1_000)
BATCHES_PER_WINDOW = 20
BATCH_GAP = "3m"
OBJECT_SIZE = 1024
RETRAIN_FUNCTIONS = (
    "AcquireLockFunction",
    "StartPipelineFunction",
    "PipelineStatusFunction",
    "ReadCandidateFunction",
    "GateCandidateFunction",
    "ReleaseLockFunction",
)


def _history(cloud: Any, arn: str) -> list[str]:
    sfn = cloud.client("stepfunctions")
    events: list[str] = []
    for page in sfn.get_paginator("get_execution_history").paginate(executionArn=arn):
        events += [e["type"] for e in page["events"]]
    return events


# ------------------------------------------------------------------ transitions per run


def _one_run(duration: str) -> dict[str, Any]:
    from aiops_local.cloud import LocalCloud

    with LocalCloud(
        ROOT / "template.yaml", simulators={"sagemaker_pipeline": {"duration": duration}}
    ) as cloud:
        for n in range(5):  # policies/default.yaml: churn's window closes at 5 objects
            cloud.put_object("TrainingDataBucket", f"raw/churn/t/part-{n}.csv", size=OBJECT_SIZE)
        cloud.run_until_quiet()
        (run,) = cloud.executions("RetrainStateMachine")
        history = _history(cloud, run.arn)
        invocations = sum(len(cloud.timeline.find("invoke", function=f)) for f in RETRAIN_FUNCTIONS)
    return {
        "pipeline_duration": duration,
        "status": run.status,
        "history_events": len(history),
        "states_entered": sum(1 for e in history if e.endswith("StateEntered")),
        "lambda_invocations": invocations,
        "history": history,
    }


# ------------------------------------------------------------------ runs under load


def _cause(decision: dict[str, Any]) -> dict[str, Any]:
    """The `cause` of a ledger decision (its run id, its trigger)."""
    return (decision.get("item") or {}).get("cause") or {}


def _replay(decisions: list[dict[str, Any]]) -> dict[str, int]:
    """Walk the ledger's decisions in order: runs holding the lock, triggers waiting on it."""
    running: set[str] = set()
    pending_triggers: set[str] = set()
    announced: set[str] = set()  # follow-up runs started but not yet holding the lock
    most = {"running": 0, "pending_triggers": 0, "pending_follow_ups": 0}
    for entry in decisions:
        action = entry.get("action")
        cause = _cause(entry)
        run_id = str(cause.get("run_id"))
        if action == LedgerAction.RUN_STARTED:
            running.add(run_id)
            announced.discard(run_id)
        elif action in (LedgerAction.RUN_SUCCEEDED, LedgerAction.RUN_FAILED):
            running.discard(run_id)
        elif action == LedgerAction.TRIGGER_COALESCED:
            pending_triggers.add(str(cause.get("trigger")))
        elif action == LedgerAction.FOLLOW_UP_STARTED:
            pending_triggers.clear()
            announced.add(run_id)
        most["running"] = max(most["running"], len(running))
        most["pending_triggers"] = max(most["pending_triggers"], len(pending_triggers))
        most["pending_follow_ups"] = max(
            most["pending_follow_ups"], len(announced) + (1 if pending_triggers else 0)
        )
    return most


def _pipelines_at_once(cloud: Any) -> int:
    from aiops.units import duration_seconds

    edges: list[tuple[float, int]] = []
    for run in cloud.simulators["sagemaker_pipeline"].runs:
        start = run.started.timestamp()
        edges += [(start, 1), (start + duration_seconds(run.settings["duration"]), -1)]
    at_once = most = 0
    for _, step in sorted(edges):  # an end sorts before a start at the same moment
        at_once += step
        most = max(most, at_once)
    return most


def _new_data_calls(timeline: list[dict[str, Any]]) -> dict[str, Any]:
    """AWS calls of each NewDataFunction invocation, split by whether it closed a window."""
    below: list[int] = []
    operations: Counter[str] = Counter()
    current: dict[str, Any] | None = None
    closing = False
    calls: Counter[str] = Counter()

    def done() -> None:
        if current is not None and current.get("status") == "ok" and not closing:
            below.append(int(current.get("api_calls", 0)))
            operations.update(calls)

    for entry in timeline:
        if entry["kind"] == "invoke":
            done()
            current = entry if entry.get("function") == "NewDataFunction" else None
            closing, calls = False, Counter()
        elif current is not None and entry["kind"] == "decision":
            closing = closing or entry.get("action") == LedgerAction.RETRAIN_REQUESTED
        elif current is not None and entry["kind"] == "api":
            calls[f"{entry['service']}.{entry['operation']}"] += 1
    done()
    return {
        "below_threshold_uploads": len(below),
        "aws_calls_per_below_threshold_upload": round(sum(below) / max(len(below), 1), 3),
        "max_calls_of_one_below_threshold_upload": max(below, default=0),
        "operations": dict(operations.most_common()),
    }


def _manifests(cloud: Any) -> list[dict[str, Any]]:
    s3 = cloud.client("s3")
    bucket = cloud.artifacts_bucket
    manifests = []
    for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=f"manifests/{MODEL}/"
    ):
        for obj in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
            manifests.append(json.loads(body))
    return manifests


def _under_load(uploads: int, window: int) -> dict[str, Any]:
    from aiops_local.cloud import LocalCloud

    batch = window // BATCHES_PER_WINDOW
    with (
        tempfile.TemporaryDirectory() as tmp,
        LocalCloud(
            ROOT / "template.yaml",
            # churn's window closes on its object count only.
            policy=policy_with_window(
                Path(tmp), MODEL, {"objects": window, "bytes": "1TB", "max_age": "30d"}
            ),
            simulators={"sagemaker_pipeline": {"duration": LONG}},
        ) as cloud,
    ):
        uploaded: set[tuple[str, str]] = set()
        started = time.perf_counter()
        for n in range(uploads):
            key = f"raw/churn/load/part-{n:05d}.csv"
            response = cloud.put_object("TrainingDataBucket", key, size=OBJECT_SIZE)
            uploaded.add((key, str(response.get("VersionId"))))
            if (n + 1) % batch == 0:
                cloud.advance(BATCH_GAP)
        upload_seconds = time.perf_counter() - started
        cloud.run_until_quiet()
        seconds = time.perf_counter() - started
        timeline = cloud.timeline.entries()
        decisions = [e for e in timeline if e["kind"] == "decision" and e.get("model") == MODEL]
        executions = cloud.executions("RetrainStateMachine")
        lock_holders = {
            str(_cause(d).get("run_id"))
            for d in decisions
            if d.get("action") == LedgerAction.RUN_STARTED
        }
        histories = {len(_history(cloud, e.arn)) for e in executions if e.name in lock_holders}
        manifests = _manifests(cloud)
        pipelines_at_once = _pipelines_at_once(cloud)
        errors = len(cloud.timeline.find("error")) + len(cloud.timeline.find("dlq"))
        failed_invocations = len(cloud.timeline.find("invoke", status="error"))
    in_manifests = Counter(
        (o["key"], str(o.get("version_id"))) for m in manifests for o in m["objects"]
    )
    actions = Counter(str(d.get("action")) for d in decisions)
    most = _replay(decisions)
    return {
        "uploads": uploads,
        "window_objects": window,
        "pipeline_duration": LONG,
        "pace": f"{batch} uploads every {BATCH_GAP} of virtual time",
        "path": "full offline runtime",
        "seconds": round(seconds, 1),
        "uploads_per_second": round(uploads / upload_seconds, 1),
        "windows_closed": actions[LedgerAction.RETRAIN_REQUESTED],
        "retrain_executions": len(executions),
        "runs_started": actions[LedgerAction.RUN_STARTED],
        "triggers_coalesced": actions[LedgerAction.TRIGGER_COALESCED],
        "follow_ups_started": actions[LedgerAction.FOLLOW_UP_STARTED],
        "runs_succeeded": actions[LedgerAction.RUN_SUCCEEDED],
        "max_runs_running": most["running"],
        "max_pipelines_running": pipelines_at_once,
        "max_pending_triggers": most["pending_triggers"],
        "max_pending_follow_up_runs": most["pending_follow_ups"],
        "objects_uploaded": len(uploaded),
        "objects_in_manifests": sum(in_manifests.values()),
        "objects_in_two_manifests": sum(1 for c in in_manifests.values() if c > 1),
        "objects_in_no_manifest": len(uploaded - set(in_manifests)),
        "history_events_per_run": sorted(histories),
        "errors": errors,
        "failed_invocations": failed_invocations,
        **_new_data_calls(timeline),
    }


def _holds(result: dict[str, Any]) -> bool:
    return (
        result["max_runs_running"] <= 1
        and result["max_pipelines_running"] <= 1
        and result["max_pending_follow_up_runs"] <= 1
        and result["objects_in_manifests"] == result["objects_uploaded"]
        and result["objects_in_two_manifests"] == 0
        and result["objects_in_no_manifest"] == 0
        and result["errors"] == 0
    )


def run() -> dict[str, Any]:
    runs = {"short": _one_run(SHORT), "long": _one_run(LONG)}
    transitions: dict[str, Any] = {
        name: {k: v for k, v in r.items() if k != "history"} for name, r in runs.items()
    }
    transitions["same_history"] = runs["short"]["history"] == runs["long"]["history"]
    large = _under_load(*LARGE)
    large["holds"] = _holds(large)
    return {
        "what": "retrain loop through the offline runtime: transitions per run, runs under load",
        "transitions_per_run": transitions,
        "under_load": large,
    }


def _load_lines(label: str, r: dict[str, Any]) -> list[str]:
    return [
        f"  {label}: {r['uploads']} uploads, window {r['window_objects']} objects, "
        f"pipeline {r['pipeline_duration']} ({r['path']})",
        f"    {r['uploads_per_second']} uploads/s, {r['seconds']} s; "
        f"{r['windows_closed']} windows closed, {r['retrain_executions']} executions",
        f"    runs started {r['runs_started']} ({r['follow_ups_started']} follow-ups, "
        f"{r['triggers_coalesced']} triggers coalesced); at once: runs {r['max_runs_running']}, "
        f"pipelines {r['max_pipelines_running']}, pending follow-ups "
        f"{r['max_pending_follow_up_runs']} (triggers {r['max_pending_triggers']})",
        f"    objects in manifests {r['objects_in_manifests']} / uploaded "
        f"{r['objects_uploaded']} (twice: {r['objects_in_two_manifests']}, missing: "
        f"{r['objects_in_no_manifest']}); history events per run {r['history_events_per_run']}",
        f"    AWS calls per below-threshold upload {r['aws_calls_per_below_threshold_upload']} "
        f"(max {r['max_calls_of_one_below_threshold_upload']}; {r['operations']}); "
        f"errors {r['errors']} — {'holds' if r['holds'] else 'DOES NOT HOLD'}",
    ]


def table(result: dict[str, Any]) -> str:
    t = result["transitions_per_run"]
    load = result["under_load"]
    lines = ["retrain loop (offline runtime)"]
    for name in ("short", "long"):
        r = t[name]
        lines.append(
            f"  one run, pipeline {r['pipeline_duration']:>3}: {r['history_events']} history "
            f"events, {r['states_entered']} states entered, {r['lambda_invocations']} "
            f"invocations ({r['status']})"
        )
    lines.append(f"  same history short and long: {'yes' if t['same_history'] else 'NO'}")
    lines += _load_lines("at scale", load)
    return "\n".join(lines)
