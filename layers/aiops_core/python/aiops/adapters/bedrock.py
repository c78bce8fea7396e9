"""Bedrock for the fine-tune workflow: customization jobs, evaluation jobs, the labeled files
they read and write (S3), and the fine-tuned candidates in the SageMaker Model Registry."""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from aiops.adapters.aws import AwsAdapter, error_code
from aiops.adapters.s3 import S3Objects
from aiops.adapters.sagemaker import SageMakerRegistry
from aiops.finetune.model import (
    RUN_KEY,
    CustomizationRequest,
    CustomizationStatus,
    EvaluatedRecord,
    EvaluationRequest,
    EvaluationStatus,
    LabelingJob,
    StagedModel,
)
from aiops.registry import Candidate
from aiops.runs.window import ObjectRef
from aiops.storage import ObjectGone

# Read labeled files in chunks of this size: memory stays bounded whatever the file.
CHUNK_BYTES = 1024 * 1024
# A written file stays in memory up to this size, then spills to /tmp (Lambda: up to 10 GB).
SPOOL_BYTES = 8 * 1024 * 1024
# Bedrock's evaluation output: one JSON object a line, well under this.
MAX_OUTPUT_LINE = 4 * 1024 * 1024


def _tags(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in sorted(tags.items())]


class _S3Sink:
    def __init__(self, uri: str, spool: IO[bytes]) -> None:
        self.uri = uri
        self._spool = spool

    def write(self, line: bytes) -> None:
        self._spool.write(line)
        self._spool.write(b"\n")


class S3LabeledFiles(AwsAdapter):
    """Labeled files read in chunks and JSONL files written through a spooled temporary file
    (then one managed upload, multipart when large): bounded memory both ways."""

    service = "s3"

    def chunks(self, obj: ObjectRef) -> Iterator[bytes]:
        args: dict[str, Any] = {"Bucket": obj.bucket, "Key": obj.key}
        if obj.version_id:
            args["VersionId"] = obj.version_id
        try:
            body = self.client.get_object(**args)["Body"]
        except Exception as exc:
            if error_code(exc) in ("NoSuchKey", "NoSuchVersion", "404"):
                raise ObjectGone(f"s3://{obj.bucket}/{obj.key}") from exc
            raise
        try:
            yield from body.iter_chunks(CHUNK_BYTES)
        finally:
            body.close()

    @contextmanager
    def writer(self, bucket: str, key: str) -> Iterator[_S3Sink]:
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
            yield _S3Sink(f"s3://{bucket}/{key}", spool)
            spool.seek(0)
            self.client.upload_fileobj(
                spool, bucket, key, ExtraArgs={"ContentType": "application/jsonl"}
            )

    def put_json(self, bucket: str, key: str, body: object) -> str:
        return S3Objects(self.client).write_json(bucket, key, body)

    def exists(self, bucket: str, key: str) -> bool:
        try:
            self.client.head_object(Bucket=bucket, Key=key)
        except Exception as exc:
            if error_code(exc) in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def copy(self, obj: ObjectRef, key: str) -> str:
        source: dict[str, str] = {"Bucket": obj.bucket, "Key": obj.key}
        if obj.version_id:
            source["VersionId"] = obj.version_id
        # The managed copy: multipart above 5 GB, where a single CopyObject stops.
        self.client.copy(source, obj.bucket, key)
        return f"s3://{obj.bucket}/{key}"


class BedrockCustomizationJobs(AwsAdapter):
    service = "bedrock"

    def start(self, request: CustomizationRequest) -> str:
        args: dict[str, Any] = {
            "jobName": request.job_name,
            "customModelName": request.custom_model_name,
            "roleArn": request.role_arn,
            "clientRequestToken": request.client_token,
            "baseModelIdentifier": request.base_model,
            "customizationType": "FINE_TUNING",
            "trainingDataConfig": {"s3Uri": request.training_uri},
            "outputDataConfig": {"s3Uri": request.output_uri},
            "hyperParameters": request.hyper_parameters,
            "jobTags": _tags(request.tags),
            "customModelTags": _tags(request.tags),
        }
        if request.validation_uri:
            args["validationDataConfig"] = {"validators": [{"s3Uri": request.validation_uri}]}
        try:
            return str(self.client.create_model_customization_job(**args)["jobArn"])
        except Exception as exc:
            # A retry after the token's idempotency window: the job of that name is ours.
            if error_code(exc) not in ("ResourceInUseException", "ConflictException"):
                raise
            job = self.client.get_model_customization_job(jobIdentifier=request.job_name)
            return str(job["jobArn"])

    def status(self, job_arn: str) -> CustomizationStatus:
        job = self.client.get_model_customization_job(jobIdentifier=job_arn)
        return CustomizationStatus(
            status=job["status"],
            custom_model_arn=job.get("outputModelArn"),
            failure_message=job.get("failureMessage"),
        )

    def stop(self, job_arn: str) -> bool:
        try:
            self.client.stop_model_customization_job(jobIdentifier=job_arn)
        except Exception as exc:
            # Not InProgress any more, or (stopped by name) never started.
            if error_code(exc) in ("ValidationException", "ResourceNotFoundException"):
                return False
            raise
        return True


class BedrockEvaluationJobs(AwsAdapter):
    service = "bedrock"

    def __init__(self, client: Any | None = None, s3: Any | None = None) -> None:
        super().__init__(client)
        self._s3 = S3Objects(s3)

    def start(self, request: EvaluationRequest) -> str:
        try:
            response = self.client.create_evaluation_job(
                jobName=request.job_name,
                roleArn=request.role_arn,
                clientRequestToken=request.client_token,
                applicationType="ModelEvaluation",
                evaluationConfig={
                    "automated": {
                        "datasetMetricConfigs": [
                            {
                                "taskType": request.task_type,
                                "dataset": {
                                    "name": request.dataset_name,
                                    "datasetLocation": {"s3Uri": request.dataset_uri},
                                },
                                "metricNames": ["Builtin.Accuracy", "Builtin.Toxicity"],
                            }
                        ]
                    }
                },
                # The dataset carries the candidate's answers (bring your own inference).
                inferenceConfig={
                    "models": [
                        {
                            "precomputedInferenceSource": {
                                "inferenceSourceIdentifier": request.source
                            }
                        }
                    ]
                },
                outputDataConfig={"s3Uri": request.output_uri},
                jobTags=_tags(request.tags),
            )
        except Exception as exc:
            if error_code(exc) not in ("ResourceInUseException", "ConflictException"):
                raise
            return self._arn_by_name(request.job_name)
        return str(response["jobArn"])

    def _arn_by_name(self, name: str) -> str:
        for page in self.client.get_paginator("list_evaluation_jobs").paginate(nameContains=name):
            for job in page.get("jobSummaries", []):
                if job.get("jobName") == name:
                    return str(job["jobArn"])
        raise LookupError(f"evaluation job {name} exists but cannot be found")

    def status(self, job_arn: str) -> EvaluationStatus:
        job = self.client.get_evaluation_job(jobIdentifier=job_arn)
        return EvaluationStatus(
            job_arn=job_arn,
            job_name=job["jobName"],
            status=job["status"],
            output_uri=job["outputDataConfig"]["s3Uri"],
            failure_messages=list(job.get("failureMessages") or []),
        )

    def results(self, status: EvaluationStatus) -> Iterator[EvaluatedRecord]:
        # Bedrock writes <output>/<job name>/<job id>/models/<model>/taskTypes/<task>/datasets/
        # <dataset>/<id>_output.jsonl: every such file under the job's own folder.
        prefix = status.output_uri.rstrip("/") + f"/{status.job_name}/"
        for found in self._s3.under(prefix):
            if not found.key.endswith("_output.jsonl"):
                continue
            for line in self._s3.lines(found):
                if line.strip():
                    yield _evaluated(line)

    def stop(self, job_arn: str) -> bool:
        try:
            self.client.stop_evaluation_job(jobIdentifier=job_arn)
        except Exception as exc:
            if error_code(exc) == "ValidationException":
                return False
            raise
        return True


def _evaluated(line: bytes) -> EvaluatedRecord:
    if len(line) > MAX_OUTPUT_LINE:
        raise ValueError(f"an evaluation output line of {len(line)} bytes")
    item = json.loads(line)
    inputs = item.get("inputRecord") or {}
    responses = item.get("modelResponses") or []
    response = responses[0].get("response") if responses else None
    scores: dict[str, float] = {}
    for score in (item.get("automatedEvaluationResult") or {}).get("scores") or []:
        value = score.get("result")
        if isinstance(value, int | float) and not isinstance(value, bool):
            # "Accuracy" in the user guide's example; tolerate the "Builtin." request name too.
            scores[str(score.get("metricName")).removeprefix("Builtin.")] = float(value)
    return EvaluatedRecord(
        prompt=str(inputs.get("prompt", "")),
        reference=str(inputs.get("referenceResponse", "")),
        response=response if isinstance(response, str) else None,
        scores=scores,
    )


class FineTunedPackages(AwsAdapter):
    """Fine-tuned candidates as model packages: lineage in CustomerMetadataProperties, metrics
    as the package's model-quality statistics (what the gate and approval page read)."""

    service = "sagemaker"

    def __init__(self, client: Any | None = None, objects: S3Objects | None = None) -> None:
        super().__init__(client)
        self._objects = objects

    def find(self, package_group: str, run_id: str) -> Candidate | None:
        registry = SageMakerRegistry(self.client, self._objects)
        try:
            summaries = self.client.list_model_packages(
                ModelPackageGroupName=package_group,
                SortBy="CreationTime",
                SortOrder="Descending",
                MaxResults=50,
            ).get("ModelPackageSummaryList", [])
        except Exception as exc:
            if error_code(exc) in ("ValidationException", "ResourceNotFound"):
                return None
            raise
        for summary in summaries:
            package = self.client.describe_model_package(
                ModelPackageName=summary["ModelPackageArn"]
            )
            if (package.get("CustomerMetadataProperties") or {}).get(RUN_KEY) == run_id:
                return registry.candidate_of(package_group, package)
        return None

    def register(
        self,
        package_group: str,
        run_id: str,
        description: str,
        metrics_uri: str,
        lineage: dict[str, str],
    ) -> Candidate:
        self._ensure_group(package_group)
        response = self.client.create_model_package(
            ModelPackageGroupName=package_group,
            ModelPackageDescription=description[:1000],
            ModelApprovalStatus="PendingManualApproval",
            CustomerMetadataProperties=lineage,
            ModelMetrics={
                "ModelQuality": {
                    "Statistics": {"ContentType": "application/json", "S3Uri": metrics_uri}
                }
            },
            # One package per run: a token of the whole run id (SageMaker takes 36 characters).
            ClientToken=hashlib.sha256(run_id.encode()).hexdigest()[:36],
        )
        package = self.client.describe_model_package(ModelPackageName=response["ModelPackageArn"])
        return SageMakerRegistry(self.client, self._objects).candidate_of(package_group, package)

    def _ensure_group(self, package_group: str) -> None:
        try:
            self.client.describe_model_package_group(ModelPackageGroupName=package_group)
        except Exception as exc:
            if error_code(exc) not in ("ValidationException", "ResourceNotFound"):
                raise
            self.client.create_model_package_group(
                ModelPackageGroupName=package_group,
                ModelPackageGroupDescription="aiops: fine-tuned candidates",
            )


class BedrockCandidateStaging:
    """The evaluation deployment, through the serving adapter's calls."""

    def __init__(self, client: Any | None = None) -> None:
        from aiops.adapters.bedrock_serving import BedrockCustomModelDeployments

        self._deployments = BedrockCustomModelDeployments(client)

    def status(self, name: str) -> StagedModel | None:
        view = self._deployments.get(name)
        if view is None:
            return None
        return StagedModel(
            arn=view.arn,
            status=view.status,
            model_arn=view.update_model_arn
            if view.update_status == "Updating" and view.update_model_arn
            else view.model_arn,
            update_status=view.update_status,
            failure_message=view.failure_message,
        )

    def stage(self, name: str, model_arn: str, tags: dict[str, str], token: str) -> StagedModel:
        current = self.status(name)
        if current is None:
            self._deployments.create(name, model_arn, tags, token)
        elif (
            current.model_arn != model_arn
            and current.status == "Active"
            and current.update_status != "Updating"  # Bedrock takes one update at a time
        ):
            self._deployments.update(current.arn, model_arn)
        staged = self.status(name)
        if staged is None:
            raise LookupError(f"custom model deployment {name} vanished as it was staged")
        return staged

    def remove(self, name: str) -> None:
        self._deployments.delete(name)


class BedrockAnswers(AwsAdapter):
    """The candidate's answers (Bedrock Runtime Converse), a few prompts at a time."""

    service = "bedrock-runtime"
    CONCURRENCY = 8

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            # Throttling is expected with 8 concurrent calls: back off and retry, adaptively.
            retries: Any = {"mode": "adaptive", "max_attempts": 10}
            self._client = boto3.client(self.service, config=Config(retries=retries))
        return self._client

    def answer(self, model_id: str, prompts: list[str], max_tokens: int) -> list[str | None]:
        from concurrent.futures import ThreadPoolExecutor

        client = self.client  # created once, before the threads share it

        def one(prompt: str) -> str | None:
            try:
                response = client.converse(
                    modelId=model_id,
                    messages=[{"role": "user", "content": [{"text": prompt}]}],
                    inferenceConfig={"maxTokens": max_tokens, "temperature": 0.0},
                )
            except Exception as exc:
                if error_code(exc) in ("ValidationException", "ModelErrorException"):
                    return None  # no answer to this prompt: it scores 0 (fail closed)
                raise
            blocks = response.get("output", {}).get("message", {}).get("content", [])
            return "".join(b.get("text", "") for b in blocks if isinstance(b, dict)) or None

        with ThreadPoolExecutor(max_workers=self.CONCURRENCY) as pool:
            return list(pool.map(one, prompts))


class GroundTruthLabelingJobs(AwsAdapter):
    service = "sagemaker"

    def describe(self, name: str) -> LabelingJob:
        job = self.client.describe_labeling_job(LabelingJobName=name)
        return LabelingJob(
            name=job["LabelingJobName"],
            arn=job["LabelingJobArn"],
            status=job["LabelingJobStatus"],
            label_attribute=job["LabelAttributeName"],
            output_manifest_uri=(job.get("LabelingJobOutput") or {}).get("OutputDatasetS3Uri"),
            tags={t["Key"]: t["Value"] for t in job.get("Tags") or []},
        )
