"""Drift signals → the model's drift policy → retrain, alert only or ignore, on fakes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from aiops.drift.decisions import (
    DriftDecision,
    DriftDependencies,
    DriftReports,
    on_drift,
    parse_drift_event,
)
from aiops.drift.reports import drift_check_metadata
from aiops.events import InvalidEvent
from aiops.policy import Policy, parse_policy
from aiops.runs.window import ObjectRef, WindowLimits
from tests.support.events import load_event
from tests.unit.fakes import (
    MemoryClaims,
    MemoryCooldowns,
    MemoryLedger,
    MemoryPauses,
    MemoryReports,
    MemoryWindows,
    RecordingAlerts,
    RecordingRunStarter,
)

ROOT = Path(__file__).resolve().parents[3]
POLICY = parse_policy((ROOT / "policies" / "default.yaml").read_text())
NOW = datetime(2026, 11, 20, 3, 30, tzinfo=UTC)
MONITOR = "sagemaker_monitoring_job_completed_with_violations"
REPORT = (
    "s3://aiops-dev-artifacts-123456789012-us-east-1/model-monitor/reports/churn-prod/"
    "churn-prod-data-quality/2026/11/20/03/constraint_violations.json"
)


def violation(feature: str, check: str = "baseline_drift_check") -> dict[str, str]:
    return {"feature_name": feature, "constraint_check_type": check, "description": "drifted"}


def report(*violations: dict[str, str]) -> str:
    return json.dumps({"violations": list(violations)})


def monitor_event(job: str = "job-1", **overrides: Any) -> dict[str, Any]:
    arn = f"arn:aws:sagemaker:us-east-1:123456789012:processing-job/{job}"
    return load_event(MONITOR, **{"detail.ProcessingJobArn": arn, **overrides})


ARTIFACTS = "aiops-dev-artifacts-123456789012-us-east-1"
CHECK = "aiops_drift_check_completed"
CHECK_REPORT = load_event(CHECK)["detail"]["report_uri"]
CHECKED_AT = datetime(2026, 11, 20, 3, 5, 11, tzinfo=UTC)


class MemoryReportObjects:
    """S3 objects by URI with their user metadata, as the drift handler reads our reports."""

    def __init__(self) -> None:
        self.objects: dict[str, tuple[str, dict[str, str]]] = {}

    def put(self, uri: str, text: str, metadata: dict[str, str] | None = None) -> None:
        self.objects[uri] = (text, dict(metadata or {}))

    def put_check_report(
        self, uri: str, text: str, model: str = "churn", checked_at: datetime = CHECKED_AT
    ) -> None:
        """A report as our drift check writes it for `model`."""
        self.put(uri, text, drift_check_metadata(model, checked_at))

    def read_with_metadata(self, uri: str) -> tuple[str, dict[str, str]] | None:
        return self.objects.get(uri)


def check_event(uri: str = CHECK_REPORT, violations: int = 2, **overrides: Any) -> dict[str, Any]:
    return load_event(
        CHECK, **{"detail.report_uri": uri, "detail.violations": violations, **overrides}
    )


class World:
    def __init__(self, policy: Policy = POLICY) -> None:
        self.policy = policy
        self.reports = MemoryReports()
        self.check_reports = MemoryReportObjects()
        self.cooldowns = MemoryCooldowns()
        self.claims = MemoryClaims()
        self.windows = MemoryWindows()
        self.runs = RecordingRunStarter()
        self.alerts = RecordingAlerts()
        self.ledger = MemoryLedger()
        self.pauses = MemoryPauses()
        self.uploads = 0

    def new_data(self, now: datetime = NOW) -> ObjectRef:
        """A training object arriving in the open window (what a drift run trains on)."""
        self.uploads += 1
        obj = ObjectRef(bucket="b", key=f"raw/churn/x-{self.uploads}.csv", version_id="v1", size=10)
        limits = WindowLimits.from_policy(self.policy.sagemaker_model("churn").data.window)
        self.windows.add("churn", obj, limits, now)
        return obj

    def deliver(
        self, raw: dict[str, Any], now: datetime = NOW, new_data: bool = True
    ) -> DriftDecision:
        if new_data:
            self.new_data(now)
        return on_drift(
            parse_drift_event(raw),
            self.policy,
            DriftDependencies(
                reports=self.reports,
                drift_reports=DriftReports(bucket=ARTIFACTS, objects=self.check_reports),
                cooldowns=self.cooldowns,
                signals=self.claims,
                windows=self.windows,
                runs=self.runs,
                alerts=self.alerts,
                ledger=self.ledger,
                pauses=self.pauses,
            ),
            now=now,
            owner="test",
        )

    def actions(self) -> list[str]:
        return [e.action for e in self.ledger.entries]


def test_a_monitoring_execution_with_enough_counted_violations_retrains_with_the_reason():
    world = World()
    world.reports.objects[REPORT] = report(
        violation("total_day_minutes"), violation("state", "missing_column_check")
    )

    decision = world.deliver(monitor_event())

    assert decision.action == "retrain"
    assert "baseline_drift_check on total_day_minutes" in decision.reason
    assert "missing_column_check on state" in decision.reason
    (run,) = world.runs.started
    assert run.trigger.kind == "drift" and run.run_id == decision.run_id
    (entry,) = world.ledger.entries
    assert entry.action == "drift_retrain"
    assert entry.cause["event_id"] == "3c8a1f72-5e09-4b6d-9a47-e2d1c0b85f36"
    assert [v["feature_name"] for v in entry.cause["violations"]] == ["total_day_minutes", "state"]


def test_violations_the_policy_does_not_count_are_ignored_with_the_reason():
    world = World()
    world.reports.objects[REPORT] = report(
        violation("a", "data_type_check"), violation("b", "completeness_check")
    )

    decision = world.deliver(monitor_event())

    assert decision.action == "ignored"
    assert "none the policy counts" in decision.reason
    assert world.actions() == ["drift_ignored"] and not world.runs.started


def test_fewer_counted_violations_than_the_minimum_only_alert():
    world = World()
    world.reports.objects[REPORT] = report(violation("total_day_minutes"))

    decision = world.deliver(monitor_event())

    assert decision.action == "alert_only"
    assert "below the policy's 2" in decision.reason
    assert len(world.alerts.sent) == 1 and not world.runs.started


def test_a_second_drift_within_the_cooldown_alerts_and_after_it_retrains():
    world = World()
    world.reports.objects[REPORT] = report(violation("a"), violation("b"))
    assert world.deliver(monitor_event("job-1")).action == "retrain"

    within = world.deliver(monitor_event("job-2"), NOW + timedelta(hours=2))
    after = world.deliver(monitor_event("job-3"), NOW + timedelta(hours=25))

    assert within.action == "alert_only" and "cooldown" in within.reason
    assert after.action == "retrain"
    assert len(world.runs.started) == 2


def test_three_deliveries_of_the_same_signal_act_once():
    world = World()
    world.reports.objects[REPORT] = report(violation("a"), violation("b"))

    decisions = [world.deliver(monitor_event()) for _ in range(3)]

    assert [d.action for d in decisions] == ["retrain", "duplicate", "duplicate"]
    assert len(world.runs.started) == 1 and world.actions() == ["drift_retrain"]


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        (None, "violations report missing"),
        ("{not json", "not JSON"),
        (json.dumps({"violations": [{"feature_name": "a"}]}), "violations.0.constraint_check_type"),
    ],
)
def test_a_missing_or_malformed_report_is_an_alert_with_the_reason(stored, expected):
    world = World()
    if stored is not None:
        world.reports.objects[REPORT] = stored

    decision = world.deliver(monitor_event())

    assert decision.action == "alert_only"
    assert expected in decision.reason
    assert world.actions() == ["drift_report_invalid"]
    assert expected in world.alerts.sent[0][1]


def test_a_job_that_found_nothing_needs_no_report():
    world = World()

    decision = world.deliver(load_event("sagemaker_monitoring_job_completed_no_violations"))

    assert decision.action == "ignored" and decision.reason == "no violations"
    assert not world.alerts.sent


def test_a_failed_monitoring_execution_alerts_with_its_failure_reason():
    world = World()
    raw = monitor_event(
        **{"detail.ProcessingJobStatus": "Failed", "detail.FailureReason": "ClientError: no data"}
    )

    decision = world.deliver(raw)

    assert decision.action == "alert_only" and "ClientError: no data" in decision.reason


def test_an_alarm_on_a_model_monitor_metric_is_one_violation_of_its_feature():
    policy = POLICY.model_copy(deep=True)
    churn = policy.sagemaker_model("churn")
    object.__setattr__(churn.drift, "min_violations", 1)
    world = World(policy)

    decision = world.deliver(load_event("cloudwatch_alarm_model_monitor_drift"))

    assert decision.action == "retrain"
    assert [v.feature_name for v in decision.counted] == ["total_day_minutes"]
    assert decision.counted[0].constraint_check_type == "baseline_drift_check"


def test_an_alarm_back_to_ok_or_not_on_model_monitor_is_not_drift():
    world = World()
    ok = load_event(
        "cloudwatch_alarm_model_monitor_drift",
        **{"detail.state.value": "OK", "detail.previousState.value": "ALARM"},
    )

    assert world.deliver(ok).action == "ignored"
    assert world.deliver(load_event("cloudwatch_alarm_endpoint_5xx")).reason == (
        "alarm is not on a Model Monitor metric"
    )


def test_our_drift_checks_report_is_read_from_its_uri():
    world = World()
    world.check_reports.put_check_report(CHECK_REPORT, report(violation("a"), violation("b")))

    decision = world.deliver(check_event())

    assert decision.action == "retrain"


def test_a_drift_run_includes_the_open_windows_data():
    world = World()
    world.reports.objects[REPORT] = report(violation("a"), violation("b"))
    obj = world.new_data()

    world.deliver(monitor_event(), new_data=False)

    (run,) = world.runs.started
    assert run.trigger.windows == [1]
    assert world.windows.closed[("churn", 1)].objects == [obj]
    assert ("churn", 1) in world.windows.started, "the sweep must not start it again"


def test_drift_without_new_training_data_alerts_and_leaves_the_cooldown_free():
    world = World()
    world.reports.objects[REPORT] = report(violation("a"), violation("b"))

    stale = world.deliver(monitor_event("job-1"), new_data=False)
    fresh = world.deliver(monitor_event("job-2"), NOW + timedelta(hours=1))

    assert stale.action == "alert_only" and "no new training data" in stale.reason
    assert fresh.action == "retrain", "the slot was not spent on the run that never started"


def test_a_start_that_fails_gives_the_cooldown_back_and_the_retry_acts():
    world = World()
    world.reports.objects[REPORT] = report(violation("a"), violation("b"))
    start = world.runs.start

    def unavailable(request: Any) -> str:
        raise RuntimeError("states:StartExecution throttled")

    world.runs.start = unavailable  # type: ignore[method-assign]
    with pytest.raises(RuntimeError, match="throttled"):
        world.deliver(monitor_event())
    world.runs.start = start  # type: ignore[method-assign]
    retried = world.deliver(monitor_event(), NOW + timedelta(minutes=3), new_data=False)

    assert retried.action == "retrain"
    (run,) = world.runs.started
    assert run.trigger.windows == [1], "the window the failed attempt closed is not stranded"
    assert ("churn", 1) in world.windows.started


def test_an_endpoint_no_model_serves_is_ignored_without_touching_anything():
    world = World()
    raw = monitor_event(**{"detail.Environment.sagemaker_endpoint_name": "someone-elses"})

    decision = world.deliver(raw)

    assert decision.action == "ignored" and "someone-elses" in decision.reason
    assert not world.ledger.entries and not world.claims.claims


def test_a_drift_event_missing_its_report_uri_is_rejected_naming_the_field():
    raw = load_event("aiops_drift_check_completed", **{"detail.report_uri": ...})

    with pytest.raises(InvalidEvent, match=r"detail\.report_uri: Field required"):
        parse_drift_event(raw)


# --- our drift check's event is only a pointer: the report itself must be the drift check's ---

OTHER_MODEL_REPORT = f"s3://{ARTIFACTS}/drift/fraud/2026-11-20T03-00-00Z/constraint_violations.json"
OUTSIDE_DRIFT = f"s3://{ARTIFACTS}/model-monitor/reports/churn-prod/x/constraint_violations.json"
OTHER_BUCKET = (
    "s3://someone-elses-bucket/drift/churn/2026-11-20T03-00-00Z/constraint_violations.json"
)
NESTED = f"s3://{ARTIFACTS}/drift/churn/baselines/x/constraint_violations.json"
DRIFTED = report(violation("a"), violation("b"))


def assert_invalid_without_retrain(world: World, decision: DriftDecision, reason: str) -> None:
    assert decision.action == "alert_only"
    assert reason in decision.reason
    assert not world.runs.started
    (entry,) = world.ledger.entries
    assert entry.action == "drift_report_invalid" and reason in entry.reason
    assert reason in world.alerts.sent[0][1]


@pytest.mark.parametrize(
    "uri",
    [OTHER_MODEL_REPORT, OUTSIDE_DRIFT, OTHER_BUCKET, NESTED],
    ids=["another-models-report", "outside-drift", "another-bucket", "not-a-report-key"],
)
def test_given_a_forged_check_event_pointing_outside_the_models_drift_prefix_then_no_retrain(uri):
    world = World()
    # Even a report the drift check did write (for another model) is not this model's drift.
    world.check_reports.put_check_report(uri, DRIFTED, model="fraud")
    world.check_reports.put_check_report(uri.replace("fraud", "churn"), DRIFTED)

    decision = world.deliver(check_event(uri))

    assert_invalid_without_retrain(world, decision, "outside drift/churn/ of the artifacts bucket")


def test_given_a_forged_check_event_pointing_at_an_object_without_metadata_then_no_retrain():
    world = World()
    world.check_reports.put(CHECK_REPORT, DRIFTED)  # e.g. written by someone else

    decision = world.deliver(check_event())

    assert_invalid_without_retrain(world, decision, "not written by the drift check for churn")


def test_given_a_report_whose_metadata_names_another_writer_or_model_then_no_retrain():
    for metadata in (
        {"aiops-writer": "someone", "aiops-model": "churn", "aiops-checked-at": "2026-11-20"},
        drift_check_metadata("fraud", CHECKED_AT),
    ):
        world = World()
        world.check_reports.put(CHECK_REPORT, DRIFTED, metadata)

        decision = world.deliver(check_event())

        assert_invalid_without_retrain(world, decision, "not written by the drift check")


def test_given_a_count_that_disagrees_with_the_report_when_delivered_then_no_retrain():
    world = World()
    world.check_reports.put_check_report(CHECK_REPORT, DRIFTED)

    decision = world.deliver(check_event(violations=5))

    assert_invalid_without_retrain(world, decision, "has 2 violation(s); the event says 5")


def test_given_an_old_genuine_report_replayed_after_the_signal_memory_then_no_retrain():
    world = World()
    world.check_reports.put_check_report(CHECK_REPORT, DRIFTED, checked_at=NOW - timedelta(days=3))

    decision = world.deliver(check_event())

    assert_invalid_without_retrain(world, decision, "a replay, not a new check")


def test_given_a_check_event_whose_report_is_missing_then_an_alert_not_no_drift():
    world = World()

    decision = world.deliver(check_event(violations=0))

    assert_invalid_without_retrain(world, decision, "violations report missing")


def test_given_the_drift_checks_own_report_without_violations_then_nothing_happens():
    world = World()
    world.check_reports.put_check_report(CHECK_REPORT, report())

    decision = world.deliver(check_event(violations=0))

    assert decision.action == "ignored" and decision.reason == "no violations"
    assert not world.alerts.sent and not world.runs.started


def test_given_a_forged_event_sent_ahead_of_the_report_when_the_checks_own_arrives_it_retrains():
    world = World()
    ahead = world.deliver(check_event())  # the report it names does not exist yet
    world.check_reports.put_check_report(CHECK_REPORT, DRIFTED)

    genuine = world.deliver(check_event(), NOW + timedelta(minutes=1))

    assert ahead.action == "alert_only" and "violations report missing" in ahead.reason
    assert genuine.action == "retrain", "the forged event did not use up the report's signal"
    assert world.actions() == ["drift_report_invalid", "drift_retrain"]


def test_given_the_checks_own_event_delivered_three_times_then_it_acts_once():
    world = World()
    world.check_reports.put_check_report(CHECK_REPORT, DRIFTED)

    decisions = [world.deliver(check_event()) for _ in range(3)]

    assert [d.action for d in decisions] == ["retrain", "duplicate", "duplicate"]
    assert len(world.runs.started) == 1


def test_given_paused_triggers_when_drift_would_retrain_then_the_run_is_held_with_its_data():
    from aiops.pauses import Pause

    world = World()
    world.pauses.pause(
        Pause(model="churn", owner="spend alarm churn-spend", reason="spend", since=NOW)
    )
    world.reports.objects[REPORT] = report(
        violation("total_day_minutes"), violation("state", "missing_column_check")
    )

    decision = world.deliver(monitor_event())

    assert decision.action == "held"
    assert "paused by spend alarm churn-spend" in decision.reason
    assert world.runs.started == []
    # The data is closed under the drift's reason, unstarted: the sweep after the pause starts it.
    (held,) = world.windows.unstarted("churn")
    assert "baseline_drift_check on total_day_minutes" in held.reason
    (entry,) = world.ledger.entries
    assert entry.action == "run_held" and entry.cause["windows"] == [held.window_id]
    assert world.alerts.sent
