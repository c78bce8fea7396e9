"""Model Registry approvals emit "SageMaker Model Package State Change", as on AWS.

moto updates `ModelApprovalStatus` but emits nothing, and keeps the creator as `LastModifiedBy`.
Here an update records who made it, as SageMaker does: a control-plane function as its IAM
identity (an assumed role), anyone else (a scenario's `approve`/`reject`, i.e. a person in
Studio) as a Studio user profile (`studio_user`, default `studio-user`). An approval in
SageMaker Studio (here: a scenario's `approve`/`reject` step, or any UpdateModelPackage call)
becomes the event the control plane listens to.
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

    studio_user = "studio-user"

    def on_call(self, call: ApiCall) -> None:
        if call.error is not None:
            return
        self._record_modifier(call)
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

    def _record_modifier(self, call: ApiCall) -> None:
        from moto.sagemaker.models import sagemaker_backends

        arn = call.params.get("ModelPackageArn", "")
        account, region = arn.split(":")[4], arn.split(":")[3]
        packages = sagemaker_backends[account][region].model_packages.values()
        package: Any = next((p for p in packages if p.arn == arn), None)
        if package is None:
            return
        if call.actor is not None and call.actor.kind == "function":
            role = f"aiops-{call.actor.name}"
            package.last_modified_by = {
                "IamIdentity": {
                    "Arn": f"arn:aws:sts::{account}:assumed-role/{role}/{call.actor.name}",
                    "PrincipalId": f"AROALOCAL:{call.actor.name}",
                }
            }
        else:
            package.last_modified_by = {"UserProfileName": self.studio_user, "DomainId": "d-local"}
