"""UpdateModelPackage changes only what it is given, as SageMaker does.

moto 5.2.5 writes every field of UpdateModelPackage, given or not: an update of a package's
CustomerMetadataProperties alone (the deploy capability marks packages it deployed or rolled
back) would wipe its ModelApprovalStatus and ApprovalDescription. This keeps fields the call
leaves out and merges the metadata properties, as the API documents.
"""

from __future__ import annotations

from typing import Any

from moto.sagemaker.models import SageMakerModelBackend

from aiops_local.patches.base import Patcher


def install(patcher: Patcher) -> None:
    original = SageMakerModelBackend.update_model_package

    def update_model_package(
        self: Any,
        model_package_arn: str,
        model_approval_status: str | None,
        approval_description: str | None,
        customer_metadata_properties: dict[str, str] | None,
        customer_metadata_properties_to_remove: list[str],
        additional_inference_specifications_to_add: list[Any] | None,
    ) -> str:
        name = self.model_package_name_mapping.get(model_package_arn, model_package_arn)
        package = self.model_packages.get(name)
        if package is not None:
            if model_approval_status is None:
                model_approval_status = package.model_approval_status
            if approval_description is None:
                approval_description = package.approval_description
            customer_metadata_properties = {
                **(package.customer_metadata_properties or {}),
                **(customer_metadata_properties or {}),
            } or None
        return str(
            original(
                self,
                model_package_arn,
                model_approval_status,
                approval_description,
                customer_metadata_properties,
                customer_metadata_properties_to_remove or [],
                additional_inference_specifications_to_add,
            )
        )

    patcher.replace(SageMakerModelBackend, "update_model_package", update_model_package)
