"""DynamoDB TransactWriteItems keeps a rollback copy of the items it names, not of whole tables.

moto's `DynamoDBBackend.transact_write_items` deep-copies every table a transaction names before
it runs, and puts the copy back when the transaction is cancelled. Each transaction then costs
O(table size), and n uploads on the new-data path cost O(n²): about 12 events/s after 1,000
objects, hours for 10,000. A transaction can only change the items it names, so copying those
items (and noting the length of the table's stream) and putting them back on cancellation leaves
every table exactly as moto's own rollback does, at a cost that does not grow with the table.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import moto.dynamodb.models as models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table

from aiops_local.patches.base import Patcher


class _CopyWithoutTables:
    """moto's `copy` module for `moto.dynamodb.models`, except that a table is not copied: the
    patched `transact_write_items` keeps its own copy of the items that may change."""

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


@dataclass
class _Saved:
    """One named item as it was before the transaction (None: it did not exist)."""

    table: Table
    hash_value: DynamoType
    range_value: DynamoType | None
    hash_present: bool
    item: Item | None

    def put_back(self) -> None:
        items: Any = self.table.items  # hash → item, or hash → range → item
        if self.range_value is None:
            if self.item is None:
                items.pop(self.hash_value, None)
            else:
                items[self.hash_value] = self.item
            return
        members = items[self.hash_value]
        if self.item is None:
            members.pop(self.range_value, None)
        else:
            members[self.range_value] = self.item
        # moto's items are a defaultdict: a lookup may have added an empty entry.
        if not self.hash_present and not members:
            items.pop(self.hash_value, None)


def _key(table: Table, op_type: str, op: dict[str, Any]) -> tuple[DynamoType, Any] | None:
    """The item an operation names, or None when it names none (moto refuses it unwritten)."""
    attrs = op.get("Item") if op_type == "Put" else op.get("Key")
    if not isinstance(attrs, dict) or table.hash_key_attr not in attrs:
        return None
    try:
        hash_value = DynamoType(attrs[table.hash_key_attr])
        if table.range_key_attr is None:
            return hash_value, None
        if table.range_key_attr not in attrs:
            return None
        return hash_value, DynamoType(attrs[table.range_key_attr])
    except Exception:  # noqa: BLE001 - a malformed key fails in moto too, before any write
        return None


def _save(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> list[_Saved]:
    saved: list[_Saved] = []
    for entry in transact_items:
        if not isinstance(entry, dict) or len(entry) != 1:
            continue  # moto refuses it before writing anything
        op_type, op = next(iter(entry.items()))
        table = backend.tables.get(str(op.get("TableName"))) if isinstance(op, dict) else None
        key = _key(table, op_type, op) if table is not None else None
        if table is None or key is None:
            continue
        hash_value, range_value = key
        present = hash_value in table.items
        try:
            item = table.get_item(hash_value, range_value)
        except Exception:  # noqa: BLE001, S112 - moto refuses that key too, before writing it
            continue
        saved.append(_Saved(table, hash_value, range_value, present, copy.deepcopy(item)))
    return saved


def _stream_marks(saved: list[_Saved]) -> list[tuple[Any, list[Any], int]]:
    """Each named table's stream records so far (shard, its list, its length)."""
    marks = []
    for table in {id(s.table): s.table for s in saved}.values():
        shard = table.stream_shard
        if shard is not None:
            marks.append((shard, shard.items, len(shard.items)))
    return marks


def transact_write_items(
    original: Callable[[DynamoDBBackend, list[dict[str, Any]]], None],
) -> Callable[[DynamoDBBackend, list[dict[str, Any]]], None]:
    def patched(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        saved = _save(self, transact_items)
        streams = _stream_marks(saved)
        try:
            original(self, transact_items)
        except Exception:
            # Reversed: an item named twice (which moto refuses) gets its first copy back.
            for entry in reversed(saved):
                entry.put_back()
            for shard, records, length in streams:
                # Records already handed to a Lambda event source mapping cannot be taken back.
                if shard.items is records:
                    del records[length:]
            raise

    return patched


def install(patcher: Patcher) -> None:
    patcher.replace(models, "copy", _CopyWithoutTables())
    original = DynamoDBBackend.transact_write_items
    patcher.replace(DynamoDBBackend, "transact_write_items", transact_write_items(original))
