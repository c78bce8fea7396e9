"""The control-plane watch's view of the control table (aiops.health ports), read only.

Locks, where their owners write them (`sk = LOCK`):
- `MODEL#<model>`: a model's run (aiops.adapters.lock_store: `owner`, `expires_at`,
  `acquired_at`);
- `ENDPOINT#<endpoint>` and `BEDROCK#<model>`: a deployment or a serving change
  (aiops.adapters.deploy_store: `holder`, `expires_at`).

Approvals: `APPROVAL#<model> / V#<version>` (aiops.adapters.approval_store), `status` pending.

Only the attributes named here are read (never an approval's task token): the function's role
allows these and no others (template.yaml, ControlPlaneWatchFunction).
"""

import random
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from aiops.adapters.dynamodb import Table, from_item, to_item, to_values
from aiops.approval.model import ApprovalStatus
from aiops.health.ports import HeldLock, LockKind, LockTarget, OpenApproval
from aiops.observability import logger

_LOCK_PREFIX = {LockKind.RUN: "MODEL#", LockKind.DEPLOY: "ENDPOINT#", LockKind.SERVING: "BEDROCK#"}
_LOCK_FIELDS = ("pk", "owner", "holder", "expires_at", "acquired_at")
_APPROVAL_FIELDS = ("model", "version", "status", "created_at", "expires_at")
# BatchGetItem reads at most 100 keys a call.
_BATCH = 100
# Keys DynamoDB leaves unprocessed (throttling) are asked again this many times, then it fails.
_ATTEMPTS = 5
_BACKOFF_SECONDS = 0.05  # 0.1 s, 0.2 s, 0.4 s, 0.8 s at most: well inside the watch's timeout
# A lock without an expiry is never taken over (the stores compare expires_at): past its lease.
_NEVER = datetime.min.replace(tzinfo=UTC)


def _projection(fields: Sequence[str]) -> dict[str, Any]:
    return {
        "ProjectionExpression": ", ".join(f"#f{i}" for i in range(len(fields))),
        "ExpressionAttributeNames": {f"#f{i}": name for i, name in enumerate(fields)},
    }


# A lock whose times cannot be read is reported as past its lease: the watch fails closed, and
# the handler's log line names its model and holder.
_UNREADABLE = datetime.min.replace(tzinfo=UTC)


def _moment(value: Any, key: str) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        logger.warning("lock time unreadable", extra={"key": key, "value": str(value)[:64]})
        return _UNREADABLE
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class DynamoHeldLocks:
    def __init__(
        self,
        table_name: str,
        client: Any | None = None,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        self._sleep = sleep
        self.table = Table(table_name, client)

    def held(self, targets: Sequence[LockTarget]) -> list[HeldLock]:
        by_pk = {f"{_LOCK_PREFIX[t.kind]}{t.name}": t for t in targets}
        keys = sorted(by_pk)
        locks: list[HeldLock] = []
        for start in range(0, len(keys), _BATCH):
            for item in self._get(
                [{"pk": pk, "sk": "LOCK"} for pk in keys[start : start + _BATCH]]
            ):
                holder = item.get("owner") or item.get("holder")
                if not holder:
                    continue  # released: the item stays, without a holder
                locks.append(
                    HeldLock(
                        target=by_pk[item["pk"]],
                        holder=str(holder),
                        expires_at=_moment(item.get("expires_at"), item["pk"]) or _NEVER,
                        acquired_at=_moment(item.get("acquired_at"), item["pk"]),
                    )
                )
        return locks

    def _get(self, keys: list[dict[str, str]]) -> list[dict[str, Any]]:
        request: dict[str, Any] = {
            self.table.name: {"Keys": [to_item(k) for k in keys], **_projection(_LOCK_FIELDS)}
        }
        items: list[dict[str, Any]] = []
        for attempt in range(_ATTEMPTS):
            if attempt:
                # Unprocessed keys mean throttling: back off (exponential, jittered) as AWS
                # advises, rather than ask again at once.
                self._sleep(random.uniform(0, _BACKOFF_SECONDS * 2**attempt))  # noqa: S311 - jitter
            response = self.table.client.batch_get_item(RequestItems=request)
            items += [from_item(i) for i in response.get("Responses", {}).get(self.table.name, [])]
            request = response.get("UnprocessedKeys") or {}
            if not request:
                return items
        raise RuntimeError(f"{self.table.name}: locks left unread after {_ATTEMPTS} attempts")


class DynamoOpenApprovals:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self.table = Table(table_name, client)

    def pending(self, models: Sequence[str]) -> list[OpenApproval]:
        projection = _projection(_APPROVAL_FIELDS)
        status = f"#f{_APPROVAL_FIELDS.index('status')}"
        found: list[OpenApproval] = []
        for model in models:
            items = self.table.query_all(
                KeyConditionExpression="pk = :pk AND begins_with(sk, :v)",
                FilterExpression=f"{status} = :pending",
                ExpressionAttributeValues=to_values(
                    {
                        ":pk": f"APPROVAL#{model}",
                        ":v": "V#",
                        ":pending": ApprovalStatus.PENDING.value,
                    }
                ),
                Select="SPECIFIC_ATTRIBUTES",
                **projection,
            )
            for item in items:
                try:
                    found.append(
                        OpenApproval.model_validate(
                            {k: v for k, v in item.items() if k != "status"}
                        )
                    )
                except ValidationError as error:
                    # One broken item must not stop the watch over every other approval.
                    logger.warning(
                        "pending approval unreadable",
                        extra={"model": model, "reason": str(error).splitlines()[0]},
                    )
        return found
