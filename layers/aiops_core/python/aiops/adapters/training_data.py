"""How much data a candidate trained on: its run's manifest, found through the pipeline
execution's DataManifest parameter."""

from __future__ import annotations

from aiops.adapters.s3 import S3Objects
from aiops.adapters.sagemaker import SageMakerPipelines
from aiops.observability import logger
from aiops.registry import Candidate
from aiops.runs.manifest import DataManifest


class ManifestSizes:
    def __init__(self, pipelines: SageMakerPipelines, objects: S3Objects) -> None:
        self.pipelines = pipelines
        self.objects = objects

    def manifest_size(self, candidate: Candidate) -> tuple[int, int] | None:
        if not candidate.pipeline_execution_arn:
            return None
        try:
            uri = self.pipelines.manifest_uri(candidate.pipeline_execution_arn)
            if not uri:
                return None
            manifest = DataManifest.model_validate(self.objects.read_json(uri))
        except Exception as exc:  # noqa: BLE001 - extra detail for the approvers: never blocks the approval
            logger.warning("manifest unreadable", extra={"error": type(exc).__name__})
            return None
        return len(manifest.objects), sum(o.size for o in manifest.objects)
