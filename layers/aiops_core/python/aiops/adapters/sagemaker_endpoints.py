"""SageMaker endpoints, their configs and models, and the registry as deploying reads it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from aiops.adapters.aws import AwsAdapter, error_code
from aiops.adapters.aws import client as default_client
from aiops.adapters.sagemaker import modified_by
from aiops.deploy.model import EndpointView, PackageSpec, ShadowVariants, VariantStats

_NOT_FOUND = ("ValidationException", "ResourceNotFound")


def _tags(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


class SageMakerEndpoints(AwsAdapter):
    service = "sagemaker"

    def __init__(self, execution_role_arn: str, client: Any | None = None) -> None:
        # The role every Model runs as (the one role the deploy functions may pass).
        self.execution_role_arn = execution_role_arn
        super().__init__(client)

    def describe(self, endpoint: str) -> EndpointView | None:
        try:
            response = self.client.describe_endpoint(EndpointName=endpoint)
        except Exception as exc:
            if error_code(exc) in _NOT_FOUND:
                return None
            raise
        pending = response.get("PendingDeploymentSummary") or {}
        return EndpointView(
            status=str(response.get("EndpointStatus", "")),
            endpoint_config=str(response.get("EndpointConfigName", "")),
            pending_config=pending.get("EndpointConfigName"),
            failure_reason=response.get("FailureReason") or None,
        )

    def ensure_model(
        self, name: str, image: str, model_data_url: str, tags: dict[str, str]
    ) -> None:
        if not self.execution_role_arn:
            raise ValueError("no model execution role: set the ModelExecutionRoleArn parameter")
        try:
            self.client.describe_model(ModelName=name)
            return
        except Exception as exc:
            if error_code(exc) not in _NOT_FOUND:
                raise
        self.client.create_model(
            ModelName=name,
            PrimaryContainer={"Image": image, "ModelDataUrl": model_data_url},
            ExecutionRoleArn=self.execution_role_arn,
            Tags=_tags(tags),
        )

    def config_exists(self, name: str) -> bool:
        try:
            self.client.describe_endpoint_config(EndpointConfigName=name)
        except Exception as exc:
            if error_code(exc) in _NOT_FOUND:
                return False
            raise
        return True

    def production_model(self, endpoint_config: str, variant: str) -> str | None:
        try:
            config = self.client.describe_endpoint_config(EndpointConfigName=endpoint_config)
        except Exception as exc:
            if error_code(exc) in _NOT_FOUND:
                return None
            raise
        for production in config.get("ProductionVariants", []):
            if production.get("VariantName") == variant:
                return str(production["ModelName"])
        return None

    def ensure_endpoint_config(
        self,
        name: str,
        model_name: str,
        variant: str,
        instance_type: str,
        instance_count: int,
        tags: dict[str, str],
    ) -> None:
        if self.config_exists(name):
            return
        self.client.create_endpoint_config(
            EndpointConfigName=name,
            ProductionVariants=[
                {
                    "VariantName": variant,
                    "ModelName": model_name,
                    "InstanceType": instance_type,
                    "InitialInstanceCount": instance_count,
                    "InitialVariantWeight": 1.0,
                }
            ],
            Tags=_tags(tags),
        )

    def create(self, endpoint: str, endpoint_config: str, tags: dict[str, str]) -> None:
        self.client.create_endpoint(
            EndpointName=endpoint, EndpointConfigName=endpoint_config, Tags=_tags(tags)
        )

    def update(
        self, endpoint: str, endpoint_config: str, deployment_config: dict[str, Any] | None
    ) -> None:
        kwargs: dict[str, Any] = {"EndpointName": endpoint, "EndpointConfigName": endpoint_config}
        if deployment_config is not None:
            kwargs["DeploymentConfig"] = deployment_config
        self.client.update_endpoint(**kwargs)


class SageMakerPackages(AwsAdapter):
    service = "sagemaker"

    def spec(self, package_arn: str) -> PackageSpec | None:
        try:
            package = self.client.describe_model_package(ModelPackageName=package_arn)
        except Exception as exc:
            if error_code(exc) in _NOT_FOUND:
                return None
            raise
        containers = (package.get("InferenceSpecification") or {}).get("Containers") or [{}]
        custom = package.get("CustomerMetadataProperties") or {}
        return PackageSpec(
            package_arn=package["ModelPackageArn"],
            package_group=package.get("ModelPackageGroupName", ""),
            version=int(package.get("ModelPackageVersion", 0)),
            approval_status=package.get("ModelApprovalStatus", "PendingManualApproval"),
            image=containers[0].get("Image"),
            model_data_url=containers[0].get("ModelDataUrl"),
            marks={k: str(v) for k, v in custom.items() if k.startswith("aiops:")},
            approved_by=modified_by(package.get("LastModifiedBy") or {}),
            description=package.get("ApprovalDescription", ""),
        )

    def mark(self, package_arn: str, marks: dict[str, str]) -> None:
        package = self.client.describe_model_package(ModelPackageName=package_arn)
        merged = {**(package.get("CustomerMetadataProperties") or {}), **marks}
        self.client.update_model_package(
            ModelPackageArn=package_arn, CustomerMetadataProperties=merged
        )


class SageMakerShadowTests(AwsAdapter):
    """Inference experiments in shadow mode (SageMaker) and the variants' metrics
    (CloudWatch, through its own client)."""

    service = "sagemaker"

    def __init__(
        self, role_arn: str, client: Any | None = None, cloudwatch: Any | None = None
    ) -> None:
        self.role_arn = role_arn
        self._cloudwatch = cloudwatch
        super().__init__(client)

    @property
    def cloudwatch(self) -> Any:
        if self._cloudwatch is None:
            self._cloudwatch = default_client("cloudwatch")
        return self._cloudwatch

    def start(self, name: str, endpoint: str, variants: ShadowVariants, ends: datetime) -> None:
        if not self.role_arn:
            raise ValueError("no model execution role: set the ModelExecutionRoleArn parameter")
        try:
            self.client.describe_inference_experiment(Name=name)
            return  # a retried step
        except Exception as exc:
            if error_code(exc) not in _NOT_FOUND:
                raise
        infrastructure = {
            "InfrastructureType": "RealTimeInference",
            "RealTimeInferenceConfig": {
                "InstanceType": variants.instance_type,
                "InstanceCount": variants.instance_count,
            },
        }
        self.client.create_inference_experiment(
            Name=name,
            Type="ShadowMode",
            RoleArn=self.role_arn,
            EndpointName=endpoint,
            Schedule={"EndTime": ends},
            ModelVariants=[
                {
                    "ModelName": variants.production_model,
                    "VariantName": variants.production_variant,
                    "InfrastructureConfig": infrastructure,
                },
                {
                    "ModelName": variants.shadow_model,
                    "VariantName": variants.shadow_variant,
                    "InfrastructureConfig": infrastructure,
                },
            ],
            ShadowModeConfig={
                "SourceModelVariantName": variants.production_variant,
                "ShadowModelVariants": [
                    {
                        "ShadowModelVariantName": variants.shadow_variant,
                        "SamplingPercentage": variants.sampling_percent,
                    }
                ],
            },
            Tags=[{"Key": "aiops:model", "Value": variants.shadow_model}],
        )

    def stop(self, name: str) -> None:
        experiment = self.client.describe_inference_experiment(Name=name)
        if experiment.get("Status") in ("Completed", "Cancelled", "Stopping"):
            return
        actions = {v["VariantName"]: "Retain" for v in experiment.get("ModelVariants", [])}
        shadow = (experiment.get("ShadowModeConfig") or {}).get("ShadowModelVariants") or []
        for variant in shadow:
            actions[variant["ShadowModelVariantName"]] = "Remove"
        self.client.stop_inference_experiment(
            Name=name, ModelVariantActions=actions, DesiredState="Completed"
        )

    def stats(self, endpoint: str, variant: str, start: datetime, end: datetime) -> VariantStats:
        def statistic(metric: str, stat: str) -> float | None:
            points = self.cloudwatch.get_metric_statistics(
                Namespace="AWS/SageMaker",
                MetricName=metric,
                Dimensions=[
                    {"Name": "EndpointName", "Value": endpoint},
                    {"Name": "VariantName", "Value": variant},
                ],
                StartTime=start - timedelta(hours=1),
                EndTime=end + timedelta(hours=1),
                Period=3600,
                Statistics=[stat],
            ).get("Datapoints", [])
            if not points:
                return None
            if stat == "Sum":
                return float(sum(p["Sum"] for p in points))
            counts = sum(p.get("SampleCount", 1) for p in points)
            return float(sum(p[stat] * p.get("SampleCount", 1) for p in points) / counts)

        invocations = statistic("Invocations", "Sum") or 0.0
        errors = statistic("Invocation5XXErrors", "Sum")
        latency = statistic("ModelLatency", "Average")
        return VariantStats(
            invocations=invocations,
            error_rate=None if errors is None or not invocations else errors / invocations,
            latency_ms=None if latency is None else latency / 1000.0,
        )


class CloudWatchAlarmStates(AwsAdapter):
    service = "cloudwatch"

    def firing(self, names: list[str]) -> list[str]:
        if not names:
            return []
        alarms = self.client.describe_alarms(AlarmNames=names[:100]).get("MetricAlarms", [])
        return sorted(a["AlarmName"] for a in alarms if a.get("StateValue") == "ALARM")
