"""Our own scheduled drift check: the champion's training data as the baseline, the endpoint's
captured requests (or the latest data window) as the current data, Model Monitor's report format
as the result, and a `Drift Check Completed` event for the drift handler.

The report of a model and hour has one fixed location, so a re-run of the same check (a retried
schedule) rewrites the same report and the drift handler, keyed on it, acts once.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from aiops.drift.reports import (
    REPORT_NAME,
    STATISTICS_NAME,
    drift_check_metadata,
    drift_report_prefix,
)
from aiops.drift.stats import (
    Baseline,
    BaselineError,
    RecordReader,
    build_baseline,
    capture_records,
    compare,
    csv_records,
)
from aiops.drift.violations import violations_document
from aiops.policy import DriftMonitorPolicy, Policy, SageMakerModelPolicy
from aiops.registry import Candidate, ModelRegistry
from aiops.runs.manifest import DataManifest
from aiops.runs.window import WindowStore
from aiops.storage import DataObjects


class TrainingData(Protocol):
    def manifest_uri(self, pipeline_execution_arn: str) -> str | None:
        """The data manifest a pipeline execution was started with, if it was one of ours."""
        ...


class CheckEvents(Protocol):
    def drift_check_completed(self, detail: dict[str, Any]) -> None: ...


class CheckObjects(DataObjects, Protocol):
    def write_json(
        self, bucket: str, key: str, document: Any, metadata: dict[str, str] | None = None
    ) -> str:
        """Write `document` as JSON with `metadata` as the object's S3 user metadata."""
        ...


class DriftCheckResult(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)
    model: str
    outcome: Literal["reported", "skipped"]
    reason: str
    report_uri: str | None = None
    rows: int = 0
    violations: int = 0
    skipped_records: int = 0
    features: list[dict[str, Any]] = Field(default_factory=list)


class DriftCheckFailed(RuntimeError):
    def __init__(self, failures: list[str], results: list[DriftCheckResult]) -> None:
        self.failures, self.results = failures, results
        super().__init__("drift check failed for " + "; ".join(failures))


def checked_period(now: datetime, lookback: timedelta) -> tuple[datetime, datetime]:
    """Whole hours only: the current hour's capture files are still being written."""
    end = now.replace(minute=0, second=0, microsecond=0)
    return end - lookback, end


def capture_prefixes(capture_uri: str, start: datetime, end: datetime) -> list[str]:
    """SageMaker writes capture files under <destination>/yyyy/mm/dd/hh/."""
    prefixes, hour = [], start.replace(minute=0, second=0, microsecond=0)
    while hour < end:
        prefixes.append(f"{capture_uri}{hour:%Y/%m/%d/%H}/")
        hour += timedelta(hours=1)
    return prefixes


class _Chain(Iterator[dict[str, str | None]]):
    """Records of several objects in turn, counting the lines each reader skipped."""

    def __init__(self, readers: Iterable[RecordReader]) -> None:
        self._readers = iter(readers)
        self._current: RecordReader | None = None
        self.skipped = 0

    def __iter__(self) -> "_Chain":
        return self

    def __next__(self) -> dict[str, str | None]:
        while True:
            if self._current is None:
                self._current = next(self._readers)
            try:
                return next(self._current)
            except StopIteration:
                self.skipped += self._current.skipped
                self._current = None


@dataclass(frozen=True)
class DriftCheckDependencies:
    """What our drift check reads and writes through, built once by the composition root."""

    registry: ModelRegistry
    training: TrainingData
    objects: CheckObjects
    windows: WindowStore
    events: CheckEvents
    artifacts_bucket: str


def run_drift_checks(
    policy: Policy, deps: DriftCheckDependencies, now: datetime
) -> list[DriftCheckResult]:
    """Check every model with a monitor; one model's failure does not stop the others, and is
    raised at the end (so the schedule retries and, at last, dead-letters it)."""
    checker = DriftChecker(deps)
    results: list[DriftCheckResult] = []
    failures: list[str] = []
    for name, model in policy.sagemaker_models().items():
        if model.drift.monitor is None:
            continue
        try:
            results.append(checker.check(name, model, model.drift.monitor, now))
        except Exception as exc:  # noqa: BLE001 - isolate models; re-raised below
            failures.append(f"{name}: {type(exc).__name__}: {exc}")
    if failures:
        raise DriftCheckFailed(failures, results)
    return results


class DriftChecker:
    """One model's check: baseline, current data, comparison, report and event."""

    def __init__(self, deps: DriftCheckDependencies) -> None:
        self.registry, self.training, self.objects = deps.registry, deps.training, deps.objects
        self.windows, self.events, self.bucket = deps.windows, deps.events, deps.artifacts_bucket

    def check(
        self,
        name: str,
        model: SageMakerModelPolicy,
        monitor: DriftMonitorPolicy,
        now: datetime,
    ) -> DriftCheckResult:
        champion = self.registry.champion(model.package_group)
        if champion is None:
            return _skipped(name, f"no approved package in {model.package_group} to compare with")
        baseline = self._baseline(name, champion, monitor, now)
        if isinstance(baseline, DriftCheckResult):
            return baseline
        start, end = checked_period(now, monitor.lookback)
        current = self._current(name, model, monitor, baseline, start, end)
        if isinstance(current, DriftCheckResult):
            return current
        records, described = current
        comparison = compare(baseline, records, monitor)
        skipped = comparison.skipped_records
        features = [f.model_dump() for f in comparison.features]
        if not comparison.enough_data:
            return _skipped(
                name,
                f"{comparison.rows} rows in {described}, fewer than the policy's "
                f"{monitor.min_rows}: no verdict",
                rows=comparison.rows,
                skipped_records=skipped,
                features=features,
            )
        # The drift handler trusts a report only under the model's prefix and with this metadata
        # (the event that points at it could be forged; the bucket lets only this role write).
        prefix = f"{drift_report_prefix(name)}{end:%Y-%m-%dT%H-%M-%SZ}"
        written_by = drift_check_metadata(name, now)
        report = self.objects.write_json(
            self.bucket,
            f"{prefix}/{REPORT_NAME}",
            violations_document(comparison.violations),
            metadata=written_by,
        )
        self.objects.write_json(
            self.bucket,
            f"{prefix}/{STATISTICS_NAME}",
            {
                "baseline": baseline.source,
                "champion": champion.package_arn,
                "current": described,
                **comparison.model_dump(mode="json"),
            },
            metadata=written_by,
        )
        self.events.drift_check_completed(
            {
                "model": name,
                "endpoint": model.deploy.endpoint,
                "report_uri": report,
                "violations": len(comparison.violations),
                "checked_at": now.isoformat(),
            }
        )
        return DriftCheckResult(
            model=name,
            outcome="reported",
            reason=f"{len(comparison.violations)} violation(s) in {comparison.rows} rows of "
            f"{described} against {champion.package_group}/{champion.version}",
            report_uri=report,
            rows=comparison.rows,
            violations=len(comparison.violations),
            skipped_records=skipped,
            features=features,
        )

    # ------------------------------------------------------------------ baseline
    def _baseline(
        self, name: str, champion: Candidate, monitor: DriftMonitorPolicy, now: datetime
    ) -> Baseline | DriftCheckResult:
        cache_key = (
            f"{drift_report_prefix(name)}baselines/{champion.package_group}-{champion.version}.json"
        )
        cached = self.objects.read(f"s3://{self.bucket}/{cache_key}")
        if cached is not None:
            try:
                return Baseline.model_validate_json(cached)
            except ValueError:
                pass  # an older format: rebuild it
        if champion.pipeline_execution_arn is None:
            return _skipped(name, f"champion {champion.package_arn} names no pipeline execution")
        manifest_uri = self.training.manifest_uri(champion.pipeline_execution_arn)
        manifest_text = self.objects.read(manifest_uri) if manifest_uri else None
        if manifest_text is None:
            return _skipped(
                name,
                f"no data manifest for the champion's pipeline execution "
                f"{champion.pipeline_execution_arn}: it was not trained by a retrain run",
            )
        manifest = DataManifest.model_validate_json(manifest_text)
        if not manifest.objects:
            return _skipped(name, f"the champion's manifest {manifest_uri} lists no objects")
        records = _Chain(csv_records(self.objects.lines(o)) for o in manifest.objects)
        try:
            baseline = build_baseline(records, monitor.label, source=str(manifest_uri))
        except BaselineError as exc:
            return _skipped(name, f"cannot build a baseline from {manifest_uri}: {exc}")
        self.objects.write_json(
            self.bucket,
            cache_key,
            baseline.model_dump(mode="json"),
            metadata=drift_check_metadata(name, now),
        )
        return baseline

    # ------------------------------------------------------------------ current data
    def _current(
        self,
        name: str,
        model: SageMakerModelPolicy,
        monitor: DriftMonitorPolicy,
        baseline: Baseline,
        start: datetime,
        end: datetime,
    ) -> tuple[_Chain, str] | DriftCheckResult:
        if monitor.source == "window":
            latest = self.windows.latest(name)
            if latest is None:
                return _skipped(name, "no closed data window yet")
            chain = _Chain(csv_records(self.objects.lines(o)) for o in latest.objects)
            return chain, f"data window {latest.window_id}"
        assert monitor.capture_uri is not None  # the policy requires it for data_capture
        objects = [
            obj
            for prefix in capture_prefixes(monitor.capture_uri, start, end)
            for obj in self.objects.under(prefix)
        ]
        if not objects:
            return _skipped(
                name, f"no captured requests under {monitor.capture_uri} from {start} to {end}"
            )
        chain = _Chain(capture_records(self.objects.lines(o), baseline.columns) for o in objects)
        return chain, f"{len(objects)} capture file(s) from {start:%Y-%m-%d %H:%M} to {end:%H:%M}"


def _skipped(name: str, reason: str, **fields: Any) -> DriftCheckResult:
    return DriftCheckResult(model=name, outcome="skipped", reason=reason, **fields)
