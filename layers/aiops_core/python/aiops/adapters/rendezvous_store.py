"""Task-token rendezvous items in the control table (`WAIT#<job key> / WAIT`), and for each
waiting run the job it waits on (`RUNWAIT#<run id> / WAIT`), so a run that times out can
give up its wait and stop its job."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiops.adapters.aws import error_code
from aiops.adapters.dynamodb import Table, from_item, to_item, to_values
from aiops.clock import now
from aiops.runs.rendezvous import AbandonedWait, JobOutcome, Resumption

WAIT_TTL = timedelta(days=30)


class DynamoRendezvousStore:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self.table = Table(table_name, client)

    @staticmethod
    def _key(key: str) -> dict[str, Any]:
        return to_item(DynamoRendezvousStore._wait_key(key))

    @staticmethod
    def _wait_key(key: str) -> dict[str, str]:
        return {"pk": f"WAIT#{key}", "sk": "WAIT"}

    @staticmethod
    def _run_key(run_id: str) -> dict[str, str]:
        return {"pk": f"RUNWAIT#{run_id}", "sk": "WAIT"}

    def _ttl(self) -> int:
        return int((now() + WAIT_TTL).timestamp())

    def register_waiter(
        self, key: str, task_token: str, context: dict[str, Any], run_id: str
    ) -> Resumption | None:
        # The run → job pointer first: a run that times out must always find its job.
        self.table.client.put_item(
            TableName=self.table.name,
            Item=to_item({**self._run_key(run_id), "job_key": key, "ttl": self._ttl()}),
        )
        response = self.table.client.update_item(
            TableName=self.table.name,
            Key=self._key(key),
            UpdateExpression="SET task_token = :t, #ctx = :c, #ttl = :ttl",
            ExpressionAttributeNames={"#ctx": "context", "#ttl": "ttl"},
            ExpressionAttributeValues=to_values(
                {":t": task_token, ":c": context, ":ttl": self._ttl()}
            ),
            ReturnValues="ALL_NEW",
        )
        item = from_item(response.get("Attributes"))
        if "outcome" not in item:
            return None
        return Resumption(
            task_token=task_token,
            outcome=JobOutcome.model_validate(item["outcome"]),
            context=context,
        )

    def record_outcome(self, key: str, outcome: JobOutcome) -> tuple[bool, Resumption | None]:
        try:
            response = self.table.client.update_item(
                TableName=self.table.name,
                Key=self._key(key),
                UpdateExpression="SET outcome = :o, #ttl = if_not_exists(#ttl, :ttl)",
                ConditionExpression="attribute_not_exists(outcome)",
                ExpressionAttributeNames={"#ttl": "ttl"},
                ExpressionAttributeValues=to_values(
                    {":o": outcome.model_dump(mode="json"), ":ttl": self._ttl()}
                ),
                ReturnValues="ALL_NEW",
            )
        except Exception as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            # A redelivery: nothing to do, unless a result nobody waits for is not settled yet
            # (the attempt that recorded it failed before settling).
            item = self.table.get(self._wait_key(key))
            if "abandoned" in item and "settled" not in item and "outcome" in item:
                return False, Resumption(
                    task_token=None,
                    outcome=JobOutcome.model_validate(item["outcome"]),
                    context=item.get("context", {}),
                    abandoned=str(item["abandoned"]),
                )
            return False, None
        item = from_item(response.get("Attributes"))
        if "abandoned" in item:
            return True, Resumption(
                task_token=None,
                outcome=outcome,
                context=item.get("context", {}),
                abandoned=str(item["abandoned"]),
            )
        if "task_token" not in item:
            return True, None
        return True, Resumption(
            task_token=item["task_token"], outcome=outcome, context=item.get("context", {})
        )

    def mark_settled(self, key: str) -> None:
        self.table.client.update_item(
            TableName=self.table.name,
            Key=self._key(key),
            UpdateExpression="SET settled = :yes",
            ExpressionAttributeValues=to_values({":yes": True}),
        )

    def waiting_key(self, run_id: str) -> str | None:
        key = self.table.get(self._run_key(run_id)).get("job_key")
        return str(key) if key else None

    def abandon(self, run_id: str, reason: str) -> AbandonedWait | None:
        pointer = self.table.get(self._run_key(run_id))
        if not pointer.get("job_key"):
            return None
        key = str(pointer["job_key"])
        # Unconditional: a run that failed between parking its pointer and its token still
        # marks the job abandoned, so its end stops it and a later outcome is settled, not lost.
        response = self.table.client.update_item(
            TableName=self.table.name,
            Key=self._key(key),
            UpdateExpression="SET abandoned = :why REMOVE task_token",
            ExpressionAttributeValues=to_values({":why": reason}),
            ReturnValues="ALL_NEW",
        )
        item = from_item(response.get("Attributes"))
        outcome = item.get("outcome")
        return AbandonedWait(
            key=key,
            context=item.get("context", {}),
            outcome=JobOutcome.model_validate(outcome) if outcome else None,
            settled=bool(item.get("settled")),
        )
