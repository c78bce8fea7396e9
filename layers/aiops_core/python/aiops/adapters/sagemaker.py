"""SageMaker: starting pipeline executions, finding the model package a run registered."""

from __future__ import annotations

import hashlib
from typing import Any, Literal

from aiops.adapters.aws import AwsAdapter, error_code
from aiops.adapters.s3 import S3Objects
from aiops.evaluation import flatten_metrics
from aiops.registry import Candidate, PackageState

_RECENT_PACKAGES = 20


class SageMakerPipelines(AwsAdapter):
    service = "sagemaker"

    def start(self, pipeline: str, run_id: str, parameters: dict[str, str]) -> str:
        # The client request token makes a retried start return the same execution.
        token = hashlib.sha256(f"{pipeline}/{run_id}".encode()).hexdigest()[:40]
        response = self.client.start_pipeline_execution(
            PipelineName=pipeline,
            PipelineExecutionDisplayName=run_id[:82],
            PipelineExecutionDescription=f"aiops retrain run {run_id}",
            PipelineParameters=[{"Name": k, "Value": v} for k, v in parameters.items()],
            ClientRequestToken=token,
        )
        return str(response["PipelineExecutionArn"])

    def stop(self, pipeline_execution_arn: str) -> bool:
        """Ask SageMaker to stop the execution; False when it had already ended."""
        token = hashlib.sha256(f"stop/{pipeline_execution_arn}".encode()).hexdigest()[:40]
        try:
            self.client.stop_pipeline_execution(
                PipelineExecutionArn=pipeline_execution_arn, ClientRequestToken=token
            )
        except Exception as exc:
            # An execution that already ended cannot be stopped: nothing is left running.
            if error_code(exc) in ("ValidationException", "ConflictException", "ResourceNotFound"):
                return False
            raise
        return True

    def failure_reason(self, pipeline_execution_arn: str) -> str | None:
        """Why the execution failed: its FailureReason and each failed step's reason."""
        execution = self.client.describe_pipeline_execution(
            PipelineExecutionArn=pipeline_execution_arn
        )
        reasons = [str(execution["FailureReason"])] if execution.get("FailureReason") else []
        try:
            pages = self.client.get_paginator("list_pipeline_execution_steps").paginate(
                PipelineExecutionArn=pipeline_execution_arn
            )
            for page in pages:
                for step in page.get("PipelineExecutionSteps", []):
                    if step.get("StepStatus") == "Failed" and step.get("FailureReason"):
                        reasons.append(f"step {step.get('StepName')}: {step['FailureReason']}")
        except Exception as exc:
            # The steps add detail; without the permission the execution's reason stands.
            if error_code(exc) not in ("AccessDeniedException", "ResourceNotFound"):
                raise
        return "; ".join(dict.fromkeys(reasons)) or None

    def manifest_uri(self, pipeline_execution_arn: str) -> str | None:
        """The DataManifest parameter our retrain runs start every execution with."""
        parameters = self.client.list_pipeline_parameters_for_execution(
            PipelineExecutionArn=pipeline_execution_arn
        ).get("PipelineParameters", [])
        for parameter in parameters:
            if parameter.get("Name") == "DataManifest":
                return str(parameter["Value"])
        return None


class SageMakerRegistry(AwsAdapter):
    service = "sagemaker"

    def __init__(self, client: Any | None = None, objects: S3Objects | None = None) -> None:
        super().__init__(client)
        self.objects = objects or S3Objects()

    def find_candidate(self, package_group: str, pipeline_execution_arn: str) -> Candidate | None:
        summaries = self.client.list_model_packages(
            ModelPackageGroupName=package_group,
            SortBy="CreationTime",
            SortOrder="Descending",
            MaxResults=_RECENT_PACKAGES,
        ).get("ModelPackageSummaryList", [])
        for summary in summaries:
            package = self.client.describe_model_package(
                ModelPackageName=summary["ModelPackageArn"]
            )
            # A pipeline's RegisterModel step records its execution in GeneratedBy.
            generated_by = (package.get("MetadataProperties") or {}).get("GeneratedBy")
            custom = package.get("CustomerMetadataProperties") or {}
            if pipeline_execution_arn not in (generated_by, custom.get("pipeline_execution_arn")):
                continue
            return self.candidate_of(package_group, package)
        return None

    def champion(self, package_group: str) -> Candidate | None:
        summaries = self.client.list_model_packages(
            ModelPackageGroupName=package_group,
            ModelApprovalStatus="Approved",
            SortBy="CreationTime",
            SortOrder="Descending",
            MaxResults=1,
        ).get("ModelPackageSummaryList", [])
        if not summaries:
            return None
        package = self.client.describe_model_package(
            ModelPackageName=summaries[0]["ModelPackageArn"]
        )
        return self.candidate_of(package_group, package)

    def set_status(
        self, package_arn: str, status: Literal["Approved", "Rejected"], description: str
    ) -> None:
        self.client.update_model_package(
            ModelPackageArn=package_arn, ModelApprovalStatus=status, ApprovalDescription=description
        )

    def recent(self, package_group: str, limit: int) -> list[Candidate]:
        """The group's latest versions, newest first, with their metrics."""
        summaries = self.client.list_model_packages(
            ModelPackageGroupName=package_group,
            SortBy="CreationTime",
            SortOrder="Descending",
            MaxResults=max(1, min(limit, 100)),
        ).get("ModelPackageSummaryList", [])
        return [
            self.candidate_of(
                package_group,
                self.client.describe_model_package(ModelPackageName=s["ModelPackageArn"]),
            )
            for s in summaries
        ]

    def package(self, package_arn: str) -> PackageState | None:
        try:
            package = self.client.describe_model_package(ModelPackageName=package_arn)
        except Exception as exc:
            if error_code(exc) in ("ValidationException", "ResourceNotFound"):
                return None
            raise
        return PackageState(
            package_arn=package["ModelPackageArn"],
            package_group=package.get("ModelPackageGroupName", ""),
            version=int(package.get("ModelPackageVersion", 0)),
            approval_status=package.get("ModelApprovalStatus", "PendingManualApproval"),
            description=package.get("ApprovalDescription", ""),
            modified_by=modified_by(package.get("LastModifiedBy") or {}),
        )

    def candidate_of(self, package_group: str, package: dict[str, Any]) -> Candidate:
        custom = package.get("CustomerMetadataProperties") or {}
        return Candidate(
            pipeline_execution_arn=(package.get("MetadataProperties") or {}).get("GeneratedBy")
            or custom.get("pipeline_execution_arn"),
            package_arn=package["ModelPackageArn"],
            package_group=package_group,
            version=int(package.get("ModelPackageVersion", 0)),
            approval_status=package.get("ModelApprovalStatus", "PendingManualApproval"),
            metrics=self._metrics(package),
        )

    def _metrics(self, package: dict[str, Any]) -> dict[str, float]:
        quality = (package.get("ModelMetrics") or {}).get("ModelQuality") or {}
        uri = (quality.get("Statistics") or {}).get("S3Uri")
        if not uri:
            return {}
        return flatten_metrics(self.objects.read_json(uri))


def modified_by(user: dict[str, Any]) -> str | None:
    """Who changed a package: the Studio user profile, else the IAM identity (ARN)."""
    identity = user.get("IamIdentity") or {}
    return user.get("UserProfileName") or identity.get("Arn") or identity.get("PrincipalId")
