"""SageMaker Ground Truth labeling jobs: InProgress → Completed, Failed or Stopped.

With the `patches.sagemaker_labeling_jobs` patch the API keeps each job as SageMaker does; this
simulator moves it on in virtual time, as a private workforce answering customer questions in a
custom labeling workflow would, and emits `aws.sagemaker` / `SageMaker Ground Truth Labeling Job
State Change` (the shape of `events/ground_truth_labeling_job_completed.json`: `detail` is
`{"LabelingJobStatus": ...}` and nothing else, `resources` the job's ARN). Ground Truth sends the
event when a job's status changes to Completed, Failed or Stopped ("Monitor Labeling Job
Status"), so none comes for InProgress.

- CreateLabelingJob: the job is `InProgress`.
- after `duration`, by `outcome`:
    completed  the labelers answered every object of the job's input manifest (JSON lines, each
               with a `source`: the customer's question; "Input data"). The output manifest is
               written where Ground Truth writes it ("Labeling job output data"):
               `<S3OutputPath>/<job name>/manifests/output/output.manifest`, one JSON line per
               input line, the input line with the label attribute and its metadata added:
               `{"source": <question>, "<label attribute>": {"answer": <the agent's answer>},
               "<label attribute>-metadata": {"type": "groundtruth/custom", "job-name": <job
               name>, "human-annotated": "yes", "creation-date": "2026-11-20T10:00:00.000000"}}`.
               A `blank_share` of the answers are empty (`{"answer": ""}`: labelers who submitted
               nothing). The job is `Completed` with its counters and
               `LabelingJobOutput.OutputDatasetS3Uri`; event `Completed`.
               An input manifest that cannot be read (missing, not JSON lines, no `source`) or an
               output path that cannot be written fails the job instead, with the reason.
    failed     `Failed` with `failure_reason`; event `Failed`.
- StopLabelingJob: `Stopping`, then after `stop_duration` `Stopped` (event), no output manifest.

The answers: a question made by `labels_data` (a customer's first message about an order) is
answered with the support agent's answer to that issue, for that order; any other question gets
a polite generic answer.

Settings (scenario `simulators.ground_truth`, or a `configure` step):
  duration: 1h                  (virtual time from creation to the end)
  outcome: completed | failed   (default completed)
  failure_reason: "..."         (the Failed job's FailureReason)
  blank_share: 0.0              (share of empty answers, 0 to 1)
  stop_duration: 5m             (from Stopping to Stopped)
  next: [{outcome: failed}, ...] (per-job overrides, used in order by the next jobs)
`plan(job name, settings)` gives one job its own settings (the `labeling_job` scenario step).
"""

from __future__ import annotations

import json
import random
import re
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from botocore.exceptions import ClientError

from aiops.units import duration_seconds
from aiops_local import labels_data
from aiops_local.patches import sagemaker_labeling_jobs as labeling_jobs
from aiops_local.patches.botocore_calls import ApiCall
from aiops_local.simulators.base import Simulator, SimulatorHost, register
from aiops_local.simulators.settings import (
    RunSettings,
    check_choice,
    check_durations,
    check_known,
    check_text,
    number_within,
)

DETAIL_TYPE = "SageMaker Ground Truth Labeling Job State Change"
OUTCOMES = ("completed", "failed")
METADATA_TYPE = "groundtruth/custom"
DEFAULT_FAILURE = (
    "ClientError: The labeling job ran out of time: workers did not complete the tasks before "
    "TaskAvailabilityLifetimeInSeconds expired."
)
GENERIC_ANSWER = (
    "Thanks for reaching out. I've looked into your request and added a note to your account; "
    "you'll get an email with the next step within one business day."
)
_SETTINGS = ("duration", "outcome", "failure_reason", "blank_share", "stop_duration")
_MAX_DAYS = 30  # a task is available at most 30 days (TaskAvailabilityLifetime)
_ORDER = re.compile(r"\(order (#\d+)\)")


@dataclass
class LabelingRun:
    """A job the simulator runs, and how it ended."""

    name: str
    arn: str
    started: datetime
    settings: dict[str, Any]
    status: str = "InProgress"
    labeled: int = 0
    blank: int = 0


def _check(settings: dict[str, Any]) -> None:
    name = GroundTruthSimulator.name
    check_known(name, settings, _SETTINGS)
    check_choice(name, settings, "outcome", OUTCOMES)
    check_durations(name, settings, ("duration", "stop_duration"), _MAX_DAYS)
    check_text(name, settings, "failure_reason", 1024)
    share = settings.get("blank_share", 0.0)
    if not number_within(share, 0, 1):
        raise ValueError(f"{name}: blank_share must be a number from 0 to 1, not {share!r}")


def support_questions(count: int, seed: int = 0) -> list[str]:
    """`count` customer questions: the first message of `labels_data`'s support chats."""
    rng = random.Random(seed)  # noqa: S311 — reproducible test data, not secrets
    return [labels_data.conversation(rng)[1][0][0] for _ in range(count)]


def agent_answer(question: str) -> str:
    """The support agent's answer to a customer's question: the answer `labels_data` gives to
    the issue the question raises, for its order; a generic answer to anything else."""
    order = _ORDER.search(question)
    for issue, answer in labels_data.ISSUES:
        if issue in question and order is not None:
            return answer.format(order=order.group(1))
    return GENERIC_ANSWER


def input_manifest(questions: list[str]) -> bytes:
    """A Ground Truth input manifest of text objects: `{"source": <text>}` a line."""
    return b"".join(
        json.dumps({"source": q}, ensure_ascii=False).encode() + b"\n" for q in questions
    )


def _split(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://"):
        raise ValueError(f"{uri} is not an s3:// location")
    bucket, _, key = uri[len("s3://") :].partition("/")
    return bucket, key


class _JobFails(Exception):
    """The job cannot go on: its FailureReason."""


@register
class GroundTruthSimulator(Simulator):
    name = "ground_truth"
    watches: ClassVar[frozenset[tuple[str, str]]] = frozenset(
        {("sagemaker", "CreateLabelingJob"), ("sagemaker", "StopLabelingJob")}
    )

    def __init__(self, host: SimulatorHost) -> None:
        super().__init__(host)
        self.settings = RunSettings(
            self.name,
            {
                "duration": "1h",
                "outcome": "completed",
                "failure_reason": DEFAULT_FAILURE,
                "blank_share": 0.0,
                "stop_duration": "5m",
            },
            _check,
        )
        self._planned: dict[str, dict[str, Any]] = {}
        self._runs: dict[str, LabelingRun] = {}
        self._lock = threading.Lock()

    def configure(self, settings: dict[str, Any]) -> None:
        self.settings.configure(settings)

    def plan(self, job_name: str, settings: dict[str, Any]) -> None:
        """Settings for the job of that name only, used when it is created."""
        _check(settings)
        with self._lock:
            self._planned[job_name] = dict(settings)

    @property
    def runs(self) -> list[LabelingRun]:
        """Every job run so far, oldest first."""
        with self._lock:
            return list(self._runs.values())

    # ------------------------------------------------------------------ calls
    def on_call(self, call: ApiCall) -> None:
        if call.error is not None or call.result is None:
            return
        name = str(call.params["LabelingJobName"])
        if call.operation == "StopLabelingJob":
            self._stopped(name)
            return
        with self._lock:
            settings = self.settings.for_next_run(self._planned.pop(name, None))
            run = LabelingRun(
                name=name,
                arn=str(call.result["LabelingJobArn"]),
                started=self.host.clock.now(),
                settings=settings,
            )
            self._runs[name] = run
        self.host.agenda.after(
            duration_seconds(settings["duration"]),
            f"labeling job {name} ends",
            lambda: self._finish(run),
        )

    def _stopped(self, name: str) -> None:
        run = self._runs.get(name)
        if run is None or run.status != "InProgress":
            return
        run.status = "Stopping"
        self.host.agenda.after(
            duration_seconds(run.settings["stop_duration"]),
            f"labeling job {name} stops",
            lambda: self._end_stop(run),
        )

    # ------------------------------------------------------------------ the end of a job
    def _end_stop(self, run: LabelingRun) -> None:
        host = self.host
        try:
            job = labeling_jobs.set_status(
                host.account,
                host.region,
                run.name,
                "Stopped",
                host.clock.now(),
                only_from=("Stopping",),
            )
        except KeyError:
            return  # moto was reset under the job
        if job is None:
            return
        run.status = "Stopped"
        self._emit(run)

    def _finish(self, run: LabelingRun) -> None:
        if run.status != "InProgress":
            return  # stopped before its natural end: the stop ends it
        host = self.host
        when = host.clock.now()
        try:
            job = labeling_jobs.find(host.account, host.region, run.name)
        except KeyError:
            return
        if job.status != "InProgress":
            return
        reason: str | None = None
        if run.settings["outcome"] == "failed":
            reason = str(run.settings["failure_reason"])
        else:
            try:
                run.labeled, run.blank = self._label(job, run, when)
            except _JobFails as failure:
                reason = str(failure)
        if reason is None:
            ended = labeling_jobs.complete(host.account, host.region, run.name, when, run.labeled)
            status = "Completed"
        else:
            ended = labeling_jobs.set_status(
                host.account, host.region, run.name, "Failed", when, reason, ("InProgress",)
            )
            status = "Failed"
        if ended is None:
            return
        run.status = status
        self._emit(run)

    def _label(self, job: Any, run: LabelingRun, when: datetime) -> tuple[int, int]:
        """Write the output manifest; (objects labeled, blank answers)."""
        lines = self._read_input(job)
        attribute = job.label_attribute_name
        rng = random.Random(f"{job.arn}")  # noqa: S311 — which answers are blank, reproducibly
        blanks = set(
            rng.sample(range(len(lines)), round(len(lines) * float(run.settings["blank_share"])))
        )
        span = max(1.0, (when - run.started).total_seconds())
        out: list[bytes] = []
        for index, record in enumerate(lines):
            question = record.get("source")
            answer = "" if index in blanks else agent_answer(str(question or ""))
            # Labels arrive one after another while the job runs.
            received = run.started + timedelta(seconds=span * (index + 1) / len(lines))
            labeled = dict(record)
            labeled[attribute] = {"answer": answer}
            labeled[f"{attribute}-metadata"] = {
                "type": METADATA_TYPE,
                "job-name": job.name,
                "human-annotated": "yes",
                "creation-date": received.replace(tzinfo=None).isoformat(timespec="microseconds"),
            }
            out.append(json.dumps(labeled, ensure_ascii=False).encode() + b"\n")
        try:
            bucket, key = _split(job.output_manifest_s3_uri)
            self.host.put_object(bucket, key, b"".join(out), content_type="application/jsonlines")
        except (ValueError, ClientError) as error:
            raise _JobFails(
                f"ClientError: Unable to write the output manifest to "
                f"{job.output_manifest_s3_uri}: {_reason(error)}"
            ) from None
        return len(lines), len(blanks)

    def _read_input(self, job: Any) -> list[dict[str, Any]]:
        uri = job.manifest_s3_uri
        if uri is None:
            raise _JobFails(
                "ClientError: Streaming labeling jobs (SnsDataSource) do not run offline."
            )
        try:
            bucket, key = _split(uri)
            body = self.host.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
        except (ValueError, ClientError) as error:
            raise _JobFails(
                f"ClientError: Unable to read the input manifest {uri}: {_reason(error)}"
            ) from None
        records: list[dict[str, Any]] = []
        for number, line in enumerate(body.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                record = None
            if not isinstance(record, dict) or not (
                isinstance(record.get("source"), str) or isinstance(record.get("source-ref"), str)
            ):
                raise _JobFails(
                    f"ClientError: Line {number} of the input manifest {uri} is not a JSON object "
                    "with a source or source-ref."
                )
            records.append(record)
        if not records:
            raise _JobFails(f"ClientError: The input manifest {uri} holds no data objects.")
        return records

    def _emit(self, run: LabelingRun) -> None:
        self.host.events.emit(
            "aws.sagemaker", DETAIL_TYPE, {"LabelingJobStatus": run.status}, resources=[run.arn]
        )


def _reason(error: Exception) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", "AccessDenied"))
    return str(error)
