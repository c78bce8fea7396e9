"""Bedrock model customization (fine-tuning) jobs: InProgress → Completed, Failed or Stopped.

With the `patches.bedrock_jobs` patch the API keeps each job as Bedrock does; this simulator moves
it on in virtual time and emits `aws.bedrock` / `Model Customization Job State Change` (the shape
of `events/bedrock_customization_job_completed.json`; "How EventBridge for Amazon Bedrock works")
at every change of state — Bedrock publishes an event "whenever there is a change in the state of
a job that you submit", best effort:

- CreateModelCustomizationJob: the job is `InProgress` (event `InProgress`).
- after `duration`, by `outcome`:
    completed      the custom model exists (GetCustomModel / ListCustomModels, tagged with the
                   job's customModelTags), the job is `Completed` with its `outputModelArn`, and
                   Bedrock's training artifacts are in the job's output prefix:
                   `<output s3Uri>/model-customization-job-<job id>/training_artifacts/
                   step_wise_training_metrics.csv` (step_number, epoch_number, training_loss,
                   perplexity) and, with a validation set, `validation_artifacts/
                   post_fine_tuning_validation/validation_metrics.csv` (validation_loss)
                   ("Analyze the results of a model customization job"); event `Completed`.
    failed         `Failed` with `failure_message`; event `Failed`.
    never_reports  nothing: the job stays `InProgress` for ever, and no event comes.
  `lose_event: true` ends the job as its outcome says but loses the end's event (delivery is best
  effort): only GetModelCustomizationJob tells.
- StopModelCustomizationJob: `Stopping` (event), then after `stop_duration` `Stopped` (event) —
  a never-reporting job too.

Settings (scenario `simulators.bedrock_customization`, or a `configure` step):
  duration: 2h                  (virtual time from creation to the end)
  outcome: completed | failed | never_reports      (default completed)
  failure_message: "..."        (the Failed job's failureMessage)
  lose_event: false             (true: no event for the job's end)
  stop_duration: 5m             (from Stopping to Stopped)
  training_loss: 0.35           (the last step's training loss written to the metrics)
  next: [{outcome: failed}, ...] (per-job overrides, used in order by the next jobs)
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from botocore.exceptions import ClientError

from aiops.units import duration_seconds
from aiops_local.patches import bedrock_jobs
from aiops_local.patches.botocore_calls import ApiCall
from aiops_local.simulators.base import Simulator, SimulatorHost, register
from aiops_local.simulators.settings import (
    RunSettings,
    check_choice,
    check_durations,
    check_known,
    check_number,
    check_text,
)

DETAIL_TYPE = "Model Customization Job State Change"
OUTCOMES = ("completed", "failed", "never_reports")
DEFAULT_FAILURE = (
    "Validation error: record 3412 of the training data does not match the required format: "
    "messages must alternate between user and assistant roles."
)
_SETTINGS = (
    "duration",
    "outcome",
    "failure_message",
    "lose_event",
    "stop_duration",
    "training_loss",
)
_MAX_DAYS = 30  # Bedrock stops a customization job after at most 30 days
_STEPS = 10  # rows of the metrics CSV: small, as a short job writes


@dataclass
class CustomizationRun:
    """A job the simulator runs, and how it ended."""

    arn: str
    name: str
    started: datetime
    settings: dict[str, Any]
    status: str = "InProgress"
    event_lost: bool = False


def _check(settings: dict[str, Any]) -> None:
    name = BedrockCustomizationSimulator.name
    check_known(name, settings, _SETTINGS)
    check_choice(name, settings, "outcome", OUTCOMES)
    check_durations(name, settings, ("duration", "stop_duration"), _MAX_DAYS)
    check_text(name, settings, "failure_message", 2048)
    if "lose_event" in settings and not isinstance(settings["lose_event"], bool):
        raise ValueError(f"{name}: lose_event is true or false")
    check_number(name, settings, "training_loss", 0, 100)


@register
class BedrockCustomizationSimulator(Simulator):
    name = "bedrock_customization"
    watches: ClassVar[frozenset[tuple[str, str]]] = frozenset(
        {("bedrock", "CreateModelCustomizationJob"), ("bedrock", "StopModelCustomizationJob")}
    )

    def __init__(self, host: SimulatorHost) -> None:
        super().__init__(host)
        self.settings = RunSettings(
            self.name,
            {
                "duration": "2h",
                "outcome": "completed",
                "failure_message": DEFAULT_FAILURE,
                "lose_event": False,
                "stop_duration": "5m",
                "training_loss": 0.35,
            },
            _check,
        )
        self._runs: dict[str, CustomizationRun] = {}
        self._lock = threading.Lock()

    def configure(self, settings: dict[str, Any]) -> None:
        self.settings.configure(settings)

    @property
    def runs(self) -> list[CustomizationRun]:
        """Every job run so far, oldest first."""
        with self._lock:
            return list(self._runs.values())

    # ------------------------------------------------------------------ calls
    def on_call(self, call: ApiCall) -> None:
        if call.error is not None or call.result is None:
            return
        if call.operation == "StopModelCustomizationJob":
            self._stopped(str(call.params["jobIdentifier"]))
            return
        arn = str(call.result["jobArn"])
        with self._lock:
            if arn in self._runs:
                return  # an idempotent retry: the same job
            settings = self.settings.for_next_run()
            run = CustomizationRun(
                arn=arn,
                name=str(call.params["jobName"]),
                started=self.host.clock.now(),
                settings=settings,
            )
            self._runs[arn] = run
        self._emit(run)
        if settings["outcome"] != "never_reports":
            self.host.agenda.after(
                duration_seconds(settings["duration"]),
                f"customization job {run.name} ends",
                lambda: self._finish(run),
            )

    def _stopped(self, identifier: str) -> None:
        host = self.host
        try:
            job = bedrock_jobs.find_customization_job(host.account, host.region, identifier)
        except KeyError:
            return
        run = self._runs.get(job.job_arn)
        if run is None or job.status != "Stopping":
            return
        run.status = "Stopping"
        self._emit(run)
        host.agenda.after(
            duration_seconds(run.settings["stop_duration"]),
            f"customization job {run.name} stops",
            lambda: self._finish(run, stopped=True),
        )

    # ------------------------------------------------------------------ the end of a job
    def _finish(self, run: CustomizationRun, stopped: bool = False) -> None:
        if run.status not in ("InProgress", "Stopping") or (run.status == "Stopping") != stopped:
            return  # already ended, or stopped before its natural end: the stop ends it
        host = self.host
        when = host.clock.now()
        outcome = "stopped" if stopped else run.settings["outcome"]
        try:
            if outcome == "completed":
                job = bedrock_jobs.find_customization_job(host.account, host.region, run.arn)
                try:
                    losses = self._write_artifacts(job)
                except ClientError as error:
                    # Bedrock cannot write to the output location: the job fails.
                    outcome = "failed"
                    run.settings["failure_message"] = (
                        f"Unable to write the output to {job.output_data_config['s3Uri']}: "
                        f"{error.response.get('Error', {}).get('Code', 'AccessDenied')}"
                    )
                else:
                    bedrock_jobs.complete_customization_job(
                        host.account, host.region, run.arn, when, *losses
                    )
                    run.status = "Completed"
            if outcome == "failed":
                bedrock_jobs.set_customization_status(
                    host.account,
                    host.region,
                    run.arn,
                    "Failed",
                    when,
                    str(run.settings["failure_message"]),
                )
                run.status = "Failed"
            elif outcome == "stopped":
                bedrock_jobs.set_customization_status(
                    host.account, host.region, run.arn, "Stopped", when
                )
                run.status = "Stopped"
        except KeyError:
            return  # moto was reset under the job
        if run.settings["lose_event"] and not stopped:
            run.event_lost = True
            return
        self._emit(run)

    def _write_artifacts(self, job: Any) -> tuple[float, float | None]:
        """Bedrock's metrics files in the job's output prefix; the last losses."""
        uri = str(job.output_data_config["s3Uri"])
        bucket, _, prefix = uri[len("s3://") :].partition("/")
        prefix = prefix.rstrip("/")
        root = f"{prefix}/" if prefix else ""
        root += f"model-customization-job-{bedrock_jobs.job_id(job)}"
        epochs = max(1, int(float((job.hyper_parameters or {}).get("epochCount", 2))))
        last = self._loss(job)
        rows = ["step_number,epoch_number,training_loss,perplexity"]
        for step in range(_STEPS):
            loss = last + (2.5 - last) * (1 - (step + 1) / _STEPS) ** 2
            epoch = min(epochs - 1, step * epochs // _STEPS)
            rows.append(f"{step},{epoch},{loss:.6f},{math.exp(loss):.6f}")
        self.host.put_object(
            bucket,
            f"{root}/training_artifacts/step_wise_training_metrics.csv",
            ("\n".join(rows) + "\n").encode(),
            content_type="text/csv",
        )
        if not (job.validation_data_config or {}).get("validators"):
            return last, None
        validation = last * 1.15
        rows = ["step_number,epoch_number,validation_loss,perplexity"]
        for epoch in range(epochs):
            loss = validation + 0.2 * (epochs - 1 - epoch)
            rows.append(
                f"{(epoch + 1) * _STEPS // epochs - 1},{epoch},{loss:.6f},{math.exp(loss):.6f}"
            )
        self.host.put_object(
            bucket,
            f"{root}/validation_artifacts/post_fine_tuning_validation/validation_metrics.csv",
            ("\n".join(rows) + "\n").encode(),
            content_type="text/csv",
        )
        return last, validation

    def _loss(self, job: Any) -> float:
        run = self._runs.get(job.job_arn)
        return float(run.settings["training_loss"]) if run is not None else 0.35

    def _emit(self, run: CustomizationRun) -> None:
        host = self.host
        try:
            job = bedrock_jobs.find_customization_job(host.account, host.region, run.arn)
        except KeyError:
            return
        host.events.emit(
            "aws.bedrock",
            DETAIL_TYPE,
            bedrock_jobs.customization_event_detail(job),
            resources=[run.arn],
        )
