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
from typing import Any, Generic, TypeVar

from aiops.adapters.aws import error_code
from aiops.adapters.dynamodb import Table, to_item, to_values
from aiops.deploy.model import (
    ClaimOutcome,
    Deployed,
    Deployment,
    DeploymentRequest,
    KnownGood,
    Served,
    ServedGood,
    ServingChange,
)

_ATTEMPTS = 10
# An endpoint's records, or a Bedrock model's (aiops.adapters.bedrock_serving).
_Current = TypeVar("_Current", Deployed, Served)
_Good = TypeVar("_Good", KnownGood, ServedGood)
_Flight = TypeVar("_Flight", Deployment, ServingChange)


class DeployStateChanged(RuntimeError):
    """The endpoint's lock kept changing under us: the step is retried."""


def _conditional_failed(exc: Exception) -> bool:
    return error_code(exc) in ("ConditionalCheckFailedException", "TransactionCanceledException")


class ControlHistory(Generic[_Current, _Good, _Flight]):
    """A target's history in the control table, beside its lock: what serves it (`current_sk`,
    attribute `current_attr`), every version promoted (`GOOD#<version>`, revoked when rolled
    back) and the change in flight (`FLIGHT`, attribute `flight_attr`)."""

    table: Table
    current_sk: str
    current_attr: str
    current_type: type[_Current]
    good_type: type[_Good]
    flight_attr: str
    flight_type: type[_Flight]

    def _key(self, target: str, sk: str) -> dict[str, str]:
        raise NotImplementedError

    def _get(self, target: str, sk: str) -> dict[str, Any]:
        return self.table.get(self._key(target, sk))

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

    def _current(self, target: str) -> _Current | None:
        return self._current_of(self._get(target, self.current_sk))

    def known_goods(self, target: str) -> list[_Good]:
        items = self.table.query_all(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :good)",
            ExpressionAttributeValues=to_values(
                {":pk": self._key(target, "")["pk"], ":good": "GOOD#"}
            ),
        )
        goods = [self.good_type.model_validate(i["good"]) for i in items]
        return sorted(goods, key=lambda g: (g.promoted_at, g.version), reverse=True)

    def _begin(self, target: str, flight: _Flight) -> None:
        self.table.client.put_item(
            TableName=self.table.name,
            Item=to_item(
                {**self._key(target, "FLIGHT"), self.flight_attr: flight.model_dump(mode="json")}
            ),
        )

    def in_flight(self, target: str) -> _Flight | None:
        data = self._get(target, "FLIGHT").get(self.flight_attr)
        return self.flight_type.model_validate(data) if data else None

    def end(self, target: str, deployment_id: str) -> None:
        flight = self.in_flight(target)
        if flight is not None and flight.request.deployment_id == deployment_id:
            self.table.client.delete_item(
                TableName=self.table.name, Key=to_item(self._key(target, "FLIGHT"))
            )

    def _promote(self, target: str, current: _Current, good: _Good) -> None:
        stored = self._get(target, self.current_sk)
        self.table.client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": self.table.name, "Item": to_item(item)}}
                for item in (
                    {
                        **self._key(target, self.current_sk),
                        self.current_attr: current.model_dump(mode="json"),
                        "rev": int(stored.get("rev", 0)) + 1,
                    },
                    {
                        **self._key(target, f"GOOD#{good.version:010d}"),
                        "good": good.model_dump(mode="json"),
                    },
                )
            ]
        )

    def _roll_back(
        self,
        target: str,
        current: _Current | None,
        to: _Current,
        revoke_version: int,
        reason: str,
    ) -> bool:
        """Serve `to` instead of `current` if `current` still serves (a revision check), and
        revoke `revoke_version` as a known good, in one transaction."""
        item = self._get(target, self.current_sk)
        if self._current_of(item) != current:
            return False
        rev = int(item.get("rev", 0))
        writes: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.table.name,
                    "Item": to_item(
                        {
                            **self._key(target, self.current_sk),
                            self.current_attr: to.model_dump(mode="json"),
                            "rev": rev + 1,
                        }
                    ),
                    "ConditionExpression": "rev = :rev",
                    "ExpressionAttributeValues": to_values({":rev": rev}),
                }
            }
        ]
        good = self._get(target, f"GOOD#{revoke_version:010d}")
        if good.get("good"):
            revoked = self.good_type.model_validate(good["good"]).model_copy(
                update={"revoked": reason[:500]}
            )
            writes.append(
                {
                    "Put": {
                        "TableName": self.table.name,
                        "Item": to_item(
                            {
                                **self._key(target, f"GOOD#{revoke_version:010d}"),
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

    def applied(self, target: str, version: int) -> None:
        """The rollback to `version` went out: what serves is no longer only recorded."""
        item = self._get(target, self.current_sk)
        current = self._current_of(item)
        if current is None or current.version != version or current.applied:
            return
        self._put_if(
            {
                **self._key(target, self.current_sk),
                self.current_attr: current.model_copy(update={"applied": True}).model_dump(
                    mode="json"
                ),
            },
            int(item["rev"]),
        )

    def _current_of(self, item: dict[str, Any]) -> _Current | None:
        data = item.get(self.current_attr)
        return self.current_type.model_validate(data) if data else None


class DynamoDeployStore(ControlHistory[Deployed, KnownGood, Deployment]):
    # The lock's target: an endpoint; `BEDROCK#` (aiops.adapters.bedrock_serving) keys the same
    # lock by a Bedrock model's name.
    prefix = "ENDPOINT#"
    current_sk = "DEPLOYED"
    current_attr = "deployed"
    current_type = Deployed
    good_type = KnownGood
    flight_attr = "deployment"
    flight_type = Deployment

    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self.table = Table(table_name, client)

    def _key(self, endpoint: str, sk: str) -> dict[str, str]:
        return {"pk": f"{self.prefix}{endpoint}", "sk": sk}

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
        return self._current(endpoint)

    def begin(self, deployment: Deployment) -> None:
        self._begin(deployment.request.endpoint, deployment)

    def promote(self, deployed: Deployed, good: KnownGood) -> None:
        self._promote(deployed.endpoint, deployed, good)

    def roll_back(
        self, current: Deployed | None, to: Deployed, revoke_version: int, reason: str
    ) -> bool:
        return self._roll_back(to.endpoint, current, to, revoke_version, reason)

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
