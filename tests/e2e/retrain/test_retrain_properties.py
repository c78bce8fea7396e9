"""The retrain loop's properties, on the offline runtime (real template, handlers, state machine).

- Every event the loop consumes, delivered three times, has the effect of one delivery.
- A trigger that arrives while a run holds the lock leads to exactly one follow-up run, and every
  uploaded object is trained on in exactly one run.
- A run's state transitions do not depend on how long its pipeline runs (it waits, never polls).
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from aiops.drift.reports import drift_check_metadata
from aiops_local import LocalCloud
from aiops_local.simulators.model_monitor import ModelMonitorSimulator
from aiops_local.simulators.sagemaker_pipeline import SageMakerPipelineSimulator
from tests.support.events import load_event

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[3]
MODEL = "churn"
WINDOW = 5  # policies/default.yaml: churn's window closes at 5 objects (its bytes limit is far)
SIZE = 1024
OBJECT_CREATED = "Object Created"
PIPELINE_STATUS = "SageMaker Model Building Pipeline Execution Status Change"
# The functions a retrain run invokes (its workflow's tasks, and the pipeline event's handler).
RUN_FUNCTIONS = (
    "AcquireLockFunction",
    "StartPipelineFunction",
    "PipelineStatusFunction",
    "ReadCandidateFunction",
    "GateCandidateFunction",
    "ReleaseLockFunction",
)
GATE_ACTIONS = ("gate_approved", "gate_rejected", "awaiting_approval", "gate_dry_run")

Obj = tuple[str, str]  # (key, version id)


# ---------------------------------------------------------------------------- helpers


def _cloud(pipeline_duration: str = "20m") -> LocalCloud:
    return LocalCloud(
        ROOT / "template.yaml",
        simulators={"sagemaker_pipeline": {"duration": pipeline_duration}},
    )


def _upload(cloud: LocalCloud, first: int, count: int = WINDOW) -> list[Obj]:
    uploaded = []
    for n in range(first, first + count):
        key = f"raw/{MODEL}/props/part-{n:03d}.csv"
        response = cloud.put_object("TrainingDataBucket", key, size=SIZE)
        uploaded.append((key, str(response["VersionId"])))
    return uploaded


def _pipeline_runs(cloud: LocalCloud) -> list[Any]:
    """The pipeline executions the simulator ran, in start order."""
    simulator = cloud.simulators["sagemaker_pipeline"]
    assert isinstance(simulator, SageMakerPipelineSimulator)
    return list(simulator.runs)


def _actions(cloud: LocalCloud) -> Counter[str]:
    return Counter(str(entry["action"]) for entry in cloud.ledger(MODEL))


def _decisions(cloud: LocalCloud, action: str) -> list[dict[str, Any]]:
    return cloud.timeline.find("decision", model=MODEL, action=action)


def _control_items(cloud: LocalCloud) -> list[dict[str, Any]]:
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    dynamodb = cloud.client("dynamodb")
    items = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=cloud.table("ControlTable")):
        items += [{k: deserializer.deserialize(v) for k, v in i.items()} for i in page["Items"]]
    return items


def _manifests(cloud: LocalCloud) -> dict[str, dict[str, Any]]:
    """Every run's data manifest in the artifacts bucket, by run id."""
    s3 = cloud.client("s3")
    bucket = cloud.artifacts_bucket
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"manifests/{MODEL}/").get("Contents", [])
    manifests = {}
    for obj in listed:
        manifest = json.loads(s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read())
        manifests[manifest["run_id"]] = manifest
    return manifests


def _objects(manifest: dict[str, Any]) -> list[Obj]:
    return [(o["key"], str(o["version_id"])) for o in manifest["objects"]]


def _history(cloud: LocalCloud, arn: str) -> list[dict[str, Any]]:
    sfn = cloud.client("stepfunctions")
    events: list[dict[str, Any]] = []
    for page in sfn.get_paginator("get_execution_history").paginate(executionArn=arn):
        events += page["events"]
    return events


def _effects(cloud: LocalCloud) -> dict[str, int]:
    """Everything a delivery may have done, counted."""
    control = _control_items(cloud)
    head = next((i for i in control if i["pk"] == f"MODEL#{MODEL}" and i["sk"] == "WINDOW"), {})
    actions = _actions(cloud)
    ok = Counter(e["function"] for e in cloud.timeline.find("invoke", status="ok"))
    effects = {
        "open_window_objects": int(head.get("objects", 0)),
        "pending_objects": sum(1 for i in control if i["pk"] == f"PENDING#{MODEL}"),
        "windows_closed": sum(
            1 for i in control if i["pk"] == f"MODEL#{MODEL}" and str(i["sk"]).startswith("WINDOW#")
        ),
        "executions": len(cloud.executions("RetrainStateMachine")),
        "pipelines_started": len(_pipeline_runs(cloud)),
        "manifest_objects": sum(len(m["objects"]) for m in _manifests(cloud).values()),
        "packages": len(cloud.packages(MODEL)),
        "resumptions": sum(
            1
            for e in cloud.timeline.find("api", service="stepfunctions")
            if e["operation"] in ("SendTaskSuccess", "SendTaskFailure")
        ),
        "candidate_reads": ok["ReadCandidateFunction"],
        "gate_decisions": sum(actions[a] for a in GATE_ACTIONS),
        # Alerts only: a candidate waiting for a person also mails its approvers.
        "notifications": len(cloud.timeline.find("notify", topic="aiops-dev-alerts")),
    }
    effects.update({f"ledger:{action}": count for action, count in actions.items()})
    return effects


# ---------------------------------------------------------------------------- 1. at-least-once


def _nothing(cloud: LocalCloud) -> None:
    pass


def _upload_one(cloud: LocalCloud) -> None:
    _upload(cloud, 0, 1)


def _upload_the_closing_object(cloud: LocalCloud) -> None:
    _upload(cloud, WINDOW - 1, 1)


def _upload_window_minus_one(cloud: LocalCloud) -> None:
    _upload(cloud, 0, WINDOW - 1)
    cloud.run_until_quiet()


def _run_waiting_on_its_pipeline(cloud: LocalCloud) -> None:
    _upload(cloud, 0, WINDOW)
    cloud.advance("1m")  # the run starts its pipeline (20m) and waits on its completion event


MONITORING_JOB = "SageMaker Processing Job State Change"
ALARM = "CloudWatch Alarm State Change"
DRIFT_CHECK = "Drift Check Completed"
TWO_DRIFTS = [
    {"feature_name": "total_day_minutes", "constraint_check_type": "baseline_drift_check"},
    {"feature_name": "total_eve_minutes", "constraint_check_type": "baseline_drift_check"},
]


def _monitoring_execution_with_drift(cloud: LocalCloud) -> None:
    monitor = cloud.simulators["model_monitor"]
    assert isinstance(monitor, ModelMonitorSimulator)
    monitor.execute({"endpoint": "churn-prod", "violations": TWO_DRIFTS})


def _model_monitor_alarm(cloud: LocalCloud) -> None:
    cloud.send_event(load_event("cloudwatch_alarm_model_monitor_drift"))


def _drift_check_event() -> dict[str, Any]:
    return load_event("aiops_drift_check_completed", **{"detail.violations": len(TWO_DRIFTS)})


def _new_training_data(cloud: LocalCloud) -> None:
    _upload(cloud, 0, 2)
    cloud.run_until_quiet()


def _drift_check_report_written(cloud: LocalCloud) -> None:
    _new_training_data(cloud)
    uri = _drift_check_event()["detail"]["report_uri"]
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    # As the drift check writes it: with the metadata the drift handler verifies.
    cloud.client("s3").put_object(
        Bucket=cloud.bucket(bucket),
        Key=key,
        Body=json.dumps({"violations": TWO_DRIFTS}).encode(),
        Metadata=drift_check_metadata("churn", cloud.clock.now()),
    )
    cloud.run_until_quiet()


def _drift_check_completed(cloud: LocalCloud) -> None:
    cloud.send_event(_drift_check_event())


@dataclass(frozen=True)
class Delivery:
    """An event the loop consumes, how a story makes AWS send it, and its one effect."""

    name: str
    detail_type: str
    handler: str
    given: Callable[[LocalCloud], None]
    when: Callable[[LocalCloud], None]
    expected: dict[str, int] = field(default_factory=dict)
    bucket: str | None = None  # S3 events: only those of this bucket (template logical id)

    def matches(self, cloud: LocalCloud, event: dict[str, Any]) -> bool:
        if event.get("detail-type") != self.detail_type:
            return False
        if self.bucket is None:
            return True
        return bool(
            event.get("detail", {}).get("bucket", {}).get("name") == cloud.bucket(self.bucket)
        )

    def delivered(self, cloud: LocalCloud, since: int) -> list[dict[str, Any]]:
        """The timeline's deliveries of this row's events since entry `since`."""
        return [
            e
            for e in cloud.timeline.entries(since=since)
            if e["kind"] == "event" and self.matches(cloud, e.get("event", {}))
        ]


DELIVERIES = [
    Delivery(
        name="training-object-below-threshold",
        detail_type=OBJECT_CREATED,
        bucket="TrainingDataBucket",
        handler="NewDataFunction",
        given=_nothing,
        when=_upload_one,
        expected={
            "open_window_objects": 1,
            "pending_objects": 1,
            "windows_closed": 0,
            "executions": 0,
        },
    ),
    Delivery(
        name="training-object-closing-the-window",
        detail_type=OBJECT_CREATED,
        bucket="TrainingDataBucket",
        handler="NewDataFunction",
        given=_upload_window_minus_one,
        when=_upload_the_closing_object,
        expected={
            "open_window_objects": 0,
            "pending_objects": 0,
            "windows_closed": 1,
            "ledger:retrain_requested": 1,
            "executions": 1,
            "ledger:run_started": 1,
            "pipelines_started": 1,
            "manifest_objects": WINDOW,
            "resumptions": 1,
            "ledger:run_succeeded": 1,
        },
    ),
    Delivery(
        name="pipeline-execution-succeeded",
        detail_type=PIPELINE_STATUS,
        handler="PipelineStatusFunction",
        given=_run_waiting_on_its_pipeline,
        when=_nothing,  # the simulated pipeline ends when the cloud runs on
        expected={
            "executions": 1,
            "pipelines_started": 1,
            "resumptions": 1,
            "candidate_reads": 1,
            "ledger:candidate_registered": 1,
            "gate_decisions": 1,
            "ledger:run_succeeded": 1,
            "packages": 1,
        },
    ),
    Delivery(
        name="model-monitor-execution-with-drift",
        detail_type=MONITORING_JOB,
        handler="DriftFunction",
        given=_new_training_data,
        when=_monitoring_execution_with_drift,
        expected={
            "ledger:drift_retrain": 1,
            "executions": 1,
            "pipelines_started": 1,
            "ledger:run_succeeded": 1,
            "notifications": 0,
        },
    ),
    Delivery(
        name="model-monitor-alarm",
        detail_type=ALARM,
        handler="DriftFunction",
        given=_nothing,
        when=_model_monitor_alarm,
        expected={"ledger:drift_alert_only": 1, "notifications": 1, "executions": 0},
    ),
    Delivery(
        name="our-drift-check-report",
        detail_type=DRIFT_CHECK,
        handler="DriftFunction",
        given=_drift_check_report_written,
        when=_drift_check_completed,
        expected={"ledger:drift_retrain": 1, "executions": 1, "ledger:run_succeeded": 1},
    ),
]


def _deliver_three_times(
    cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch, delivery: Delivery
) -> None:
    """From now on, the bus delivers every event of the row's kind three times (same id)."""
    put = cloud.events.put

    def put_three_times(event: dict[str, Any], bus: str = "default") -> str:
        if not delivery.matches(cloud, event):
            return put(event, bus)
        event = {**event, "id": event.get("id") or str(uuid.uuid4())}
        for _ in range(3):
            put(event, bus)
        return str(event["id"])

    monkeypatch.setattr(cloud.events, "put", put_three_times)


@pytest.mark.parametrize("timing", ["back-to-back", "redelivered-later"])
@pytest.mark.parametrize("delivery", DELIVERIES, ids=lambda d: d.name)
def test_given_an_event_the_loop_consumes_when_delivered_three_times_then_it_acts_once(
    delivery: Delivery, timing: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _cloud() as cloud:
        delivery.given(cloud)
        seen = len(cloud.timeline)
        if timing == "back-to-back":
            _deliver_three_times(cloud, monkeypatch, delivery)
        delivery.when(cloud)
        cloud.run_until_quiet()
        if timing == "redelivered-later":
            # EventBridge redelivers the same event (same id) after everything it caused ended.
            (first,) = delivery.delivered(cloud, seen)
            cloud.advance("1h")
            for _ in range(2):
                cloud.send_event(first["event"])
            cloud.run_until_quiet()
        delivered = delivery.delivered(cloud, seen)
        handled = [
            e
            for e in cloud.timeline.entries(since=seen)
            if e["kind"] == "invoke" and e["function"] == delivery.handler
        ]
        effects = _effects(cloud)
        failures = cloud.timeline.find("error") + cloud.timeline.find("dlq")
        statuses = {e.status for e in cloud.executions("RetrainStateMachine")}

    assert len(delivered) == 3 and len({e["id"] for e in delivered}) == 1, "one event, 3 times"
    assert [h["status"] for h in handled] == ["ok"] * 3, "each delivery reached the handler"
    assert {k: effects.get(k, 0) for k in delivery.expected} == delivery.expected
    assert failures == []
    assert statuses <= {"SUCCEEDED"}


# ---------------------------------------------------------------------------- 2. one follow-up


def _story_with_triggers_during_a_run(cloud: LocalCloud) -> dict[str, list[Obj]]:
    windows = {"w1": _upload(cloud, 0)}
    cloud.advance("1m")
    windows["w2"] = _upload(cloud, WINDOW)
    cloud.advance("1m")
    windows["w3"] = _upload(cloud, 2 * WINDOW)
    cloud.advance("1m")
    return windows


def test_given_a_run_in_flight_when_two_more_windows_fill_then_one_follow_up_runs_both() -> None:
    with _cloud("5h") as cloud:
        windows = _story_with_triggers_during_a_run(cloud)
        running_during = [
            e.name for e in cloud.executions("RetrainStateMachine") if e.status == "RUNNING"
        ]
        actions_during = _actions(cloud)
        cloud.run_until_quiet()
        after_first_follow_up = len(cloud.executions("RetrainStateMachine"))
        cloud.advance("2d")  # long after: sweeps run, nothing is left to start
        cloud.run_until_quiet()
        actions = _actions(cloud)
        executions = {e.name: e for e in cloud.executions("RetrainStateMachine")}
        manifests = _manifests(cloud)
        pipelines = len(_pipeline_runs(cloud))
        coalesced = _decisions(cloud, "trigger_coalesced")
        (follow_up,) = _decisions(cloud, "follow_up_started")
        starts = _decisions(cloud, "run_started")
        ends = _decisions(cloud, "run_succeeded")
        lock = next(i for i in _control_items(cloud) if i["sk"] == "LOCK")

    # While run 1 waits on its 5h pipeline, windows 2 and 3 close and are coalesced into it.
    assert running_during == ["churn-w000001"]
    assert actions_during["retrain_requested"] == 3
    assert actions_during["trigger_coalesced"] == 2
    assert actions_during["run_started"] == 1
    assert [c["item"]["cause"]["holder"] for c in coalesced] == ["churn-w000001"] * 2
    # When run 1 ends, exactly one follow-up run starts, with both windows in its manifest.
    follow_up_id = follow_up["item"]["cause"]["run_id"]
    assert follow_up["item"]["cause"]["after"] == "churn-w000001"
    assert [s["item"]["cause"]["run_id"] for s in starts] == ["churn-w000001", follow_up_id]
    assert starts[1]["seq"] > ends[0]["seq"], "the follow-up runs after run 1, not beside it"
    assert sorted(manifests) == sorted(["churn-w000001", follow_up_id])
    assert manifests[follow_up_id]["windows"] == [2, 3]
    assert Counter(_objects(manifests[follow_up_id])) == Counter(windows["w2"] + windows["w3"])
    assert Counter(_objects(manifests["churn-w000001"])) == Counter(windows["w1"])
    # The coalesced executions only recorded their trigger: they started no pipeline.
    for name in ("churn-w000002", "churn-w000003"):
        assert executions[name].status == "SUCCEEDED"
        lock = executions[name].output["lock"]
        assert (lock["acquired"], lock["holder"]) == (False, "churn-w000001")
    # After the follow-up ends, no further run.
    assert pipelines == 2
    assert actions["run_started"] == 2 and actions["follow_up_started"] == 1
    assert actions["run_succeeded"] == 2
    assert len(executions) == 4 == after_first_follow_up
    assert {e.status for e in executions.values()} == {"SUCCEEDED"}
    assert "owner" not in lock and not lock.get("pending")


def test_given_uploads_before_during_and_after_runs_then_each_object_is_in_exactly_one_manifest():
    with _cloud("5h") as cloud:
        uploaded = [obj for w in _story_with_triggers_during_a_run(cloud).values() for obj in w]
        cloud.advance("5h")  # run 1 ends; the follow-up (windows 2, 3) starts
        uploaded += _upload(cloud, 3 * WINDOW)  # window 4 closes during the follow-up
        uploaded += _upload(cloud, 4 * WINDOW, 3)  # never fills: closed by age (max_age 6h)
        cloud.run_until_quiet()
        cloud.advance("2d")
        cloud.run_until_quiet()
        manifests = _manifests(cloud)
        starts = _decisions(cloud, "run_started")
        ends = _decisions(cloud, "run_succeeded")
        closed = [d["reason"] for d in _decisions(cloud, "retrain_requested")]
        running = [e.name for e in cloud.executions("RetrainStateMachine") if e.status == "RUNNING"]

    # The story: windows 1-4 close full (2, 3 and 4 while a run holds the lock), window 5 by age.
    assert len(closed) == 5 and closed[-1].startswith("oldest object")
    assert sorted(w for m in manifests.values() for w in m["windows"]) == [1, 2, 3, 4, 5]
    in_manifests = Counter(obj for m in manifests.values() for obj in _objects(m))
    assert len(uploaded) == len(set(uploaded)) == 23
    assert in_manifests == Counter(uploaded), "every object in exactly one run's manifest"
    assert len(starts) == len(ends) == len(manifests)
    assert running == []
    # One run at a time: each run starts after the previous one ended.
    order = sorted([(s["seq"], +1) for s in starts] + [(e["seq"], -1) for e in ends])
    at_once = [sum(step for _, step in order[: i + 1]) for i in range(len(order))]
    assert max(at_once) == 1


# ---------------------------------------------------------------------------- 3. no polling


@dataclass(frozen=True)
class OneRun:
    status: str
    history: list[str]
    invocations: Counter[str]
    pipeline_duration: str


def _one_run(pipeline_duration: str) -> OneRun:
    """A window fills and its run waits on a pipeline that takes `pipeline_duration`."""
    with _cloud(pipeline_duration) as cloud:
        _upload(cloud, 0)
        cloud.run_until_quiet()
        (run,) = cloud.executions("RetrainStateMachine")
        history = [e["type"] for e in _history(cloud, run.arn)]
        invocations = Counter(
            e["function"] for e in cloud.timeline.find("invoke") if e["function"] in RUN_FUNCTIONS
        )
        (pipeline,) = _pipeline_runs(cloud)
    return OneRun(run.status, history, invocations, str(pipeline.settings["duration"]))


def test_given_a_short_and_a_long_pipeline_when_a_run_waits_on_each_then_transitions_are_equal():
    short, long = _one_run("5m"), _one_run("5h")

    assert (short.pipeline_duration, long.pipeline_duration) == ("5m", "5h")
    assert short.status == long.status == "SUCCEEDED"
    assert len(short.history) == len(long.history)
    assert short.history == long.history, "the same sequence of history event types"
    assert short.invocations == long.invocations, "the same Lambda invocations"
