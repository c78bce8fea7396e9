"""Each endpoint's deploy state in the control table, under `ENDPOINT#<endpoint>`:

- `LOCK`: the deployment holding the endpoint (lease) and the newest approved request waiting;
- `FLIGHT`: the deployment in flight;
- `DEPLOYED`: what serves the endpoint, since when and how;
- `GOOD#<version>`: every version promoted on it (the rollback targets; revoked when rolled back).

Writes that decide (the lock, a rollback) are conditional on a revision read just before, so
concurrent deliveries settle on one outcome.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from aiops.adapters.aws import error_code
from aiops.adapters.dynamodb import Table, to_item, to_values
from aiops.deploy.model import ClaimOutcome, Deployed, Deployment, DeploymentRequest, KnownGood

_ATTEMPTS = 10


class DeployStateChanged(RuntimeError):
    """The endpoint's lock kept changing under us: the step is retried."""


def _conditional_failed(exc: Exception) -> bool:
    return error_code(exc) in ("ConditionalCheckFailedException", "TransactionCanceledException")


class DynamoDeployStore:
    # The lock's target: an endpoint; `BEDROCK#` (aiops.adapters.bedrock_serving) keys the same
    # lock by a Bedrock model's name.
    prefix = "ENDPOINT#"

    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self.table = Table(table_name, client)

    def _key(self, endpoint: str, sk: str) -> dict[str, str]:
        return {"pk": f"{self.prefix}{endpoint}", "sk": sk}

    def _get(self, endpoint: str, sk: str) -> dict[str, Any]:
        return self.table.get(self._key(endpoint, sk))

    def _put_if(self, item: dict[str, Any], rev: int | None) -> bool:
        """Put `item` if its stored revision is still `rev` (None: absent)."""
        condition = "attribute_not_exists(pk)" if rev is None else "rev = :rev"
        kwargs: dict[str, Any] = {
            "TableName": self.table.name,
            "Item": to_item({**item, "rev": (rev or 0) + 1}),
            "ConditionExpression": condition,
        }
        if rev is not None:
            kwargs["ExpressionAttributeValues"] = to_values({":rev": rev})
        try:
            self.table.client.put_item(**kwargs)
        except Exception as exc:
            if _conditional_failed(exc):
                return False
            raise
        return True

    # ------------------------------------------------------------------ the lock
    def claim(self, request: DeploymentRequest, now: datetime, lease: timedelta) -> ClaimOutcome:
        me = request.deployment_id
        for _ in range(_ATTEMPTS):
            item = self._get(request.endpoint, "LOCK")
            rev = int(item["rev"]) if item else None
            holder = item.get("holder")
            expired = bool(holder) and str(item.get("expires_at", "")) < now.isoformat()
            waiting = (
                DeploymentRequest.model_validate(item["waiting"]) if item.get("waiting") else None
            )
            base = {**self._key(request.endpoint, "LOCK")}
            if not holder or expired or holder == me:
                # Ours (or free): a request that waited and now takes it leaves the queue.
                keep = waiting if waiting is not None and waiting.deployment_id != me else None
                new = {
                    **base,
                    "holder": me,
                    "expires_at": (now + lease).isoformat(),
                    "waiting": keep.model_dump(mode="json") if keep else None,
                }
                if self._put_if(new, rev):
                    return ClaimOutcome(acquired=True, holder=me)
                continue
            if waiting is not None and waiting.version >= request.version:
                superseded = request if waiting.deployment_id != me else None
                return ClaimOutcome(
                    acquired=False,
                    holder=str(holder),
                    queued=superseded is None,
                    superseded=superseded,
                )
            new = {**item, **base, "waiting": request.model_dump(mode="json")}
            new.pop("rev", None)
            if self._put_if(new, rev):
                return ClaimOutcome(
                    acquired=False, holder=str(holder), queued=True, superseded=waiting
                )
        raise DeployStateChanged(f"{request.endpoint}: the lock kept changing")

    def release(
        self, endpoint: str, deployment_id: str, now: datetime, lease: timedelta
    ) -> DeploymentRequest | None:
        for _ in range(_ATTEMPTS):
            item = self._get(endpoint, "LOCK")
            if not item:
                return None
            rev = int(item["rev"])
            if item.get("holder") != deployment_id:
                # Released already: a retried release hands over the same request again.
                handed = item.get("handed_over_by") == deployment_id and item.get("holder")
                if handed and item.get("holder_request"):
                    return DeploymentRequest.model_validate(item["holder_request"])
                return None
            waiting = (
                DeploymentRequest.model_validate(item["waiting"]) if item.get("waiting") else None
            )
            base = self._key(endpoint, "LOCK")
            if waiting is None:
                new: dict[str, Any] = {**base, "released_by": deployment_id}
            else:
                new = {
                    **base,
                    "holder": waiting.deployment_id,
                    "holder_request": waiting.model_dump(mode="json"),
                    "handed_over_by": deployment_id,
                    "expires_at": (now + lease).isoformat(),
                }
            if self._put_if(new, rev):
                return waiting
        raise DeployStateChanged(f"{endpoint}: the lock kept changing")

    def holder(self, endpoint: str, now: datetime) -> str | None:
        item = self._get(endpoint, "LOCK")
        if not item.get("holder") or str(item.get("expires_at", "")) < now.isoformat():
            return None
        return str(item["holder"])

    def waiting(self, endpoint: str) -> DeploymentRequest | None:
        item = self._get(endpoint, "LOCK")
        return DeploymentRequest.model_validate(item["waiting"]) if item.get("waiting") else None

    # ------------------------------------------------------------------ history
    def deployed(self, endpoint: str) -> Deployed | None:
        item = self._get(endpoint, "DEPLOYED")
        return Deployed.model_validate(item["deployed"]) if item.get("deployed") else None

    def known_goods(self, endpoint: str) -> list[KnownGood]:
        items = self.table.query_all(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :good)",
            ExpressionAttributeValues=to_values(
                {":pk": self._key(endpoint, "")["pk"], ":good": "GOOD#"}
            ),
        )
        goods = [KnownGood.model_validate(i["good"]) for i in items]
        return sorted(goods, key=lambda g: (g.promoted_at, g.version), reverse=True)

    def begin(self, deployment: Deployment) -> None:
        self.table.client.put_item(
            TableName=self.table.name,
            Item=to_item(
                {
                    **self._key(deployment.request.endpoint, "FLIGHT"),
                    "deployment": deployment.model_dump(mode="json"),
                }
            ),
        )

    def in_flight(self, endpoint: str) -> Deployment | None:
        item = self._get(endpoint, "FLIGHT")
        return Deployment.model_validate(item["deployment"]) if item.get("deployment") else None

    def end(self, endpoint: str, deployment_id: str) -> None:
        flight = self.in_flight(endpoint)
        if flight is not None and flight.request.deployment_id == deployment_id:
            self.table.client.delete_item(
                TableName=self.table.name, Key=to_item(self._key(endpoint, "FLIGHT"))
            )

    def promote(self, deployed: Deployed, good: KnownGood) -> None:
        endpoint = deployed.endpoint
        current = self._get(endpoint, "DEPLOYED")
        self.table.client.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": self.table.name,
                        "Item": to_item(
                            {
                                **self._key(endpoint, "DEPLOYED"),
                                "deployed": deployed.model_dump(mode="json"),
                                "rev": int(current.get("rev", 0)) + 1,
                            }
                        ),
                    }
                },
                {
                    "Put": {
                        "TableName": self.table.name,
                        "Item": to_item(
                            {
                                **self._key(endpoint, f"GOOD#{good.version:010d}"),
                                "good": good.model_dump(mode="json"),
                            }
                        ),
                    }
                },
            ]
        )

    def roll_back(
        self, current: Deployed | None, to: Deployed, revoke_version: int, reason: str
    ) -> bool:
        endpoint = to.endpoint
        item = self._get(endpoint, "DEPLOYED")
        stored = Deployed.model_validate(item["deployed"]) if item.get("deployed") else None
        if stored != current:
            return False
        good = self._get(endpoint, f"GOOD#{revoke_version:010d}")
        writes: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.table.name,
                    "Item": to_item(
                        {
                            **self._key(endpoint, "DEPLOYED"),
                            "deployed": to.model_dump(mode="json"),
                            "rev": int(item.get("rev", 0)) + 1,
                        }
                    ),
                    "ConditionExpression": "rev = :rev",
                    "ExpressionAttributeValues": to_values({":rev": int(item.get("rev", 0))}),
                }
            }
        ]
        if good.get("good"):
            revoked = KnownGood.model_validate(good["good"]).model_copy(
                update={"revoked": reason[:500]}
            )
            writes.append(
                {
                    "Put": {
                        "TableName": self.table.name,
                        "Item": to_item(
                            {
                                **self._key(endpoint, f"GOOD#{revoke_version:010d}"),
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

    def applied(self, endpoint: str, version: int) -> None:
        item = self._get(endpoint, "DEPLOYED")
        if not item.get("deployed"):
            return
        deployed = Deployed.model_validate(item["deployed"])
        if deployed.version != version or deployed.applied:
            return
        self._put_if(
            {
                **self._key(endpoint, "DEPLOYED"),
                "deployed": deployed.model_copy(update={"applied": True}).model_dump(mode="json"),
            },
            int(item["rev"]),
        )

    def hold_rollbacks(self, endpoint: str, until: datetime, reason: str) -> None:
        self.table.client.put_item(
            TableName=self.table.name,
            Item=to_item(
                {**self._key(endpoint, "INCIDENT"), "until": until.isoformat(), "reason": reason}
            ),
        )

    def rollbacks_held(self, endpoint: str, now: datetime) -> str | None:
        item = self._get(endpoint, "INCIDENT")
        if not item or str(item.get("until", "")) <= now.isoformat():
            return None
        return str(item.get("reason", "an incident handled already"))
