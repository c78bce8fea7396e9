"""SageMaker Model Monitor: a monitoring execution writes its report, then emits its event.

moto has no Model Monitor. Here a monitoring execution (a scenario's `monitoring_execution` step,
or a tick of `every`) is the processing job Model Monitor runs for a schedule's hour: it is named
`model-monitoring-<yyyyMMddHHmm>-<24 hex>` after the hour it was scheduled for (the virtual hour
it starts in) and analyses the hour before. At its end it writes Model Monitor's
`constraint_violations.json` (`{"violations": [...]}`) under
`s3://<artifacts bucket>/model-monitor/reports/<endpoint>/<schedule>/yyyy/mm/dd/hh` and emits
"SageMaker Processing Job State Change" with the shape of
`events/sagemaker_monitoring_job_completed_with_violations.json` (see events/README.md for what of
that shape is assumed).

Settings (scenario `simulators.model_monitor`, or a `configure` step) are the defaults of every
execution; a `monitoring_execution` step overrides them for one execution:
  endpoint: churn-prod                     (no default; required somewhere)
  schedule: churn-prod-data-quality        (default <endpoint>-data-quality)
  violations: [{feature_name, constraint_check_type, description}, ...]   (default [])
  report: written | missing | malformed    (default written; missing for a Failed job)
  status: Completed | Failed               (default Completed)
  failure_reason: "..."                    (when Failed)
  duration: 0s                             (virtual time from the job's creation to its end)
  every: 1h                                (settings only: run executions on that schedule;
                                            `every: null` stops it)
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiops.units import duration_seconds
from aiops_local.clock import iso
from aiops_local.schedules import Schedule
from aiops_local.simulators.base import Simulator, SimulatorHost, register

_EXECUTION_SETTINGS = (
    "endpoint",
    "schedule",
    "violations",
    "report",
    "status",
    "failure_reason",
    "duration",
)
_REPORTS = ("written", "missing", "malformed")
_STATUSES = ("Completed", "Failed")
# Model Monitor's analyzer image in us-east-1 ("Amazon SageMaker Model Monitor prebuilt container").
_ANALYZER_IMAGE = "156813124566.dkr.ecr.{region}.amazonaws.com/sagemaker-model-monitor-analyzer"
_DATASET_FORMAT = (
    '{"sagemakerCaptureJson":{"captureIndexNames":["endpointInput","endpointOutput"]}}'
)
REPORT_FILE = "constraint_violations.json"


@dataclass(frozen=True)
class MonitoringExecution:
    """One monitoring execution: what it was asked to do, and where it writes."""

    endpoint: str
    schedule: str
    violations: list[dict[str, Any]]
    report: str
    status: str
    failure_reason: str
    duration_s: float
    scheduled: datetime  # the hour it runs for; it analyses the hour before
    created: datetime
    job_name: str
    job_arn: str
    bucket: str  # the artifacts bucket
    report_prefix: str  # model-monitor/reports/<endpoint>/<schedule>/yyyy/mm/dd/hh

    @property
    def report_uri(self) -> str:
        """The job's output (S3Uri): the report is <report_uri>/constraint_violations.json."""
        return f"s3://{self.bucket}/{self.report_prefix}"

    @property
    def report_key(self) -> str:
        return f"{self.report_prefix}/{REPORT_FILE}"


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _hour_path(moment: datetime) -> str:
    return moment.strftime("%Y/%m/%d/%H")


def _input(name: str, uri: str, local_path: str) -> dict[str, Any]:
    return {
        "InputName": name,
        "S3Input": {
            "S3Uri": uri,
            "LocalPath": local_path,
            "S3DataType": "S3Prefix",
            "S3InputMode": "File",
            "S3DataDistributionType": "FullyReplicated",
        },
    }


def _check(settings: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = set(settings) - set(allowed)
    if unknown:
        raise ValueError(
            f"model_monitor: unknown settings {sorted(unknown)}; known: {', '.join(allowed)}"
        )
    if settings.get("report", "written") not in _REPORTS:
        raise ValueError(f"model_monitor: report must be one of {', '.join(_REPORTS)}")
    if settings.get("status", "Completed") not in _STATUSES:
        raise ValueError(f"model_monitor: status must be one of {', '.join(_STATUSES)}")
    violations = settings.get("violations", [])
    if not isinstance(violations, list) or not all(
        isinstance(v, dict) and v.get("feature_name") and v.get("constraint_check_type")
        for v in violations
    ):
        raise ValueError(
            "model_monitor: violations is a list of "
            "{feature_name, constraint_check_type, description}"
        )
    if duration_seconds(settings.get("duration", 0)) < 0:
        raise ValueError("model_monitor: duration must not be negative")


@register
class ModelMonitorSimulator(Simulator):
    name = "model_monitor"

    def __init__(self, host: SimulatorHost) -> None:
        super().__init__(host)
        self.defaults: dict[str, Any] = {
            "violations": [],
            "status": "Completed",
            "failure_reason": "AlgorithmError: monitoring analysis failed (simulated)",
            "duration": "0s",
        }
        self.executions: list[MonitoringExecution] = []
        self._schedule: Schedule | None = None

    # ------------------------------------------------------------------ settings
    def configure(self, settings: dict[str, Any]) -> None:
        settings = dict(settings)
        has_every = "every" in settings
        every = settings.pop("every", None)
        _check(settings, _EXECUTION_SETTINGS)
        self.defaults.update(settings)
        if has_every:
            self._set_every(every)

    def _set_every(self, every: Any) -> None:
        """Executions on a schedule, on the runtime's schedules: ticks at multiples of the period
        (every hour on the hour, as an hourly monitoring schedule), coalesced when time jumps."""
        schedules = self.host.schedules
        if self._schedule is not None and self._schedule in schedules.items:
            schedules.items.remove(self._schedule)
        self._schedule = None
        if every in (None, "off", False):
            return
        period = duration_seconds(every)
        if period < 60:
            raise ValueError("model_monitor: every must be at least 1m")
        if not self.defaults.get("endpoint"):
            raise ValueError("model_monitor: every needs an endpoint setting")
        now = self.host.clock.time()
        first = (int(now // period) + 1) * period
        self._schedule = Schedule(
            name="model_monitor",
            expression=f"every {every}",
            period_s=int(period),
            fire=self._tick,
            next_at=first,
        )
        schedules.items.append(self._schedule)

    def _tick(self) -> None:
        self.execute()

    # ------------------------------------------------------------------ one execution
    def execute(self, overrides: dict[str, Any] | None = None) -> MonitoringExecution:
        """Start one monitoring execution now; it ends (report, event) after `duration`."""
        overrides = dict(overrides or {})
        _check(overrides, _EXECUTION_SETTINGS)
        settings = {**self.defaults, **overrides}
        endpoint = settings.get("endpoint")
        if not endpoint:
            raise ValueError("monitoring_execution: name the endpoint")
        endpoint = str(endpoint)
        schedule = str(settings.get("schedule") or f"{endpoint}-data-quality")
        status = str(settings["status"])
        report = str(settings.get("report") or ("written" if status == "Completed" else "missing"))
        host = self.host
        created = host.clock.now()
        scheduled = created.replace(minute=0, second=0, microsecond=0)
        digest = hashlib.sha256(
            f"{endpoint}/{schedule}/{created.isoformat()}/{len(self.executions)}".encode()
        ).hexdigest()[:24]
        job_name = f"model-monitoring-{scheduled.strftime('%Y%m%d%H%M')}-{digest}"
        execution = MonitoringExecution(
            endpoint=endpoint,
            schedule=schedule,
            violations=[dict(v) for v in settings["violations"]],
            report=report,
            status=status,
            failure_reason=str(settings["failure_reason"]),
            duration_s=duration_seconds(settings["duration"]),
            scheduled=scheduled,
            created=created,
            job_name=job_name,
            job_arn=f"arn:aws:sagemaker:{host.region}:{host.account}:processing-job/{job_name}",
            bucket=host.artifacts_bucket,
            report_prefix=f"model-monitor/reports/{endpoint}/{schedule}/{_hour_path(scheduled)}",
        )
        self.executions.append(execution)
        host.agenda.after(
            execution.duration_s,
            f"monitoring execution {job_name} ends",
            lambda: self._finish(execution),
        )
        return execution

    def _finish(self, execution: MonitoringExecution) -> None:
        host = self.host
        ended = host.clock.now()
        if execution.report != "missing":
            body = (
                json.dumps({"violations": execution.violations}, indent=4).encode()
                if execution.report == "written"
                # malformed: cut off mid-document, as a truncated upload would be
                else b'{"violations": [{"feature_name": '
            )
            host.put_object(
                execution.bucket, execution.report_key, body, content_type="application/json"
            )
        host.events.emit(
            "aws.sagemaker",
            "SageMaker Processing Job State Change",
            self._detail(execution, ended),
            resources=[execution.job_arn],
        )

    def _detail(self, execution: MonitoringExecution, ended: datetime) -> dict[str, Any]:
        host = self.host
        bucket = execution.bucket
        endpoint, schedule = execution.endpoint, execution.schedule
        window_start = execution.scheduled - timedelta(hours=1)
        capture = f"{endpoint}/AllTraffic/{_hour_path(window_start)}"
        baseline = f"s3://{bucket}/model-monitor/{endpoint}/baseline"
        started = execution.created + timedelta(seconds=round(execution.duration_s / 3))
        prefix = bucket.split("-artifacts-")[0] if "-artifacts-" in bucket else "aiops"
        detail: dict[str, Any] = {
            "ProcessingInputs": [
                _input(
                    "input_1",
                    f"s3://{bucket}/datacapture/{capture}",
                    f"/opt/ml/processing/endpointdata/{capture}",
                ),
                _input(
                    "baseline",
                    f"{baseline}/statistics.json",
                    "/opt/ml/processing/baseline/stats",
                ),
                _input(
                    "constraints",
                    f"{baseline}/constraints.json",
                    "/opt/ml/processing/baseline/constraints",
                ),
            ],
            "ProcessingOutputConfig": {
                "Outputs": [
                    {
                        "OutputName": "result",
                        "S3Output": {
                            "S3Uri": execution.report_uri,
                            "LocalPath": "/opt/ml/processing/resultdata",
                            "S3UploadMode": "EndOfJob",
                        },
                    }
                ]
            },
            "ProcessingJobName": execution.job_name,
            "ProcessingResources": {
                "ClusterConfig": {
                    "InstanceCount": 1,
                    "InstanceType": "ml.m5.xlarge",
                    "VolumeSizeInGB": 20,
                }
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
            "AppSpecification": {"ImageUri": _ANALYZER_IMAGE.format(region=host.region)},
            "Environment": {
                "baseline_constraints": "/opt/ml/processing/baseline/constraints/constraints.json",
                "baseline_statistics": "/opt/ml/processing/baseline/stats/statistics.json",
                "dataset_format": _DATASET_FORMAT,
                "dataset_source": "/opt/ml/processing/endpointdata",
                "end_time": iso(execution.scheduled),
                "output_path": "/opt/ml/processing/resultdata",
                "publish_cloudwatch_metrics": "Enabled",
                "sagemaker_endpoint_name": endpoint,
                "sagemaker_monitoring_schedule_name": schedule,
                "start_time": iso(window_start),
            },
            "NetworkConfig": {
                "EnableInterContainerTrafficEncryption": False,
                "EnableNetworkIsolation": False,
            },
            "RoleArn": f"arn:aws:iam::{host.account}:role/{prefix}-model-monitor",
            "ExperimentConfig": {},
            "ProcessingJobArn": execution.job_arn,
            "ProcessingJobStatus": execution.status,
        }
        count = len(execution.violations)
        if execution.status == "Completed":
            detail["ExitMessage"] = (
                f"CompletedWithViolations: Job completed successfully with {count} violations."
                if count
                else "Completed: Job completed successfully with no violations."
            )
        else:
            # A failed container writes its failure file (FailureReason), not an exit message.
            detail["FailureReason"] = execution.failure_reason
        detail.update(
            {
                "ProcessingEndTime": _millis(ended),
                "ProcessingStartTime": _millis(started),
                "LastModifiedTime": _millis(ended),
                "CreationTime": _millis(execution.created),
                "MonitoringScheduleArn": (
                    f"arn:aws:sagemaker:{host.region}:{host.account}:monitoring-schedule/{schedule}"
                ),
            }
        )
        return detail
