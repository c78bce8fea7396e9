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
from aiops.adapters.deploy_store import DynamoDeployStore, _conditional_failed
from aiops.adapters.dynamodb import to_item, to_values
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


class DynamoServingStore:
    """Each Bedrock model's serving history (`ServingHistory`), beside its lock."""

    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self.locks = DynamoServingLocks(table_name, client)
        self.table = self.locks.table

    def _key(self, model: str, sk: str) -> dict[str, str]:
        return self.locks._key(model, sk)

    def _get(self, model: str, sk: str) -> dict[str, Any]:
        return self.locks._get(model, sk)

    def served(self, model: str) -> Served | None:
        item = self._get(model, "SERVED")
        return Served.model_validate(item["served"]) if item.get("served") else None

    def known_goods(self, model: str) -> list[ServedGood]:
        items = self.table.query_all(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :good)",
            ExpressionAttributeValues=to_values(
                {":pk": self._key(model, "")["pk"], ":good": "GOOD#"}
            ),
        )
        goods = [ServedGood.model_validate(i["good"]) for i in items]
        return sorted(goods, key=lambda g: (g.promoted_at, g.version), reverse=True)

    def begin(self, change: ServingChange) -> None:
        self.table.client.put_item(
            TableName=self.table.name,
            Item=to_item(
                {
                    **self._key(change.request.model, "FLIGHT"),
                    "change": change.model_dump(mode="json"),
                }
            ),
        )

    def in_flight(self, model: str) -> ServingChange | None:
        item = self._get(model, "FLIGHT")
        return ServingChange.model_validate(item["change"]) if item.get("change") else None

    def end(self, model: str, deployment_id: str) -> None:
        flight = self.in_flight(model)
        if flight is not None and flight.request.deployment_id == deployment_id:
            self.table.client.delete_item(
                TableName=self.table.name, Key=to_item(self._key(model, "FLIGHT"))
            )

    def promote(self, served: Served, good: ServedGood) -> None:
        current = self._get(served.model, "SERVED")
        self.table.client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": self.table.name, "Item": to_item(item)}}
                for item in (
                    {
                        **self._key(served.model, "SERVED"),
                        "served": served.model_dump(mode="json"),
                        "rev": int(current.get("rev", 0)) + 1,
                    },
                    {
                        **self._key(served.model, f"GOOD#{good.version:010d}"),
                        "good": good.model_dump(mode="json"),
                    },
                )
            ]
        )

    def roll_back(
        self, current: Served | None, to: Served, revoke_version: int, reason: str
    ) -> bool:
        item = self._get(to.model, "SERVED")
        stored = Served.model_validate(item["served"]) if item.get("served") else None
        if stored != current:
            return False
        rev = int(item.get("rev", 0))
        writes: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.table.name,
                    "Item": to_item(
                        {
                            **self._key(to.model, "SERVED"),
                            "served": to.model_dump(mode="json"),
                            "rev": rev + 1,
                        }
                    ),
                    "ConditionExpression": "rev = :rev",
                    "ExpressionAttributeValues": to_values({":rev": rev}),
                }
            }
        ]
        good = self._get(to.model, f"GOOD#{revoke_version:010d}")
        if good.get("good"):
            revoked = ServedGood.model_validate(good["good"]).model_copy(
                update={"revoked": reason[:500]}
            )
            writes.append(
                {
                    "Put": {
                        "TableName": self.table.name,
                        "Item": to_item(
                            {
                                **self._key(to.model, f"GOOD#{revoke_version:010d}"),
                                "good": revoked.model_dump(mode="json"),
                            }
                        ),
                    }
                }
            )
        try:
            self.table.client.transact_write_items(TransactItems=writes)
        except Exception as exc:
            if _conditional_failed(exc):
                return False
            raise
        return True

    def applied(self, model: str, version: int) -> None:
        item = self._get(model, "SERVED")
        if not item.get("served"):
            return
        served = Served.model_validate(item["served"])
        if served.version != version or served.applied:
            return
        self.locks._put_if(
            {
                **self._key(model, "SERVED"),
                "served": served.model_copy(update={"applied": True}).model_dump(mode="json"),
            },
            int(item["rev"]),
        )
