"""Bedrock automatic model evaluation jobs: InProgress → Completed or Failed, with their output.

With the `patches.bedrock_jobs` patch the API keeps each evaluation job; this simulator ends it
in virtual time. Bedrock sends no EventBridge event for evaluation jobs (the `aws.bedrock`
detail-types are customization, batch inference and data automation jobs: "Amazon Bedrock
events", EventBridge reference), so nothing is emitted: GetEvaluationJob tells.

On completion, for each `datasetMetricConfigs` entry the job reads its prompts — a custom
dataset's JSONL from S3 (`{"prompt", "referenceResponse", "category"}` a line, at most 1,000
prompts: "Custom prompt dataset"), or 100 prompts of a built-in one — and writes where an
automatic evaluation job writes ("Understand how the results of your model evaluation job are
saved in Amazon S3"):

    <output s3Uri>/<job name>/<job uuid>/models/<model id>/taskTypes/<task type>/datasets/
        <dataset name>/<file uuid>_output.jsonl

`<model id>` is the model identifier (an ARN's resource id: the part after its last `/`), or the
precomputed inference source's identifier. One JSON object a line, per prompt:

    {"automatedEvaluationResult": {"scores": [{"metricName": "Accuracy", "result": 0.93},
                                              ...one per metric of the entry]},
     "inputRecord": <the dataset's line>,
     "modelResponses": [{"response": "...", "modelIdentifier": "<the model identifier>"}]}

A job of a Bedrock model (`bedrockModel`): a `quality` share of the prompts (chosen by the job,
reproducibly) are answered with the referenceResponse itself; the others with a partial
paraphrase of it (every other word kept, the rest replaced), so a ROUGE-L of responses against
references grows with `quality`. A `toxic_share` share of the prompts score Builtin.Toxicity
about 0.9, the rest about 0.01.

A job of a precomputed inference source ("bring your own inference responses"): nothing is
invoked; each dataset line must carry `modelResponses`, exactly one `{"response": <text>,
"modelIdentifier": <the job's inferenceSourceIdentifier>}`, and the output echoes it. The
responses are scored by their content: Builtin.Toxicity about 0.9 for a response holding one of
`patches.bedrock_runtime.TOXIC_PHRASES`, about 0.01 otherwise; `quality` and `toxic_share` do
not apply. A line without its response fails the job, naming the line.

Either way, Builtin.Accuracy is a token-overlap similarity of response and referenceResponse
(a little below it), Builtin.Robustness plausible for it.

A missing or unreadable dataset, a line that is not a JSON object with a `prompt`, more than
1,000 prompts, or an output location that cannot be written fails the job with
`failureMessages` saying so, as does `outcome: failed`. StopEvaluationJob: `Stopping`, then
`Stopped` after `stop_duration`.

Settings (scenario `simulators.bedrock_evaluation`, or a `configure` step):
  duration: 30m           (virtual time from creation to the end)
  outcome: completed | failed
  quality: 0.8            (share of prompts answered exactly; 0 to 1; bedrockModel jobs only)
  toxic_share: 0.0        (share of prompts with a toxic answer; 0 to 1; bedrockModel jobs only)
  failure_message: "..."  (the Failed job's failureMessages[0])
  stop_duration: 1m
  next: [{quality: 0.2}, ...]  (per-job overrides, used in order by the next jobs)
"""

from __future__ import annotations

import json
import random
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from botocore.exceptions import ClientError

from aiops.units import duration_seconds
from aiops_local.patches import bedrock_jobs
from aiops_local.patches.bedrock_runtime import TOXIC_PHRASES, paraphrase
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

OUTCOMES = ("completed", "failed")
DEFAULT_FAILURE = (
    "The evaluation job failed: the model could not be invoked for 312 of 500 prompts "
    "(ThrottlingException)."
)
_SETTINGS = ("duration", "outcome", "quality", "toxic_share", "failure_message", "stop_duration")
_MAX_DAYS = 30
_BUILTIN_PROMPTS = 100  # "We have randomly down sampled each open-source dataset to 100 prompts"
_DATASET_MAX_BYTES = 64 * 1024 * 1024  # read no more than this of a dataset


@dataclass
class EvaluationRun:
    arn: str
    name: str
    started: datetime
    settings: dict[str, Any]
    status: str = "InProgress"
    output_keys: tuple[str, ...] = ()


class DatasetProblem(ValueError):
    """The dataset cannot be evaluated: the job fails with this message."""


def _check(settings: dict[str, Any]) -> None:
    name = BedrockEvaluationSimulator.name
    check_known(name, settings, _SETTINGS)
    check_choice(name, settings, "outcome", OUTCOMES)
    for key in ("quality", "toxic_share"):
        check_number(name, settings, key, 0, 1)
    check_durations(name, settings, ("duration", "stop_duration"), _MAX_DAYS)
    check_text(name, settings, "failure_message", 2048)


def is_toxic_text(response: str) -> bool:
    """A precomputed response is scored by what it says: toxic when it holds a toxic phrase."""
    lowered = response.lower()
    return any(phrase in lowered for phrase in TOXIC_PHRASES)


def _token_f1(response: str, reference: str) -> float:
    got, want = response.lower().split(), reference.lower().split()
    if not got or not want:
        return 0.0
    common = sum(min(got.count(w), want.count(w)) for w in set(got))
    if common == 0:
        return 0.0
    precision, recall = common / len(got), common / len(want)
    return 2 * precision * recall / (precision + recall)


def _chosen(count: int, share: float, seed: str) -> set[int]:
    """Exactly round(share * count) of the indices 0..count-1, reproducibly for the seed."""
    indices = list(range(count))
    random.Random(seed).shuffle(indices)  # noqa: S311 - simulated data, not security
    return set(indices[: round(share * count)])


def _s3_location(uri: str) -> tuple[str, str]:
    bucket, _, key = uri[len("s3://") :].partition("/")
    return bucket, key


@register
class BedrockEvaluationSimulator(Simulator):
    name = "bedrock_evaluation"
    watches: ClassVar[frozenset[tuple[str, str]]] = frozenset(
        {("bedrock", "CreateEvaluationJob"), ("bedrock", "StopEvaluationJob")}
    )

    def __init__(self, host: SimulatorHost) -> None:
        super().__init__(host)
        self.settings = RunSettings(
            self.name,
            {
                "duration": "30m",
                "outcome": "completed",
                "quality": 0.8,
                "toxic_share": 0.0,
                "failure_message": DEFAULT_FAILURE,
                "stop_duration": "1m",
            },
            _check,
        )
        self._runs: dict[str, EvaluationRun] = {}
        self._lock = threading.Lock()

    def configure(self, settings: dict[str, Any]) -> None:
        self.settings.configure(settings)

    @property
    def runs(self) -> list[EvaluationRun]:
        with self._lock:
            return list(self._runs.values())

    # ------------------------------------------------------------------ calls
    def on_call(self, call: ApiCall) -> None:
        if call.error is not None or call.result is None:
            return
        if call.operation == "StopEvaluationJob":
            self._stopped(str(call.params["jobIdentifier"]))
            return
        arn = str(call.result["jobArn"])
        with self._lock:
            if arn in self._runs:
                return  # an idempotent retry: the same job
            settings = self.settings.for_next_run()
            run = EvaluationRun(
                arn=arn,
                name=str(call.params["jobName"]),
                started=self.host.clock.now(),
                settings=settings,
            )
            self._runs[arn] = run
        self.host.agenda.after(
            duration_seconds(settings["duration"]),
            f"evaluation job {run.name} ends",
            lambda: self._finish(run),
        )

    def _stopped(self, identifier: str) -> None:
        host = self.host
        try:
            job = bedrock_jobs.find_evaluation_job(host.account, host.region, identifier)
        except KeyError:
            return
        run = self._runs.get(job.arn)
        if run is None or job.status != "Stopping" or run.status != "InProgress":
            return
        run.status = "Stopping"
        host.agenda.after(
            duration_seconds(run.settings["stop_duration"]),
            f"evaluation job {run.name} stops",
            lambda: self._end(run, "Stopped"),
        )

    def _end(self, run: EvaluationRun, status: str, messages: list[str] | None = None) -> None:
        host = self.host
        try:
            bedrock_jobs.set_evaluation_status(
                host.account, host.region, run.arn, status, host.clock.now(), messages
            )
        except KeyError:
            return  # moto was reset under the job
        run.status = status

    # ------------------------------------------------------------------ the end of a job
    def _finish(self, run: EvaluationRun) -> None:
        if run.status != "InProgress":
            return  # stopped before its end
        if run.settings["outcome"] == "failed":
            self._end(run, "Failed", [str(run.settings["failure_message"])])
            return
        host = self.host
        try:
            job = bedrock_jobs.find_evaluation_job(host.account, host.region, run.arn)
        except KeyError:
            return
        try:
            outputs = [self._evaluate(run, job, config) for config in job.dataset_metric_configs]
        except DatasetProblem as problem:
            self._end(run, "Failed", [str(problem)])
            return
        keys: list[str] = []
        out_bucket, _ = _s3_location(str(job.output_data_config["s3Uri"]))
        try:
            for key, body in outputs:
                host.put_object(out_bucket, key, body, content_type="application/jsonl")
                keys.append(key)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "AccessDenied")
            self._end(
                run,
                "Failed",
                [f"Unable to write the results to {job.output_data_config['s3Uri']}: {code}"],
            )
            return
        run.output_keys = tuple(keys)
        self._end(run, "Completed")

    def _model_id(self, job: bedrock_jobs.EvaluationJob) -> tuple[str, str]:
        """(the identifier responses name, the `<model id>` of the output path)."""
        model = job.model
        if "bedrockModel" in model:
            identifier = str(model["bedrockModel"]["modelIdentifier"])
        else:
            identifier = str(model["precomputedInferenceSource"]["inferenceSourceIdentifier"])
        return identifier, identifier.rsplit("/", 1)[-1]

    def _evaluate(
        self, run: EvaluationRun, job: bedrock_jobs.EvaluationJob, config: dict[str, Any]
    ) -> tuple[str, bytes]:
        dataset = config["dataset"]
        records = self._records(dataset)
        identifier, model_dir = self._model_id(job)
        precomputed = "precomputedInferenceSource" in job.model
        seed = f"{job.arn}/{dataset['name']}"
        exact = _chosen(len(records), float(run.settings["quality"]), f"{seed}/quality")
        toxic = _chosen(len(records), float(run.settings["toxic_share"]), f"{seed}/toxicity")
        noise = random.Random(f"{seed}/noise")  # noqa: S311 - simulated scores
        lines = []
        for index, record in enumerate(records):
            reference = str(record.get("referenceResponse") or "")
            if precomputed:
                responses = self._precomputed_responses(record, index, identifier)
                response = str(responses[0]["response"])
                toxic_answer = is_toxic_text(response)
            else:
                response = reference if index in exact else paraphrase(reference)
                responses = [{"response": response, "modelIdentifier": identifier}]
                toxic_answer = index in toxic
            accuracy = _token_f1(response, reference) if reference else noise.uniform(0.3, 0.7)
            scores = []
            for metric in config["metricNames"]:
                if metric == "Builtin.Accuracy":
                    value = min(1.0, max(0.0, accuracy * noise.uniform(0.92, 1.0)))
                elif metric == "Builtin.Robustness":
                    value = noise.uniform(0.02, 0.12) + 0.25 * (1 - accuracy)
                else:  # Builtin.Toxicity
                    value = noise.uniform(0.85, 0.95) if toxic_answer else noise.uniform(0.0, 0.02)
                # The output names a metric without its "Builtin." prefix (the user guide's
                # example: "metricName": "Accuracy").
                name = metric.removeprefix("Builtin.")
                scores.append({"metricName": name, "result": round(value, 4)})
            lines.append(
                json.dumps(
                    {
                        "automatedEvaluationResult": {"scores": scores},
                        "inputRecord": record,
                        "modelResponses": responses,
                    }
                )
            )
        prefix = str(job.output_data_config["s3Uri"])[len("s3://") :].partition("/")[2]
        prefix = f"{prefix.rstrip('/')}/" if prefix.strip("/") else ""
        job_uuid = uuid.uuid5(uuid.NAMESPACE_URL, job.arn)
        file_uuid = uuid.uuid5(uuid.NAMESPACE_URL, seed)
        key = (
            f"{prefix}{job.name}/{job_uuid}/models/{model_dir}/taskTypes/{config['taskType']}/"
            f"datasets/{dataset['name']}/{file_uuid}_output.jsonl"
        )
        return key, ("\n".join(lines) + "\n").encode()

    @staticmethod
    def _precomputed_responses(
        record: dict[str, Any], index: int, identifier: str
    ) -> list[dict[str, Any]]:
        """The line's own `modelResponses`: one response, by the job's inference source."""
        responses = record.get("modelResponses")
        where = f"Record {index + 1} of the dataset"
        if not isinstance(responses, list) or not responses:
            raise DatasetProblem(
                f"{where} has no modelResponses: a job with a precomputed inference source "
                f"({identifier}) reads each prompt's response from the dataset."
            )
        if len(responses) != 1:
            raise DatasetProblem(
                f"{where} has {len(responses)} modelResponses: an automatic evaluation job "
                "evaluates one model, so each prompt carries exactly one response."
            )
        (response,) = responses
        if not isinstance(response, dict) or not isinstance(response.get("response"), str):
            raise DatasetProblem(f"{where}: modelResponses[0].response is not a text.")
        if response.get("modelIdentifier") != identifier:
            raise DatasetProblem(
                f"{where}: modelResponses[0].modelIdentifier is "
                f"{response.get('modelIdentifier')!r}, not the job's inferenceSourceIdentifier "
                f"{identifier!r}."
            )
        return [dict(response)]

    def _records(self, dataset: dict[str, Any]) -> list[dict[str, Any]]:
        name = str(dataset["name"])
        if name.startswith("Builtin."):
            return [
                {
                    "prompt": f"{name} prompt {n}: tell me about topic {n}.",
                    "referenceResponse": f"Topic {n} is a well known subject with facts.",
                    "category": f"category-{n % 5}",
                }
                for n in range(1, _BUILTIN_PROMPTS + 1)
            ]
        uri = str(dataset["datasetLocation"]["s3Uri"])
        bucket, key = _s3_location(uri)
        try:
            obj = self.host.client("s3").get_object(Bucket=bucket, Key=key)
            data = obj["Body"].read(_DATASET_MAX_BYTES + 1)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "AccessDenied")
            raise DatasetProblem(f"Unable to read the dataset {uri}: {code}") from None
        if len(data) > _DATASET_MAX_BYTES:
            raise DatasetProblem(f"The dataset {uri} is too large to evaluate.")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise DatasetProblem(f"The dataset {uri} is not UTF-8 JSON lines.") from None
        records: list[dict[str, Any]] = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except (ValueError, RecursionError):
                raise DatasetProblem(
                    f"Line {number} of the dataset {uri} is not valid JSON."
                ) from None
            if not isinstance(record, dict) or not isinstance(record.get("prompt"), str):
                raise DatasetProblem(
                    f"Line {number} of the dataset {uri} is not a JSON object with a prompt."
                )
            records.append(record)
            if len(records) > bedrock_jobs.MAX_CUSTOM_PROMPTS:
                raise DatasetProblem(
                    f"The dataset {uri} has more than {bedrock_jobs.MAX_CUSTOM_PROMPTS} prompts: "
                    "an automatic evaluation job takes at most 1000."
                )
        if not records:
            raise DatasetProblem(f"The dataset {uri} has no prompts.")
        return records
