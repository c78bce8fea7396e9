"""Data windows in the control table.

Items: the open window's head `MODEL#m / WINDOW` (atomic counters), one `PENDING#m / <object>`
per object waiting in it, a `SEEN#m#<object>` marker per object version ever counted, one
`MODEL#m / WINDOW#<seq>` snapshot per closed window, and `MODEL#m / WINDOWS_STARTED`: every
window up to its `through` has had its run started.

Adding a below-threshold object is one TransactWriteItems call: the SEEN marker makes it
idempotent per object version, and the head's condition proves the window is still below its
limits after the add. Only the add that may fill the window pays for a second call and the close.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from aiops.adapters.aws import error_code
from aiops.adapters.dynamodb import Table, from_item, to_item, to_values
from aiops.runs.window import AddOutcome, ClosedWindow, ObjectRef, WindowLimits, close_reason

SEEN_TTL = timedelta(days=90)
CLOSE_LEASE = timedelta(minutes=5)
_NAMES = {"#o": "objects", "#b": "bytes", "#r": "records"}


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


class DynamoWindowStore:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self.table = Table(table_name, client)

    # ---------------------------------------------------------------- keys
    @staticmethod
    def _head(model: str) -> dict[str, str]:
        return {"pk": f"MODEL#{model}", "sk": "WINDOW"}

    @staticmethod
    def _closed(model: str, seq: int) -> dict[str, str]:
        return {"pk": f"MODEL#{model}", "sk": f"WINDOW#{seq:06d}"}

    # ---------------------------------------------------------------- add
    def add(self, model: str, obj: ObjectRef, limits: WindowLimits, now: datetime) -> AddOutcome:
        fits_fresh = (
            limits.objects > 1
            and obj.size < limits.bytes
            and (limits.records is None or (obj.records or 0) < limits.records)
        )
        if fits_fresh:
            outcome = self._transact_add(model, obj, now, limits)
            if outcome is not None:
                return outcome
        outcome = self._transact_add(model, obj, now, None)
        if outcome is AddOutcome.ADDED:
            return AddOutcome.THRESHOLD_REACHED
        return AddOutcome.DUPLICATE

    def _transact_add(
        self, model: str, obj: ObjectRef, now: datetime, below: WindowLimits | None
    ) -> AddOutcome | None:
        """One transaction; with `below`, it only commits if the window stays under limits.
        Returns None when that condition (and only it) failed."""
        t = self.table
        head_update: dict[str, Any] = {
            "TableName": t.name,
            "Key": to_item(self._head(model)),
            "UpdateExpression": (
                "ADD #o :one, #b :size, #r :records SET opened_at = if_not_exists(opened_at, :now)"
            ),
            "ExpressionAttributeNames": dict(_NAMES),
            "ExpressionAttributeValues": to_values(
                {
                    ":one": 1,
                    ":size": obj.size,
                    ":records": obj.records or 0,
                    ":now": now.isoformat(),
                }
            ),
        }
        if below is not None:
            condition = "attribute_not_exists(#o) OR (#o < :room_o AND #b < :room_b)"
            room = {":room_o": below.objects - 1, ":room_b": below.bytes - obj.size}
            if below.records is not None:
                condition = f"({condition}) AND (attribute_not_exists(#r) OR #r < :room_r)"
                room[":room_r"] = below.records - (obj.records or 0)
            head_update["ConditionExpression"] = condition
            head_update["ExpressionAttributeValues"].update(to_values(room))
        pending = {
            "pk": f"PENDING#{model}",
            "sk": obj.natural_key,
            "object": obj.model_dump(),
            "added_at": now.isoformat(),
        }
        seen = {
            "pk": f"SEEN#{model}#{obj.natural_key}",
            "sk": "SEEN",
            "ttl": _epoch(now + SEEN_TTL),
        }
        try:
            t.client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": t.name,
                            "Item": to_item(seen),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {"Put": {"TableName": t.name, "Item": to_item(pending)}},
                    {"Update": head_update},
                ]
            )
        except Exception as exc:
            if error_code(exc) != "TransactionCanceledException":
                raise
            reasons = [
                r.get("Code") for r in getattr(exc, "response", {}).get("CancellationReasons", [])
            ]
            if reasons and reasons[0] == "ConditionalCheckFailed":
                return AddOutcome.DUPLICATE
            if len(reasons) > 2 and reasons[2] == "ConditionalCheckFailed" and below is not None:
                return None
            raise
        return AddOutcome.ADDED

    # ---------------------------------------------------------------- close
    def close(
        self,
        model: str,
        limits: WindowLimits,
        now: datetime,
        owner: str,
        force_reason: str | None = None,
    ) -> ClosedWindow | None:
        t = self.table
        cutoff = (now - limits.max_age).isoformat()
        due = (
            "#o > :zero"
            if force_reason
            else "(#o >= :lo OR #b >= :lb OR (#o > :zero AND opened_at <= :cutoff)"
            + (" OR #r >= :lr)" if limits.records is not None else ")")
        )
        try:
            response = t.client.update_item(
                TableName=t.name,
                Key=to_item(self._head(model)),
                UpdateExpression=(
                    "SET closing = :owner, closing_until = :lease, "
                    "seq = if_not_exists(seq, :zero) + :one"
                ),
                ConditionExpression=(
                    f"(attribute_not_exists(closing) OR closing_until < :now) AND {due}"
                ),
                ExpressionAttributeNames=(
                    {"#o": "objects"}
                    if force_reason
                    else {k: v for k, v in _NAMES.items() if k != "#r" or limits.records}
                ),
                ExpressionAttributeValues=to_values(
                    {
                        ":owner": owner,
                        ":lease": (now + CLOSE_LEASE).isoformat(),
                        ":now": now.isoformat(),
                        ":zero": 0,
                        ":one": 1,
                        **(
                            {}
                            if force_reason
                            else {
                                ":lo": limits.objects,
                                ":lb": limits.bytes,
                                ":cutoff": cutoff,
                                **({":lr": limits.records} if limits.records else {}),
                            }
                        ),
                    }
                ),
                ReturnValues="ALL_OLD",
            )
        except Exception as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return None
            raise
        old = from_item(response.get("Attributes"))
        seq = int(old.get("seq", 0)) + 1
        if old.get("closing"):
            # A previous closer's lease expired mid-close: finish its window first so no
            # object ends up in two windows, then re-check that ours is still due.
            self._settle(model, int(old.get("seq", 0)), owner, now, recovering=True)
            head = t.get(self._head(model))
            opened = head.get("opened_at")
            still_due = int(head.get("objects", 0)) > 0 if force_reason else None
            if still_due is False or (
                still_due is None
                and close_reason(
                    int(head.get("objects", 0)),
                    int(head.get("bytes", 0)),
                    datetime.fromisoformat(opened) if opened else None,
                    limits,
                    now,
                    int(head.get("records", 0)),
                )
                is None
            ):
                self._drop_lease(model, owner)
                return None
        pending = t.query_all(
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=to_values({":pk": f"PENDING#{model}"}),
        )
        objects = [ObjectRef.model_validate(p["object"]) for p in pending]
        total = sum(o.size for o in objects)
        opened_at = old.get("opened_at")
        reason = (
            force_reason
            or close_reason(
                len(objects),
                total,
                datetime.fromisoformat(opened_at) if opened_at else None,
                limits,
                now,
                sum(o.records or 0 for o in objects),
            )
            or "window due"
        )
        closed = ClosedWindow(
            model=model, seq=seq, objects=objects, bytes=total, reason=reason, closed_at=now
        )
        t.client.put_item(
            TableName=t.name,
            Item=to_item(
                {
                    **self._closed(model, seq),
                    **closed.model_dump(mode="json"),
                    "settled": False,
                    "closed_by": owner,
                }
            ),
            ConditionExpression="attribute_not_exists(pk)",
        )
        self._settle(model, seq, owner, now, recovering=False)
        return closed

    def _settle(self, model: str, seq: int, owner: str, now: datetime, recovering: bool) -> None:
        """Remove a closed window's objects from the open window, exactly once."""
        t = self.table
        record = t.get(self._closed(model, seq)) if seq > 0 else {}
        if not record or record.get("settled"):
            return
        objects = [ObjectRef.model_validate(o) for o in record["objects"]]
        keys = [{"pk": f"PENDING#{model}", "sk": o.natural_key} for o in objects]
        for start in range(0, len(keys), 25):
            requests: Any = {
                t.name: [{"DeleteRequest": {"Key": to_item(k)}} for k in keys[start : start + 25]]
            }
            for attempt in range(8):
                unprocessed = (
                    t.client.batch_write_item(RequestItems=requests).get("UnprocessedItems") or {}
                )
                if not unprocessed:
                    break
                requests = unprocessed
                time.sleep(min(0.05 * 2**attempt, 1.0))
            else:
                raise RuntimeError(f"{model}: could not clear window w{seq:06d}'s objects")
        total = sum(o.size for o in objects)
        records = sum(o.records or 0 for o in objects)
        t.client.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": t.name,
                        "Key": to_item(self._head(model)),
                        "UpdateExpression": "ADD #o :neg_o, #b :neg_b, #r :neg_r "
                        "SET opened_at = :now "
                        + ("" if recovering else "REMOVE closing, closing_until"),
                        "ConditionExpression": "closing = :owner",
                        "ExpressionAttributeNames": dict(_NAMES),
                        "ExpressionAttributeValues": to_values(
                            {
                                ":neg_o": -len(objects),
                                ":neg_b": -total,
                                ":neg_r": -records,
                                ":now": now.isoformat(),
                                ":owner": owner,
                            }
                        ),
                    }
                },
                {
                    "Update": {
                        "TableName": t.name,
                        "Key": to_item(self._closed(model, seq)),
                        "UpdateExpression": "SET settled = :yes",
                        "ConditionExpression": "settled = :no",
                        "ExpressionAttributeValues": to_values({":yes": True, ":no": False}),
                    }
                },
            ]
        )
        if not recovering:
            # An empty window has no age; the next object starts its clock.
            try:
                t.client.update_item(
                    TableName=t.name,
                    Key=to_item(self._head(model)),
                    UpdateExpression="REMOVE opened_at",
                    ConditionExpression="#o = :zero",
                    ExpressionAttributeNames={"#o": "objects"},
                    ExpressionAttributeValues=to_values({":zero": 0}),
                )
            except Exception as exc:
                if error_code(exc) != "ConditionalCheckFailedException":
                    raise

    def _drop_lease(self, model: str, owner: str) -> None:
        self.table.client.update_item(
            TableName=self.table.name,
            Key=to_item(self._head(model)),
            UpdateExpression="REMOVE closing, closing_until",
            ConditionExpression="closing = :owner",
            ExpressionAttributeValues=to_values({":owner": owner}),
        )

    def counted(self, model: str, obj: ObjectRef) -> bool:
        return bool(self.table.get({"pk": f"SEEN#{model}#{obj.natural_key}", "sk": "SEEN"}))

    # ---------------------------------------------------------------- closed windows
    def get(self, model: str, seq: int) -> ClosedWindow | None:
        record = self.table.get(self._closed(model, seq))
        return ClosedWindow.model_validate(record) if record else None

    def latest(self, model: str) -> ClosedWindow | None:
        response = self.table.client.query(
            TableName=self.table.name,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :w)",
            ExpressionAttributeValues=to_values({":pk": f"MODEL#{model}", ":w": "WINDOW#"}),
            ScanIndexForward=False,
            Limit=1,
            ConsistentRead=True,
        )
        items = [from_item(i) for i in response.get("Items", [])]
        return ClosedWindow.model_validate(items[0]) if items else None

    @staticmethod
    def _started_through(model: str) -> dict[str, str]:
        return {"pk": f"MODEL#{model}", "sk": "WINDOWS_STARTED"}

    def unstarted(self, model: str) -> list[ClosedWindow]:
        # Every sweep asks, every few minutes: reading every snapshot ever closed would cost read
        # units in proportion to the model's whole history (a filter reduces what a query
        # returns, not what it reads). Windows up to the `through` watermark are settled and
        # started, and neither ever reverts, so the query starts after it.
        t = self.table
        through = int(t.get(self._started_through(model)).get("through", 0))
        records = t.query_all(
            KeyConditionExpression="pk = :pk AND sk BETWEEN :first AND :last",
            ExpressionAttributeValues=to_values(
                # "~" sorts after every digit: the range ends after the last window.
                {
                    ":pk": f"MODEL#{model}",
                    ":first": self._closed(model, through + 1)["sk"],
                    ":last": "WINDOW#~",
                }
            ),
        )
        # Keys are padded to six digits: past 999,999 windows a key sorts before the range's
        # start and would be missed (`latest` has the same bound; no model closes that many).
        records = sorted(
            (r for r in records if int(r["seq"]) > through), key=lambda r: int(r["seq"])
        )
        done = through
        for record in records:
            # Only an unbroken run of settled, started windows moves the watermark: a gap is a
            # window still being closed.
            if int(record["seq"]) != done + 1 or not (
                record.get("settled") and record.get("run_started")
            ):
                break
            done += 1
        if done > through:
            self._advance_started(model, done)
        return [
            ClosedWindow.model_validate(r)
            for r in records
            if r.get("settled") and not r.get("run_started")
        ]

    def _advance_started(self, model: str, through: int) -> None:
        try:
            self.table.client.update_item(
                TableName=self.table.name,
                Key=to_item(self._started_through(model)),
                UpdateExpression="SET through = :through",
                # Monotonic: a concurrent sweep that saw less never moves it back.
                ConditionExpression="attribute_not_exists(through) OR through < :through",
                ExpressionAttributeValues=to_values({":through": through}),
            )
        except Exception as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise

    # ---------------------------------------------------------------- carried windows
    @staticmethod
    def _carry(model: str) -> dict[str, str]:
        return {"pk": f"MODEL#{model}", "sk": "CARRY"}

    @staticmethod
    def _claim(model: str, run_id: str) -> dict[str, str]:
        return {"pk": f"MODEL#{model}", "sk": f"CARRY#{run_id}"}

    def record_failure(self, model: str, seq: int) -> int:
        response = self.table.client.update_item(
            TableName=self.table.name,
            Key=to_item(self._closed(model, seq)),
            UpdateExpression="ADD failures :one",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues=to_values({":one": 1}),
            ReturnValues="UPDATED_NEW",
        )
        return int(from_item(response.get("Attributes")).get("failures", 0))

    def carry(self, model: str, seqs: list[int]) -> None:
        if not seqs:
            return
        self.table.client.update_item(
            TableName=self.table.name,
            Key=to_item(self._carry(model)),
            UpdateExpression="ADD windows :seqs",
            ExpressionAttributeValues=to_values({":seqs": set(seqs)}),
        )

    def carried(self, model: str) -> list[int]:
        return _window_numbers(self.table.get(self._carry(model)))

    def claim_carried(self, model: str, run_id: str) -> list[int]:
        t = self.table
        claim = t.get(self._claim(model, run_id))
        if claim:
            return _window_numbers(claim)
        carried = self.carried(model)
        if not carried:
            # Nothing to claim, and nothing can be carried meanwhile: only the run holding the
            # model's lock (this one) carries windows, when it ends.
            return []
        try:
            t.client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": t.name,
                            "Item": to_item(
                                {**self._claim(model, run_id), "windows": set(carried)}
                            ),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {
                        "Update": {
                            "TableName": t.name,
                            "Key": to_item(self._carry(model)),
                            "UpdateExpression": "DELETE windows :seqs",
                            "ExpressionAttributeValues": to_values({":seqs": set(carried)}),
                        }
                    },
                ]
            )
        except Exception as exc:
            reasons = [
                r.get("Code") for r in getattr(exc, "response", {}).get("CancellationReasons", [])
            ]
            if error_code(exc) != "TransactionCanceledException" or reasons[:1] != [
                "ConditionalCheckFailed"
            ]:
                raise
            # A concurrent retry of the same step claimed first: its claim is the answer.
            return self.claimed(model, run_id)
        return carried

    def claimed(self, model: str, run_id: str) -> list[int]:
        return _window_numbers(self.table.get(self._claim(model, run_id)))

    def mark_started(self, model: str, seq: int) -> None:
        self.table.client.update_item(
            TableName=self.table.name,
            Key=to_item(self._closed(model, seq)),
            UpdateExpression="SET run_started = :yes",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues=to_values({":yes": True}),
        )


def _window_numbers(item: dict[str, Any]) -> list[int]:
    """The window numbers of a carry or claim item (a DynamoDB number set)."""
    return sorted(int(seq) for seq in item.get("windows", ()))
