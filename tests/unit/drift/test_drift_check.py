"""Our own scheduled drift check (`aiops.drift.check`) on in-memory ports: the champion's training
data as the baseline, captured requests or the latest window as the current data."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import pytest

from aiops.drift.check import (
    DriftCheckDependencies,
    DriftCheckFailed,
    DriftCheckResult,
    capture_prefixes,
    checked_period,
    run_drift_checks,
)
from aiops.drift.decisions import DriftReports
from aiops.drift.stats import Baseline
from aiops.drift.violations import parse_violations
from aiops.events.control_plane import DriftCheckDetail
from aiops.policy import Policy
from aiops.registry import Candidate
from aiops.runs.manifest import DataManifest
from aiops.runs.window import ObjectRef, WindowLimits
from aiops_local.datasets import generate, to_capture, to_csv
from tests.unit.fakes import MemoryWindows

NOW = datetime(2026, 11, 20, 3, 4, 12, 500_000, tzinfo=UTC)
HOUR = timedelta(hours=1)
ARTIFACTS = "artifacts-bucket"
TRAINING = "training-bucket"
CAPTURE_URI = f"s3://{ARTIFACTS}/datacapture/churn-prod/AllTraffic/"
FRAUD_CAPTURE_URI = f"s3://{ARTIFACTS}/datacapture/fraud-prod/AllTraffic/"
MIN_ROWS = 200
SHIFTED = {"total_day_minutes": {"mean": 60}}


# --- in-memory ports -----------------------------------------------------------------------------


class MemoryObjects:
    """S3 in memory, by URI; records every object streamed and every document written."""

    def __init__(self) -> None:
        self.bodies: dict[str, bytes] = {}
        self.metadata: dict[str, dict[str, str]] = {}
        self.streamed: list[str] = []
        self.written: list[str] = []

    def put(self, uri: str, body: str | bytes) -> ObjectRef:
        self.bodies[uri] = body.encode() if isinstance(body, str) else body
        return self.ref(uri)

    def ref(self, uri: str) -> ObjectRef:
        bucket, key = uri.removeprefix("s3://").split("/", 1)
        return ObjectRef(bucket=bucket, key=key, size=len(self.bodies[uri]))

    def lines(self, obj: ObjectRef) -> Iterator[bytes]:
        uri = f"s3://{obj.bucket}/{obj.key}"
        self.streamed.append(uri)
        yield from self.bodies[uri].splitlines()  # no line ends, like iter_lines

    def under(self, uri_prefix: str) -> list[ObjectRef]:
        return [
            self.ref(uri)
            for uri, body in sorted(self.bodies.items())
            if uri.startswith(uri_prefix) and body
        ]

    def read(self, uri: str) -> str | None:
        body = self.bodies.get(uri)
        return body.decode() if body is not None else None

    def read_with_metadata(self, uri: str) -> tuple[str, dict[str, str]] | None:
        text = self.read(uri)
        return (text, self.metadata.get(uri, {})) if text is not None else None

    def write_json(
        self, bucket: str, key: str, document: Any, metadata: dict[str, str] | None = None
    ) -> str:
        uri = f"s3://{bucket}/{key}"
        self.bodies[uri] = json.dumps(document, default=str).encode()
        self.metadata[uri] = dict(metadata or {})
        self.written.append(uri)
        return uri

    def document(self, uri: str) -> Any:
        text = self.read(uri)
        assert text is not None, f"nothing written at {uri}"
        return json.loads(text)


class ExecutionManifests:
    """The DataManifest parameter of each pipeline execution."""

    def __init__(self) -> None:
        self.manifests: dict[str, str] = {}

    def manifest_uri(self, pipeline_execution_arn: str) -> str | None:
        return self.manifests.get(pipeline_execution_arn)


class Champions:
    """The registry's latest Approved package per group; an exception stands for a failing call."""

    def __init__(self) -> None:
        self.champions: dict[str, Candidate | Exception] = {}

    def champion(self, package_group: str) -> Candidate | None:
        found = self.champions.get(package_group)
        if isinstance(found, Exception):
            raise found
        return found

    def find_candidate(self, package_group: str, pipeline_execution_arn: str) -> Candidate | None:
        raise AssertionError("the drift check never looks for a run's candidate")

    def set_status(
        self, package_arn: str, status: Literal["Approved", "Rejected"], description: str
    ) -> None:
        raise AssertionError("the drift check never approves or rejects")


class RecordedEvents:
    def __init__(self) -> None:
        self.details: list[dict[str, Any]] = []

    def drift_check_completed(self, detail: dict[str, Any]) -> None:
        self.details.append(detail)


class World:
    """The drift check's ports, with helpers to put a champion, its data and captures in them."""

    def __init__(self) -> None:
        self.objects = MemoryObjects()
        self.training = ExecutionManifests()
        self.registry = Champions()
        self.windows = MemoryWindows()
        self.events = RecordedEvents()

    def deps(self) -> DriftCheckDependencies:
        return DriftCheckDependencies(
            registry=self.registry,
            training=self.training,
            objects=self.objects,
            windows=self.windows,
            events=self.events,
            artifacts_bucket=ARTIFACTS,
        )

    def champion(
        self,
        group: str = "churn",
        version: int = 1,
        *,
        parts: list[str] | None = None,
        with_execution: bool = True,
        with_manifest: bool = True,
    ) -> Candidate:
        """An Approved package trained by a retrain run on `parts` (CSV texts) as its data."""
        execution = (
            f"arn:aws:sagemaker:us-east-1:123456789012:pipeline/{group}-train/execution/v{version}"
        )
        candidate = Candidate(
            package_arn=f"arn:aws:sagemaker:us-east-1:123456789012:model-package/{group}/{version}",
            package_group=group,
            version=version,
            approval_status="Approved",
            metrics={"auc": 0.8},
            pipeline_execution_arn=execution if with_execution else None,
        )
        self.registry.champions[group] = candidate
        if parts is None:
            parts = [to_csv(generate(500, seed=f"train-{group}-{version}-{n}")) for n in (1, 2)]
        run_id = f"{group}-v{version}"
        objects = [
            self.objects.put(f"s3://{TRAINING}/raw/{group}/{run_id}/part-{n}.csv", text)
            for n, text in enumerate(parts, start=1)
        ]
        manifest = DataManifest(
            model=group,
            run_id=run_id,
            windows=[version],
            objects=objects,
            created_at=NOW - 9 * HOUR,
        )
        manifest_uri = f"s3://{ARTIFACTS}/manifests/{group}/{run_id}.json"
        self.training.manifests[execution] = manifest_uri
        if with_manifest:
            self.objects.put(manifest_uri, manifest.model_dump_json())
        return candidate

    def capture(
        self,
        hour: datetime,
        rows: int = 400,
        *,
        seed: str = "capture",
        shift: dict[str, dict[str, Any]] | None = None,
        uri: str = CAPTURE_URI,
        name: str = "part-0.jsonl",
        extra_lines: str = "",
    ) -> str:
        """A data capture file of the hour starting at `hour`."""
        body = to_capture(generate(rows, seed=seed, shift=shift), seed=seed, end=hour + HOUR)
        key = f"{uri}{hour:%Y/%m/%d/%H}/{name}"
        self.objects.put(key, body + extra_lines)
        return key

    def window(self, model: str, parts: list[str]) -> None:
        """A closed data window holding `parts` (CSV texts)."""
        limits = WindowLimits(objects=100, bytes=10**9, max_age=timedelta(days=1))
        for n, text in enumerate(parts):
            seq = 1 + len(self.windows.closed)
            obj = self.objects.put(f"s3://{TRAINING}/raw/{model}/w{seq}/part-{n}.csv", text)
            self.windows.add(model, obj, limits, NOW)
        self.windows.close(model, limits, NOW, owner="test", force_reason="test window")

    def training_reads(self) -> list[str]:
        return [uri for uri in self.objects.streamed if uri.startswith(f"s3://{TRAINING}/")]


def model_policy(name: str, monitor: dict[str, Any] | None) -> dict[str, Any]:
    drift: dict[str, Any] = {"checks": ["baseline_drift_check"]}
    if monitor is not None:
        drift["monitor"] = monitor
    return {
        "kind": "sagemaker",
        "data": {"prefix": f"raw/{name}/"},
        "pipeline": f"{name}-train",
        "package_group": name,
        "drift": drift,
        "gate": {"metric": "auc"},
        "deploy": {"endpoint": f"{name}-prod", "strategy": "all_at_once"},
    }


def monitor(**overrides: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "source": "data_capture",
        "capture_uri": CAPTURE_URI,
        "label": "churned",
        "lookback": "1h",
        "min_rows": MIN_ROWS,
    }
    settings.update(overrides)
    return settings


def policy(**models: dict[str, Any] | None) -> Policy:
    """Models by name → their drift.monitor (None: no monitor)."""
    return Policy.model_validate(
        {"models": {name: model_policy(name, m) for name, m in models.items()}}
    )


CHURN = policy(churn=monitor())
LAST_HOUR = datetime(2026, 11, 20, 2, tzinfo=UTC)  # the whole hour before NOW
REPORT = f"s3://{ARTIFACTS}/drift/churn/2026-11-20T03-00-00Z/constraint_violations.json"
STATISTICS = f"s3://{ARTIFACTS}/drift/churn/2026-11-20T03-00-00Z/statistics.json"
BASELINE_CACHE = f"s3://{ARTIFACTS}/drift/churn/baselines/churn-1.json"


@pytest.fixture
def world() -> World:
    return World()


def only(results: list[DriftCheckResult]) -> DriftCheckResult:
    assert len(results) == 1, results
    return results[0]


def reported_checks(world: World, uri: str) -> list[tuple[str, str]]:
    text = world.objects.read(uri)
    assert text is not None, f"no report at {uri}"
    return [(v.feature_name, v.constraint_check_type) for v in parse_violations(text, uri)]


# --- the checked period --------------------------------------------------------------------------


def test_given_a_time_within_an_hour_when_the_period_is_computed_then_it_ends_at_that_hour():
    start, end = checked_period(NOW, 2 * HOUR)

    assert end == datetime(2026, 11, 20, 3, tzinfo=UTC)
    assert start == datetime(2026, 11, 20, 1, tzinfo=UTC)


def test_given_a_time_on_the_hour_when_the_period_is_computed_then_that_hour_is_excluded():
    on_the_hour = datetime(2026, 11, 20, 3, tzinfo=UTC)

    assert checked_period(on_the_hour, HOUR) == (LAST_HOUR, on_the_hour)


def test_given_a_period_over_midnight_when_prefixes_are_listed_then_one_per_hour_in_order():
    start = datetime(2026, 11, 30, 22, tzinfo=UTC)
    end = datetime(2026, 12, 1, 1, tzinfo=UTC)

    prefixes = capture_prefixes(CAPTURE_URI, start, end)

    assert prefixes == [
        f"{CAPTURE_URI}2026/11/30/22/",
        f"{CAPTURE_URI}2026/11/30/23/",
        f"{CAPTURE_URI}2026/12/01/00/",
    ]


def test_given_a_start_within_an_hour_when_prefixes_are_listed_then_that_hour_is_included():
    start = datetime(2026, 11, 20, 1, 30, tzinfo=UTC)

    prefixes = capture_prefixes(CAPTURE_URI, start, datetime(2026, 11, 20, 3, tzinfo=UTC))

    assert prefixes == [f"{CAPTURE_URI}2026/11/20/01/", f"{CAPTURE_URI}2026/11/20/02/"]


def test_given_an_empty_period_when_prefixes_are_listed_then_there_are_none():
    assert capture_prefixes(CAPTURE_URI, LAST_HOUR, LAST_HOUR) == []


# --- skips ---------------------------------------------------------------------------------------


def assert_nothing_reported(world: World) -> None:
    reports = [u for u in world.objects.written if "/baselines/" not in u]
    assert reports == []
    assert world.events.details == []


def test_given_no_approved_package_when_checked_then_skipped_naming_the_group(world):
    world.capture(LAST_HOUR)

    result = only(run_drift_checks(CHURN, world.deps(), NOW))

    assert result.outcome == "skipped"
    assert "no approved package in churn" in result.reason
    assert_nothing_reported(world)


def test_given_a_champion_without_a_pipeline_execution_when_checked_then_skipped(world):
    champion = world.champion(with_execution=False)
    world.capture(LAST_HOUR)

    result = only(run_drift_checks(CHURN, world.deps(), NOW))

    assert result.outcome == "skipped"
    assert f"champion {champion.package_arn} names no pipeline execution" in result.reason
    assert_nothing_reported(world)


def test_given_a_champion_not_trained_by_a_retrain_run_when_checked_then_skipped(world):
    champion = world.champion()
    assert champion.pipeline_execution_arn is not None
    world.training.manifests.clear()  # the execution had no DataManifest parameter
    world.capture(LAST_HOUR)

    result = only(run_drift_checks(CHURN, world.deps(), NOW))

    assert result.outcome == "skipped"
    assert "no data manifest" in result.reason
    assert champion.pipeline_execution_arn in result.reason
    assert_nothing_reported(world)


def test_given_the_champions_manifest_object_is_gone_when_checked_then_skipped(world):
    world.champion(with_manifest=False)
    world.capture(LAST_HOUR)

    result = only(run_drift_checks(CHURN, world.deps(), NOW))

    assert result.outcome == "skipped"
    assert "no data manifest" in result.reason
    assert_nothing_reported(world)


def test_given_an_empty_manifest_when_checked_then_skipped_naming_the_manifest(world):
    world.champion(parts=[])
    world.capture(LAST_HOUR)

    result = only(run_drift_checks(CHURN, world.deps(), NOW))

    assert result.outcome == "skipped"
    assert result.reason == (
        f"the champion's manifest s3://{ARTIFACTS}/manifests/churn/churn-v1.json lists no objects"
    )
    assert_nothing_reported(world)


def test_given_training_data_without_the_label_when_checked_then_skipped_and_not_cached(world):
    world.champion()
    world.capture(LAST_HOUR)
    misnamed = policy(churn=monitor(label="churn"))

    result = only(run_drift_checks(misnamed, world.deps(), NOW))

    assert result.outcome == "skipped"
    assert "cannot build a baseline" in result.reason
    assert "label 'churn' is not a column" in result.reason
    assert world.objects.written == []
    assert world.events.details == []


def test_given_no_capture_files_in_the_period_when_checked_then_skipped(world):
    world.champion()
    world.capture(LAST_HOUR + HOUR)  # the current hour: still being written, not checked

    result = only(run_drift_checks(CHURN, world.deps(), NOW))

    assert result.outcome == "skipped"
    assert result.reason.startswith(f"no captured requests under {CAPTURE_URI}")
    assert_nothing_reported(world)


def test_given_fewer_rows_than_the_policy_asks_when_checked_then_skipped_without_a_verdict(world):
    world.champion()
    world.capture(LAST_HOUR, rows=MIN_ROWS - 1, shift=SHIFTED)

    result = only(run_drift_checks(CHURN, world.deps(), NOW))

    assert result.outcome == "skipped"
    assert result.rows == MIN_ROWS - 1
    assert f"fewer than the policy's {MIN_ROWS}: no verdict" in result.reason
    assert result.violations == 0
    assert {f["name"] for f in result.features} >= {"total_day_minutes", "state"}
    assert_nothing_reported(world)


def test_given_a_window_monitor_and_no_closed_window_when_checked_then_skipped(world):
    world.champion()

    result = only(run_drift_checks(policy(churn=monitor(source="window")), world.deps(), NOW))

    assert result.outcome == "skipped"
    assert result.reason == "no closed data window yet"
    assert_nothing_reported(world)


def test_given_a_model_without_a_monitor_when_checked_then_it_is_not_checked(world):
    world.champion()
    world.capture(LAST_HOUR)

    results = run_drift_checks(policy(churn=None), world.deps(), NOW)

    assert results == []
    assert world.objects.streamed == []


# --- reports -------------------------------------------------------------------------------------


def test_given_a_shifted_capture_when_checked_then_the_shifted_feature_is_reported(world):
    champion = world.champion()
    world.capture(LAST_HOUR, shift=SHIFTED)

    result = only(run_drift_checks(CHURN, world.deps(), NOW))

    assert result.outcome == "reported"
    assert result.report_uri == REPORT
    assert result.rows == 400
    assert result.violations == 1
    assert reported_checks(world, REPORT) == [("total_day_minutes", "baseline_drift_check")]
    statistics = world.objects.document(STATISTICS)
    assert statistics["champion"] == champion.package_arn
    assert statistics["baseline"] == f"s3://{ARTIFACTS}/manifests/churn/churn-v1.json"
    assert statistics["rows"] == 400
    assert statistics["enough_data"] is True
    moved = {f["name"]: f["psi"] for f in statistics["features"]}
    assert moved["total_day_minutes"] > 0.2
    assert world.events.details == [
        {
            "model": "churn",
            "endpoint": "churn-prod",
            "report_uri": REPORT,
            "violations": 1,
            "checked_at": NOW.isoformat(),
        }
    ]
    # The drift handler's contract for this event's detail.
    assert DriftCheckDetail.model_validate(world.events.details[0]).report_uri == REPORT


def test_given_a_report_when_written_then_its_metadata_names_the_drift_check_and_the_model(world):
    world.champion()
    world.capture(LAST_HOUR, shift=SHIFTED)

    only(run_drift_checks(CHURN, world.deps(), NOW))

    assert world.objects.metadata[REPORT] == {
        "aiops-writer": "drift-check",
        "aiops-model": "churn",
        "aiops-checked-at": NOW.isoformat(),
    }
    assert world.objects.metadata[STATISTICS] == world.objects.metadata[REPORT]


def test_given_the_checks_report_and_event_when_the_drift_handler_verifies_them_then_they_agree(
    world,
):
    world.champion()
    world.capture(LAST_HOUR, shift=SHIFTED)
    only(run_drift_checks(CHURN, world.deps(), NOW))
    (detail,) = world.events.details
    reports = DriftReports(bucket=ARTIFACTS, objects=world.objects)

    verified = reports.verified("churn", detail["report_uri"], detail["violations"], NOW)
    for_fraud = reports.verified("fraud", detail["report_uri"], detail["violations"], NOW)

    assert not isinstance(verified, str), verified
    assert [v.feature_name for v in verified] == ["total_day_minutes"]
    assert isinstance(for_fraud, str) and "outside drift/fraud/" in for_fraud


def test_given_a_capture_like_the_training_data_when_checked_then_a_report_without_violations(
    world,
):
    world.champion()
    world.capture(LAST_HOUR)

    result = only(run_drift_checks(CHURN, world.deps(), NOW))

    assert result.outcome == "reported"
    assert result.violations == 0
    assert reported_checks(world, REPORT) == []
    assert [d["violations"] for d in world.events.details] == [0]


def test_given_captures_around_the_period_when_checked_then_only_its_whole_hours_are_read(world):
    world.champion()
    world.capture(LAST_HOUR, rows=300, seed="in-period")
    world.capture(LAST_HOUR, rows=250, seed="in-period-2", name="part-1.jsonl")
    world.capture(LAST_HOUR + HOUR, shift=SHIFTED, seed="current-hour")
    world.capture(LAST_HOUR - HOUR, shift=SHIFTED, seed="before-the-lookback")

    result = only(run_drift_checks(CHURN, world.deps(), NOW))

    assert result.rows == 550
    assert result.violations == 0
    captures = [u for u in world.objects.streamed if u.startswith(CAPTURE_URI)]
    assert sorted(captures) == [
        f"{CAPTURE_URI}2026/11/20/02/part-0.jsonl",
        f"{CAPTURE_URI}2026/11/20/02/part-1.jsonl",
    ]


def test_given_a_two_hour_lookback_when_checked_then_both_whole_hours_are_read(world):
    world.champion()
    world.capture(LAST_HOUR, rows=300, seed="last-hour")
    world.capture(LAST_HOUR - HOUR, rows=300, seed="hour-before", shift=SHIFTED)

    result = only(run_drift_checks(policy(churn=monitor(lookback="2h")), world.deps(), NOW))

    assert result.rows == 600
    assert reported_checks(world, REPORT) == [("total_day_minutes", "baseline_drift_check")]


def test_given_the_same_hour_checked_twice_when_reported_then_the_report_uri_is_the_same(world):
    world.champion()
    world.capture(LAST_HOUR, shift=SHIFTED)
    first = only(run_drift_checks(CHURN, world.deps(), NOW))
    retried = only(run_drift_checks(CHURN, world.deps(), NOW.replace(minute=55)))

    assert first.report_uri == retried.report_uri == REPORT
    assert [d["report_uri"] for d in world.events.details] == [REPORT, REPORT]


def test_given_the_next_hour_checked_when_reported_then_the_report_has_its_own_uri(world):
    world.champion()
    world.capture(LAST_HOUR, shift=SHIFTED)
    world.capture(LAST_HOUR + HOUR, shift=SHIFTED)
    first = only(run_drift_checks(CHURN, world.deps(), NOW))
    later = only(run_drift_checks(CHURN, world.deps(), NOW + HOUR))

    assert first.report_uri == REPORT
    assert later.report_uri == REPORT.replace("T03-00-00Z", "T04-00-00Z")


def test_given_skipped_capture_lines_when_checked_then_they_are_counted(world):
    world.champion()
    world.capture(LAST_HOUR, extra_lines="not json\n\n")
    world.capture(
        LAST_HOUR,
        seed="second-file",
        name="part-1.jsonl",
        extra_lines='{"captureData": {}}\n{"eventVersion": "0"}\n',
    )

    result = only(run_drift_checks(CHURN, world.deps(), NOW))

    assert result.outcome == "reported"
    assert result.rows == 800
    assert result.skipped_records == 3
    assert world.objects.document(STATISTICS)["skipped_records"] == 3


def test_given_skipped_lines_and_too_few_rows_when_checked_then_the_skip_still_counts_them(world):
    world.champion()
    world.capture(LAST_HOUR, rows=10, extra_lines="garbage\n")

    result = only(run_drift_checks(CHURN, world.deps(), NOW))

    assert result.outcome == "skipped"
    assert result.skipped_records == 1


# --- the baseline --------------------------------------------------------------------------------


def test_given_a_first_check_when_run_then_the_baseline_is_built_from_the_manifest_and_cached(
    world,
):
    world.champion()
    world.capture(LAST_HOUR)

    run_drift_checks(CHURN, world.deps(), NOW)

    assert sorted(world.training_reads()) == [
        f"s3://{TRAINING}/raw/churn/churn-v1/part-1.csv",
        f"s3://{TRAINING}/raw/churn/churn-v1/part-2.csv",
    ]
    cached_text = world.objects.read(BASELINE_CACHE)
    assert cached_text is not None
    cached = Baseline.model_validate_json(cached_text)
    assert cached.rows == 1000
    assert cached.label == "churned"
    assert "churned" not in cached.columns
    assert cached.columns[:2] == ["account_length", "total_day_minutes"]


def test_given_a_cached_baseline_when_checked_again_then_the_training_data_is_not_read(world):
    world.champion()
    world.capture(LAST_HOUR, shift=SHIFTED)
    world.capture(LAST_HOUR + HOUR, shift=SHIFTED)
    run_drift_checks(CHURN, world.deps(), NOW)
    world.objects.streamed.clear()

    second = only(run_drift_checks(CHURN, world.deps(), NOW + HOUR))  # a fresh check: no memory

    assert world.training_reads() == []
    assert second.outcome == "reported"
    assert [f for f, _ in reported_checks(world, second.report_uri or "")] == ["total_day_minutes"]


def test_given_a_cached_baseline_when_the_training_data_is_gone_then_the_check_still_reports(
    world,
):
    world.champion()
    world.capture(LAST_HOUR, shift=SHIFTED)
    run_drift_checks(CHURN, world.deps(), NOW)
    for uri in [u for u in world.objects.bodies if u.startswith(f"s3://{TRAINING}/")]:
        del world.objects.bodies[uri]

    retried = only(run_drift_checks(CHURN, world.deps(), NOW))

    assert retried.outcome == "reported"
    assert retried.violations == 1


def test_given_a_cached_baseline_in_an_older_format_when_checked_then_it_is_rebuilt(world):
    world.champion()
    world.capture(LAST_HOUR)
    world.objects.put(BASELINE_CACHE, json.dumps({"format": 0, "columns": ["x"]}))

    result = only(run_drift_checks(CHURN, world.deps(), NOW))

    assert result.outcome == "reported"
    assert len(world.training_reads()) == 2
    rebuilt = world.objects.read(BASELINE_CACHE)
    assert rebuilt is not None
    assert Baseline.model_validate_json(rebuilt).rows == 1000


def test_given_a_new_champion_version_when_checked_then_it_gets_its_own_baseline(world):
    world.champion(version=1)
    world.capture(LAST_HOUR)
    run_drift_checks(CHURN, world.deps(), NOW)
    world.champion(version=2, parts=[to_csv(generate(700, seed="v2"))])
    world.objects.streamed.clear()

    result = only(run_drift_checks(CHURN, world.deps(), NOW))

    assert world.training_reads() == [f"s3://{TRAINING}/raw/churn/churn-v2/part-1.csv"]
    v2 = world.objects.read(f"s3://{ARTIFACTS}/drift/churn/baselines/churn-2.json")
    assert v2 is not None
    assert Baseline.model_validate_json(v2).rows == 700
    assert result.reason.endswith("against churn/2")


# --- the latest window as the current data -------------------------------------------------------


def test_given_a_window_monitor_when_checked_then_the_latest_window_is_compared(world):
    world.champion()
    world.window("churn", [to_csv(generate(300, seed="w1"))])
    world.window("churn", [to_csv(generate(250, seed=s, shift=SHIFTED)) for s in ("a", "b")])
    world.capture(LAST_HOUR)  # not read: the monitor's source is the window

    result = only(run_drift_checks(policy(churn=monitor(source="window")), world.deps(), NOW))

    assert result.outcome == "reported"
    assert result.rows == 500
    assert "data window w000002" in result.reason
    assert reported_checks(world, REPORT) == [("total_day_minutes", "baseline_drift_check")]
    assert world.objects.document(STATISTICS)["current"] == "data window w000002"
    assert not any(u.startswith(CAPTURE_URI) for u in world.objects.streamed)


# --- several models ------------------------------------------------------------------------------


def test_given_one_models_registry_call_fails_when_run_then_the_other_is_reported_and_it_raises(
    world,
):
    two = policy(
        fraud=monitor(capture_uri=FRAUD_CAPTURE_URI),  # first: its failure must not stop churn
        churn=monitor(),
    )
    world.registry.champions["fraud"] = RuntimeError("ThrottlingException")
    world.champion("churn")
    world.capture(LAST_HOUR, shift=SHIFTED)

    with pytest.raises(DriftCheckFailed) as raised:
        run_drift_checks(two, world.deps(), NOW)

    assert raised.value.failures == ["fraud: RuntimeError: ThrottlingException"]
    assert "fraud" in str(raised.value)
    assert [(r.model, r.outcome) for r in raised.value.results] == [("churn", "reported")]
    assert [d["model"] for d in world.events.details] == ["churn"]
    assert reported_checks(world, REPORT) == [("total_day_minutes", "baseline_drift_check")]


def test_given_two_healthy_models_when_run_then_each_has_its_own_report(world):
    two = policy(churn=monitor(), fraud=monitor(capture_uri=FRAUD_CAPTURE_URI))
    world.champion("churn")
    world.champion("fraud")
    world.capture(LAST_HOUR, shift=SHIFTED)
    world.capture(LAST_HOUR, uri=FRAUD_CAPTURE_URI)

    results = run_drift_checks(two, world.deps(), NOW)

    assert [(r.model, r.outcome, r.violations) for r in results] == [
        ("churn", "reported", 1),
        ("fraud", "reported", 0),
    ]
    assert [(d["model"], d["endpoint"]) for d in world.events.details] == [
        ("churn", "churn-prod"),
        ("fraud", "fraud-prod"),
    ]
    assert results[1].report_uri == REPORT.replace("/churn/", "/fraud/")
