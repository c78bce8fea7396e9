"""TransactWriteItems in the offline runtime: all or nothing, at a cost that does not grow with
the table (`aiops_local/patches/dynamodb_transactions.py`).

Stock moto keeps a deep copy of every table a transaction names as its rollback copy; the patch
keeps a copy of the named items only. The tests below pin the moto code it relies on, check that
a transaction still commits or cancels as a whole (the same outcome as stock moto), and count the
items copied per transaction.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import boto3
import moto.dynamodb.models as moto_dynamodb
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import Item

from aiops_local import LocalCloud
from aiops_local.patches import dynamodb_transactions
from aiops_local.patches.base import Patcher

REGION = "us-east-1"
KEYED = "keyed"  # pk + sk, like the control table
PLAIN = "plain"  # a hash key only


@contextmanager
def narrowed() -> Iterator[None]:
    patcher = Patcher()
    dynamodb_transactions.install(patcher)
    try:
        yield
    finally:
        patcher.restore()


@contextmanager
def stock() -> Iterator[None]:
    yield


MOTO = {"stock moto": stock, "narrowed rollback copy": narrowed}


@contextmanager
def item_copies() -> Iterator[list[Item]]:
    """Every moto Item deep-copied while the block runs."""
    copied: list[Item] = []
    original = Item.__deepcopy__

    def counting(self: Item, memo: dict[int, Any]) -> Item:
        copied.append(self)
        return original(self, memo)

    patcher = Patcher()
    patcher.replace(Item, "__deepcopy__", counting)
    try:
        yield copied
    finally:
        patcher.restore()


def s(value: str) -> dict[str, str]:
    return {"S": value}


def n(value: int) -> dict[str, str]:
    return {"N": str(value)}


def make_tables(dynamodb: Any, stream: bool = False) -> None:
    extra: dict[str, Any] = (
        {"StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}}
        if stream
        else {}
    )
    dynamodb.create_table(
        TableName=KEYED,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        **extra,
    )
    dynamodb.create_table(
        TableName=PLAIN,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
    )


def seed(dynamodb: Any, others: int = 0) -> None:
    """An item to update, one to delete and one to check in each table, plus `others`."""
    for pk in ("updated", "deleted", "checked"):
        dynamodb.put_item(TableName=KEYED, Item={"pk": s(pk), "sk": s("1"), "count": n(1)})
    for key in ("updated", "deleted"):
        dynamodb.put_item(TableName=PLAIN, Item={"id": s(key), "count": n(1)})
    for i in range(others):
        dynamodb.put_item(TableName=KEYED, Item={"pk": s(f"other-{i}"), "sk": s("1")})


def transaction(last_check_holds: bool) -> list[dict[str, Any]]:
    """Creates, updates and deletes items in both tables; the last item's condition decides."""
    return [
        {"Put": {"TableName": KEYED, "Item": {"pk": s("created"), "sk": s("1"), "count": n(1)}}},
        {
            # A new sort key under an existing partition.
            "Put": {"TableName": KEYED, "Item": {"pk": s("updated"), "sk": s("2"), "count": n(1)}}
        },
        {
            "Update": {
                "TableName": KEYED,
                "Key": {"pk": s("updated"), "sk": s("1")},
                "UpdateExpression": "ADD #c :one SET note = :note",
                "ExpressionAttributeNames": {"#c": "count"},
                "ExpressionAttributeValues": {":one": n(1), ":note": s("changed")},
            }
        },
        {"Delete": {"TableName": KEYED, "Key": {"pk": s("deleted"), "sk": s("1")}}},
        {"Put": {"TableName": PLAIN, "Item": {"id": s("created")}}},
        {
            "Update": {
                "TableName": PLAIN,
                "Key": {"id": s("updated")},
                "UpdateExpression": "ADD #c :one",
                "ExpressionAttributeNames": {"#c": "count"},
                "ExpressionAttributeValues": {":one": n(1)},
            }
        },
        {"Delete": {"TableName": PLAIN, "Key": {"id": s("deleted")}}},
        {
            "ConditionCheck": {
                "TableName": KEYED,
                "Key": {"pk": s("checked"), "sk": s("1")},
                "ConditionExpression": "#c = :one" if last_check_holds else "#c > :one",
                "ExpressionAttributeNames": {"#c": "count"},
                "ExpressionAttributeValues": {":one": n(1)},
            }
        },
    ]


def contents(dynamodb: Any) -> dict[str, list[dict[str, Any]]]:
    return {
        table: sorted(
            dynamodb.scan(TableName=table, ConsistentRead=True)["Items"],
            key=lambda item: sorted((k, str(v)) for k, v in item.items()),
        )
        for table in (KEYED, PLAIN)
    }


def backend() -> DynamoDBBackend:
    return moto_dynamodb.dynamodb_backends["123456789012"][REGION]


def partitions() -> dict[str, set[Any]]:
    """The partition keys moto holds per table, empty partitions included."""
    return {name: set(table.items) for name, table in backend().tables.items()}


def cancel_reasons(error: ClientError) -> list[str]:
    return [r.get("Code", "None") for r in error.response["CancellationReasons"]]


# ---------------------------------------------------------------------- the patch point
def test_moto_rolls_back_by_deep_copying_every_named_table() -> None:
    # What the patch relies on: the table copies are made with this module's `copy`, and a
    # cancellation puts those copies back. If moto changes either, read the patch again.
    source = inspect.getsource(DynamoDBBackend.transact_write_items)
    assert list(inspect.signature(DynamoDBBackend.transact_write_items).parameters) == [
        "self",
        "transact_items",
    ]
    assert moto_dynamodb.copy is copy
    assert "copy.deepcopy(\n                    self.tables[table_name]\n" in source
    assert source.count("self.tables[table_name] = original_table_state[table_name]") == 2


# ---------------------------------------------------------------------- all or nothing
@pytest.mark.parametrize("moto_as", MOTO.values(), ids=MOTO.keys())
def test_a_transaction_cancelled_by_its_last_item_leaves_every_item_as_it_was(
    moto_as: Callable[[], Any],
) -> None:
    with moto_as(), mock_aws():
        # Given two tables whose items a transaction would create, update and delete
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        make_tables(dynamodb)
        seed(dynamodb)
        before, held = contents(dynamodb), partitions()
        # When the condition on its last item fails
        with pytest.raises(ClientError) as raised:
            dynamodb.transact_write_items(TransactItems=transaction(last_check_holds=False))
        # Then nothing it did stays: created items are gone, updated and deleted ones are back
        assert raised.value.response["Error"]["Code"] == "TransactionCanceledException"
        assert cancel_reasons(raised.value) == ["None"] * 7 + ["ConditionalCheckFailed"]
        assert contents(dynamodb) == before
        assert partitions() == held


@pytest.mark.parametrize("moto_as", MOTO.values(), ids=MOTO.keys())
def test_a_transaction_whose_conditions_hold_applies_every_item(
    moto_as: Callable[[], Any],
) -> None:
    with moto_as(), mock_aws():
        # Given the same tables
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        make_tables(dynamodb)
        seed(dynamodb)
        # When every condition holds
        dynamodb.transact_write_items(TransactItems=transaction(last_check_holds=True))
        # Then every create, update and delete is there
        after = contents(dynamodb)
    keyed = {(i["pk"]["S"], i["sk"]["S"]): i for i in after[KEYED]}
    plain = {i["id"]["S"]: i for i in after[PLAIN]}
    assert set(keyed) == {("created", "1"), ("updated", "1"), ("updated", "2"), ("checked", "1")}
    assert keyed[("updated", "1")]["count"] == n(2)
    assert keyed[("updated", "1")]["note"] == s("changed")
    assert set(plain) == {"created", "updated"}
    assert plain["updated"]["count"] == n(2)


def test_a_refused_transaction_leaves_the_items_written_before_the_refusal_as_they_were() -> None:
    # moto refuses a second operation on one item mid-transaction, after writing the first.
    with narrowed(), mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        make_tables(dynamodb)
        seed(dynamodb)
        before = contents(dynamodb)
        twice = [
            *transaction(last_check_holds=True)[:3],
            {"Delete": {"TableName": KEYED, "Key": {"pk": s("created"), "sk": s("1")}}},
        ]
        with pytest.raises(ClientError):
            dynamodb.transact_write_items(TransactItems=twice)
        assert contents(dynamodb) == before


def test_a_cancelled_transaction_leaves_no_stream_records() -> None:
    with narrowed(), mock_aws():
        # Given a table with a stream
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        make_tables(dynamodb, stream=True)
        seed(dynamodb)
        # moto serves the streams API on its classic endpoint only.
        streams = boto3.client(
            "dynamodbstreams",
            region_name=REGION,
            endpoint_url=f"https://streams.dynamodb.{REGION}.amazonaws.com",
        )
        arn = dynamodb.describe_table(TableName=KEYED)["Table"]["LatestStreamArn"]

        def records() -> list[str]:
            shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
            iterator = streams.get_shard_iterator(
                StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            return [r["eventName"] for r in streams.get_records(ShardIterator=iterator)["Records"]]

        seeded = records()
        # When a transaction is cancelled, then one commits
        with pytest.raises(ClientError):
            dynamodb.transact_write_items(TransactItems=transaction(last_check_holds=False))
        after_cancel = records()
        dynamodb.transact_write_items(TransactItems=transaction(last_check_holds=True))
        after_commit = records()
    # Then only the committed one is in the stream
    assert after_cancel == seeded
    assert after_commit == [*seeded, "INSERT", "INSERT", "MODIFY", "REMOVE"]


# ---------------------------------------------------------------------- the cost
def copies_per_transaction(others: int, last_check_holds: bool) -> int:
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    make_tables(dynamodb)
    seed(dynamodb, others)
    with item_copies() as copied, suppress(ClientError):
        dynamodb.transact_write_items(TransactItems=transaction(last_check_holds))
    return len(copied)


@pytest.mark.parametrize("last_check_holds", [True, False], ids=["committed", "cancelled"])
def test_the_rollback_copy_holds_the_named_items_whatever_the_table_size(
    last_check_holds: bool,
) -> None:
    # The transaction names five existing items (two more it creates): moto copies each of
    # them once for the rollback, and the updated ones once more inside its own UpdateItem.
    with narrowed(), mock_aws():
        small = copies_per_transaction(0, last_check_holds)
    with narrowed(), mock_aws():
        large = copies_per_transaction(500, last_check_holds)
    assert small == large == 5 + 2


def test_stock_moto_copies_the_whole_table_per_transaction() -> None:
    # The reason for the patch: if this stops holding, moto no longer needs it.
    with mock_aws():
        copies = copies_per_transaction(500, last_check_holds=True)
    assert copies > 500


# ---------------------------------------------------------------------- in the runtime
def test_the_runtime_applies_the_patch_while_it_runs(toy_project: Path) -> None:
    stock_method = DynamoDBBackend.transact_write_items
    with LocalCloud(toy_project) as cloud:
        dynamodb = cloud.client("dynamodb")
        make_tables(dynamodb)
        seed(dynamodb, others=200)
        with item_copies() as copied:
            dynamodb.transact_write_items(TransactItems=transaction(last_check_holds=True))
        assert len(copied) == 5 + 2
    assert DynamoDBBackend.transact_write_items is stock_method
    assert moto_dynamodb.copy is copy
