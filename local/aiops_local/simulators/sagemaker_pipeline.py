"""SageMaker pipeline executions: Executing → Succeeded or Failed, as the scenario says.

moto accepts StartPipelineExecution but never runs anything. For each new execution this
simulator waits (virtual time), then, on success, does what a training pipeline's last steps do —
writes `evaluation.json` to the artifacts bucket and registers a model package
(PendingManualApproval, with those metrics) in the model's package group — and finally emits the
"SageMaker Model Building Pipeline Execution Status Change" event.

Settings (scenario `simulators.sagemaker_pipeline`, or a `configure` step):
  outcome: succeeded | failed      (default succeeded)
  duration: 20m                    (virtual time from start to end)
  metrics: {auc: 0.81}             (written to evaluation.json)
  failure_reason: "..."            (when failed: the execution's and its failed step's reason)
  failed_step: TrainModel          (the step that failed)
  next: [{outcome: failed}, ...]   (per-run overrides, used in order by the next executions)
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from aiops.units import duration_seconds
from aiops_local.clock import iso
from aiops_local.patches import sagemaker_pipelines
from aiops_local.patches.botocore_calls import ApiCall
from aiops_local.simulators.base import Simulator, SimulatorHost, register

_XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
_RUN_ID_PARAMETERS = ("RunId", "run_id", "RunID", "runId")
_SETTINGS = ("outcome", "duration", "metrics", "failure_reason", "failed_step")
# How long a stopped execution takes to reach `Stopped` (SageMaker stops its running steps).
_STOP_SECONDS = 60


@dataclass(frozen=True)
class _Run:
    pipeline: str
    arn: str
    display_name: str
    description: str
    run_id: str
    started: datetime
    settings: dict[str, Any]


@register
class SageMakerPipelineSimulator(Simulator):
    name = "sagemaker_pipeline"
    watches: ClassVar[frozenset[tuple[str, str]]] = frozenset(
        {("sagemaker", "StartPipelineExecution"), ("sagemaker", "StopPipelineExecution")}
    )

    def __init__(self, host: SimulatorHost) -> None:
        super().__init__(host)
        self.defaults: dict[str, Any] = {
            "outcome": "succeeded",
            "duration": "20m",
            "metrics": {"auc": 0.81},
            "failure_reason": "AlgorithmError: training step failed (simulated)",
            "failed_step": "TrainModel",
        }
        self.stopped: set[str] = set()
        self.next_runs: deque[dict[str, Any]] = deque()
        self.runs: list[_Run] = []

    def configure(self, settings: dict[str, Any]) -> None:
        settings = dict(settings)
        for override in settings.pop("next", []) or []:
            self._check(override)
            self.next_runs.append(dict(override))
        self._check(settings)
        self.defaults.update(settings)

    def _check(self, settings: dict[str, Any]) -> None:
        unknown = set(settings) - set(_SETTINGS)
        if unknown:
            raise ValueError(
                f"sagemaker_pipeline: unknown settings {sorted(unknown)}; "
                f"known: {', '.join(_SETTINGS)}, next"
            )
        if settings.get("outcome", "succeeded") not in ("succeeded", "failed"):
            raise ValueError("sagemaker_pipeline: outcome must be succeeded or failed")
        duration_seconds(settings.get("duration", "0s"))

    def on_call(self, call: ApiCall) -> None:
        if call.error is not None or call.result is None:
            return
        if call.operation == "StopPipelineExecution":
            self._stop(call.result["PipelineExecutionArn"])
            return
        arn = call.result["PipelineExecutionArn"]
        pipeline = arn.split(":pipeline/")[1].split("/")[0]
        parameters = {p["Name"]: p["Value"] for p in call.params.get("PipelineParameters", [])}
        run_id = next((parameters[k] for k in _RUN_ID_PARAMETERS if k in parameters), None)
        settings = dict(self.defaults)
        if self.next_runs:
            settings.update(self.next_runs.popleft())
        run = _Run(
            pipeline=pipeline,
            arn=arn,
            display_name=call.params.get("PipelineExecutionDisplayName") or arn.split("/")[-1],
            description=call.params.get("PipelineExecutionDescription", ""),
            run_id=str(run_id or call.params.get("PipelineExecutionDisplayName") or arn),
            started=self.host.clock.now(),
            settings=settings,
        )
        self.runs.append(run)
        host = self.host
        sagemaker_pipelines.set_status(host.account, host.region, arn, "Executing", run.started)
        host.agenda.after(
            duration_seconds(settings["duration"]),
            f"pipeline {pipeline} ends",
            lambda: self._finish(run),
        )

    # ------------------------------------------------------------------ the end of a run
    def _stop(self, arn: str) -> None:
        run = next((r for r in self.runs if r.arn == arn), None)
        if run is None or arn in self.stopped:
            return
        self.stopped.add(arn)
        self.host.agenda.after(
            _STOP_SECONDS, f"pipeline {run.pipeline} stops", lambda: self._finish(run, "Stopped")
        )

    def _finish(self, run: _Run, forced: str | None = None) -> None:
        if forced is None and run.arn in self.stopped:
            return  # stopped before its natural end: the stop ends it
        host = self.host
        ended = host.clock.now()
        succeeded = forced is None and run.settings["outcome"] == "succeeded"
        if succeeded:
            self._register_candidate(run)
        status = forced or ("Succeeded" if succeeded else "Failed")
        reason = None if status != "Failed" else str(run.settings["failure_reason"])
        sagemaker_pipelines.set_status(host.account, host.region, run.arn, status, ended, reason)
        if status == "Failed":
            sagemaker_pipelines.set_failed_step(
                host.account, host.region, run.arn, str(run.settings["failed_step"]), str(reason)
            )
        pipeline_arn = run.arn.split("/execution/")[0]
        host.events.emit(
            "aws.sagemaker",
            "SageMaker Model Building Pipeline Execution Status Change",
            {
                "pipelineExecutionDisplayName": run.display_name,
                "currentPipelineExecutionStatus": status,
                "previousPipelineExecutionStatus": "Stopping" if forced else "Executing",
                "executionStartTime": iso(run.started),
                "executionEndTime": iso(ended),
                "pipelineExecutionDescription": run.description,
                "pipelineArn": pipeline_arn,
                "pipelineExecutionArn": run.arn,
            },
            resources=[pipeline_arn, run.arn],
        )

    def _register_candidate(self, run: _Run) -> None:
        host = self.host
        model = host.policy.model_for_pipeline(run.pipeline)
        group = model.package_group if model is not None else run.pipeline
        bucket = host.artifacts_bucket
        execution_id = run.arn.split("/")[-1]
        prefix = f"pipelines/{run.pipeline}/{execution_id}"
        evaluation_key = f"{prefix}/EvaluateModel/output/evaluation/evaluation.json"
        host.put_object(
            bucket,
            evaluation_key,
            json.dumps({"metrics": run.settings["metrics"]}).encode(),
            content_type="application/json",
        )
        host.client("sagemaker").create_model_package(
            ModelPackageGroupName=group,
            ModelPackageDescription=f"Candidate from pipeline execution {execution_id}",
            ModelApprovalStatus="PendingManualApproval",
            MetadataProperties={"GeneratedBy": run.arn},
            CustomerMetadataProperties={"pipeline_execution_arn": run.arn, "run_id": run.run_id},
            ModelMetrics={
                "ModelQuality": {
                    "Statistics": {
                        "ContentType": "application/json",
                        "S3Uri": f"s3://{bucket}/{evaluation_key}",
                    }
                }
            },
            InferenceSpecification={
                "Containers": [
                    {
                        "Image": _XGBOOST_IMAGE,
                        "ModelDataUrl": f"s3://{bucket}/{prefix}/TrainModel/output/model.tar.gz",
                    }
                ],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
        )
