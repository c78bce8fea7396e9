"""What the labeled-data trigger and the fine-tune workflow act through (adapters implement
these; fakes in tests are held to the same contract)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Protocol

from aiops.finetune.model import (
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


class LineSink(Protocol):
    """A JSONL object being written, one record a line, streamed (bounded memory)."""

    uri: str

    def write(self, line: bytes) -> None:
        """Append one record (without its newline)."""
        ...


class LabeledFiles(Protocol):
    def chunks(self, obj: ObjectRef) -> Iterator[bytes]:
        """The object version's bytes, streamed in chunks."""
        ...

    def writer(self, bucket: str, key: str) -> AbstractContextManager[LineSink]:
        """A JSONL object written line by line; stored when the block ends without error."""
        ...

    def put_json(self, bucket: str, key: str, body: object) -> str:
        """Store a JSON document; returns its S3 URI."""
        ...

    def exists(self, bucket: str, key: str) -> bool: ...

    def copy(self, obj: ObjectRef, key: str) -> str:
        """Copy the object version to `key` of its bucket; returns the copy's S3 URI."""
        ...


class CustomizationJobs(Protocol):
    def start(self, request: CustomizationRequest) -> str:
        """Start the customization job (idempotent on the request's token); returns its ARN."""
        ...

    def status(self, job_arn: str) -> CustomizationStatus: ...

    def stop(self, job_arn: str) -> bool:
        """Stop the job (by ARN or name); False when it had ended or never started."""
        ...


class EvaluationJobs(Protocol):
    def start(self, request: EvaluationRequest) -> str:
        """Start the evaluation job (idempotent on the request's token); returns its ARN."""
        ...

    def status(self, job_arn: str) -> EvaluationStatus: ...

    def results(self, status: EvaluationStatus) -> Iterator[EvaluatedRecord]:
        """Every record the job evaluated (its output files), streamed."""
        ...

    def stop(self, job_arn: str) -> bool: ...


class FineTunedCandidates(Protocol):
    def find(self, package_group: str, run_id: str) -> Candidate | None:
        """The package a fine-tune run registered, if it did."""
        ...

    def register(
        self,
        package_group: str,
        run_id: str,
        description: str,
        metrics_uri: str,
        lineage: dict[str, str],
    ) -> Candidate:
        """Register the run's candidate (PendingManualApproval) with its metrics and lineage."""
        ...


class CandidateStaging(Protocol):
    """The on-demand custom model deployment a candidate answers through while it is evaluated
    (never the one applications call)."""

    def status(self, name: str) -> StagedModel | None: ...

    def stage(self, name: str, model_arn: str, tags: dict[str, str], token: str) -> StagedModel:
        """Create the deployment with `model_arn`, or swap its model when it is Active with
        another and no update is under way; returns what Bedrock reports after the call."""
        ...

    def remove(self, name: str) -> None:
        """Delete the deployment (a failed one: the next stage creates it anew)."""
        ...


class CandidateAnswers(Protocol):
    def answer(self, model_id: str, prompts: list[str], max_tokens: int) -> list[str | None]:
        """The model's answer to each prompt (None where it gave none), in order."""
        ...


class LabelingJobs(Protocol):
    def describe(self, name: str) -> LabelingJob:
        """The labeling job as Ground Truth reports it."""
        ...
