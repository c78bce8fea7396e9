"""Serving Bedrock custom models: custom model deployments (Bedrock), serving parameters (SSM),
and each model's serving state in the control table, under `BEDROCK#<model>`:

- `LOCK`: the serving change holding the model and the newest approved request waiting (the
  endpoints' lock, `DynamoDeployStore`, keyed by the model's name);
- `FLIGHT`: the serving change in flight;
- `SERVED`: what serves the model, since when and how;
- `GOOD#<version>`: every version promoted for it (rollback targets; revoked when rolled back).
"""

from __future__ import annotations

from typing import Any

from aiops.adapters.aws import AwsAdapter, error_code
from aiops.adapters.deploy_store import ControlHistory, DynamoDeployStore
from aiops.deploy.model import CustomModelDeploymentView, Served, ServedGood, ServingChange

_NOT_FOUND = ("ResourceNotFoundException", "ParameterNotFound")


class BedrockCustomModelDeployments(AwsAdapter):
    service = "bedrock"

    def get(self, name: str) -> CustomModelDeploymentView | None:
        try:
            response = self.client.get_custom_model_deployment(customModelDeploymentIdentifier=name)
        except Exception as exc:
            if error_code(exc) in _NOT_FOUND:
                return None
            raise
        update = response.get("updateDetails") or {}
        return CustomModelDeploymentView(
            arn=str(response["customModelDeploymentArn"]),
            name=str(response.get("modelDeploymentName", name)),
            model_arn=str(response.get("modelArn", "")),
            status=str(response.get("status", "")),
            update_model_arn=update.get("modelArn"),
            update_status=update.get("updateStatus"),
            failure_message=response.get("failureMessage") or None,
        )

    def create(self, name: str, model_arn: str, tags: dict[str, str], token: str) -> str:
        response = self.client.create_custom_model_deployment(
            modelDeploymentName=name,
            modelArn=model_arn,
            description=f"aiops: serves {tags.get('aiops:model', name)}",
            tags=[{"key": k, "value": v} for k, v in sorted(tags.items())],
            clientRequestToken=token,
        )
        return str(response["customModelDeploymentArn"])

    def delete(self, identifier: str) -> None:
        """Delete the deployment; one already gone is not an error."""
        try:
            self.client.delete_custom_model_deployment(customModelDeploymentIdentifier=identifier)
        except Exception as exc:
            if error_code(exc) not in _NOT_FOUND:
                raise

    def update(self, identifier: str, model_arn: str) -> None:
        self.client.update_custom_model_deployment(
            customModelDeploymentIdentifier=identifier, modelArn=model_arn
        )


class SsmServingParameters(AwsAdapter):
    service = "ssm"

    def get(self, name: str) -> str | None:
        try:
            response = self.client.get_parameter(Name=name)
        except Exception as exc:
            if error_code(exc) in _NOT_FOUND:
                return None
            raise
        return str(response["Parameter"]["Value"])

    def put(self, name: str, value: str) -> None:
        self.client.put_parameter(
            Name=name,
            Value=value,
            Type="String",
            Overwrite=True,
            Description="aiops: the Bedrock custom model this application calls",
        )


class DynamoServingLocks(DynamoDeployStore):
    """The endpoints' lock (`DeployLocks`), keyed by a Bedrock model's name."""

    prefix = "BEDROCK#"


class DynamoServingStore(ControlHistory[Served, ServedGood, ServingChange]):
    """Each Bedrock model's serving history (`ServingHistory`), beside its lock."""

    current_sk = "SERVED"
    current_attr = "served"
    current_type = Served
    good_type = ServedGood
    flight_attr = "change"
    flight_type = ServingChange

    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self.locks = DynamoServingLocks(table_name, client)
        self.table = self.locks.table

    def _key(self, model: str, sk: str) -> dict[str, str]:
        return self.locks._key(model, sk)

    def served(self, model: str) -> Served | None:
        return self._current(model)

    def begin(self, change: ServingChange) -> None:
        self._begin(change.request.model, change)

    def promote(self, served: Served, good: ServedGood) -> None:
        self._promote(served.model, served, good)

    def roll_back(
        self, current: Served | None, to: Served, revoke_version: int, reason: str
    ) -> bool:
        return self._roll_back(to.model, current, to, revoke_version, reason)
