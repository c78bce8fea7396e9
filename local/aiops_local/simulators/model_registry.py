"""Model Registry approvals emit "SageMaker Model Package State Change", as on AWS.

moto updates `ModelApprovalStatus` but emits nothing. An approval in SageMaker Studio (here: a
scenario's `approve`/`reject` step, or any UpdateModelPackage call) becomes the event the control
plane listens to.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from aiops_local.clock import iso
from aiops_local.patches.botocore_calls import ApiCall
from aiops_local.simulators.base import Simulator, register

_DETAIL_FIELDS = (
    "ModelPackageGroupName",
    "ModelPackageVersion",
    "ModelPackageArn",
    "ModelPackageName",
    "ModelPackageDescription",
    "CreationTime",
    "InferenceSpecification",
    "ModelPackageStatus",
    "ModelPackageStatusDetails",
    "CertifyForMarketplace",
    "ModelApprovalStatus",
    "MetadataProperties",
    "ModelMetrics",
    "CustomerMetadataProperties",
    "ApprovalDescription",
    "LastModifiedTime",
)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


@register
class ModelRegistrySimulator(Simulator):
    name = "model_registry"
    watches: ClassVar[frozenset[tuple[str, str]]] = frozenset({("sagemaker", "UpdateModelPackage")})

    def on_call(self, call: ApiCall) -> None:
        if call.error is not None:
            return
        updated = [
            k
            for k in ("ModelApprovalStatus", "ApprovalDescription", "CustomerMetadataProperties")
            if k in call.params
        ]
        if "ModelApprovalStatus" not in updated:
            return
        arn = call.params["ModelPackageArn"]
        package = self.host.client("sagemaker").describe_model_package(ModelPackageName=arn)
        detail = {k: _jsonable(package[k]) for k in _DETAIL_FIELDS if k in package}
        detail["LastModifiedTime"] = iso(self.host.clock.now())
        detail["UpdatedModelPackageFields"] = updated
        self.host.events.emit(
            "aws.sagemaker", "SageMaker Model Package State Change", detail, resources=[arn]
        )
