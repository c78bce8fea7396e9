"""The cost bench's meter on the offline runtime: every DynamoDB call a function makes is priced in
request units from the items' sizes, as DynamoDB bills them."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from aiops_local import LocalCloud
from aiops_local.actors import Actor, acting_as
from bench.costs import Meter, ObservedCall

KB = 1024
NEW = "attribute_not_exists(model)"


@pytest.fixture
def metered(toy_project: Path) -> Iterator[tuple[Any, str, Meter]]:
    """A DynamoDB client, the toy's ledger table (keys `model`, `seq`), and the meter."""
    with LocalCloud(toy_project) as cloud, Meter(cloud) as meter:
        yield cloud.client("dynamodb"), cloud.table("LedgerTable"), meter


def item(seq: str, size: int = 0) -> dict[str, Any]:
    """A ledger item of its keys plus a padding attribute of `size` characters."""
    keys = {"model": {"S": "toy"}, "seq": {"S": seq}}
    return {**keys, "pad": {"S": "x" * size}} if size else keys


def key(seq: str) -> dict[str, Any]:
    return item(seq)


def as_a_function(meter: Meter, call: Callable[[], Any]) -> ObservedCall:
    """Make `call` as a function would (a failed condition is still billed): what was metered."""
    with acting_as(Actor("function", "Probe")), contextlib.suppress(ClientError):
        call()
    return meter.calls[-1]


def test_a_write_is_billed_per_started_kilobyte_of_the_item(metered):
    ddb, table, meter = metered

    small = as_a_function(meter, lambda: ddb.put_item(TableName=table, Item=item("a", 100)))
    large = as_a_function(meter, lambda: ddb.put_item(TableName=table, Item=item("b", 3 * KB)))

    assert (small.write_units, large.write_units) == (1, 4)  # 3 KB of padding + keys: 4 KB


def test_an_update_is_billed_on_the_larger_of_the_item_before_and_after(metered):
    # Given a 1.5 KB item
    ddb, table, meter = metered
    ddb.put_item(TableName=table, Item=item("a", 1500))

    # When one small attribute of it is set
    update = as_a_function(
        meter,
        lambda: ddb.update_item(
            TableName=table,
            Key=key("a"),
            UpdateExpression="SET done = :yes",
            ExpressionAttributeValues={":yes": {"BOOL": True}},
        ),
    )

    # Then the whole item is billed
    assert update.write_units == 2


def test_a_failed_condition_is_billed_on_the_existing_item(metered):
    # Given a 2.5 KB item
    ddb, table, meter = metered
    ddb.put_item(TableName=table, Item=item("a", 2500))

    # When a conditional put of a small item at its key fails, and one at a free key succeeds
    failed = as_a_function(
        meter, lambda: ddb.put_item(TableName=table, Item=item("a"), ConditionExpression=NEW)
    )
    fresh = as_a_function(
        meter, lambda: ddb.put_item(TableName=table, Item=item("b"), ConditionExpression=NEW)
    )

    # Then the failure costs what the existing item weighs
    assert failed.error == "ConditionalCheckFailedException"
    assert (failed.write_units, fresh.write_units) == (3, 1)


def test_a_transaction_is_billed_double_per_item_even_when_cancelled(metered):
    # Given an existing small item
    ddb, table, meter = metered
    ddb.put_item(TableName=table, Item=item("a"))

    def transaction(first: str) -> Callable[[], Any]:
        return lambda: ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": item(first), "ConditionExpression": NEW}},
                {"Put": {"TableName": table, "Item": item("y", 200)}},
                {"Put": {"TableName": table, "Item": item("z", 300)}},
            ]
        )

    # When a three-item transaction commits, and one whose first condition fails
    committed = as_a_function(meter, transaction("x"))
    cancelled = as_a_function(meter, transaction("a"))

    # Then both cost 2 units an item, as the upload's window transaction does
    assert committed.write_units == 6
    assert (cancelled.error, cancelled.write_units) == ("TransactionCanceledException", 6)
    # "model" + "toy" + "seq" + "x" = 12 bytes; "pad" and its padding add the rest.
    assert [size for _, size in committed.items] == [12, 12 + 3 + 200, 12 + 3 + 300]


def test_a_query_pays_for_what_it_reads_before_its_filter(metered):
    # Given three 2 KB items
    ddb, table, meter = metered
    for seq in "abc":
        ddb.put_item(TableName=table, Item=item(seq, 2 * KB))

    # When a strongly consistent query filters them all out
    query = as_a_function(
        meter,
        lambda: ddb.query(
            TableName=table,
            KeyConditionExpression="model = :m",
            FilterExpression="attribute_exists(nothing)",
            ExpressionAttributeValues={":m": {"S": "toy"}},
            ConsistentRead=True,
        ),
    )

    # Then it is billed for the 6 KB it read (two 4 KB units), not for the nothing it returned
    assert query.read_units == 2


def test_a_read_of_a_missing_item_costs_the_minimum(metered):
    ddb, table, meter = metered

    eventual = as_a_function(meter, lambda: ddb.get_item(TableName=table, Key=key("none")))
    strong = as_a_function(
        meter, lambda: ddb.get_item(TableName=table, Key=key("none"), ConsistentRead=True)
    )

    assert (eventual.read_units, strong.read_units) == (0.5, 1)


def test_the_runtimes_own_calls_are_not_metered(metered):
    ddb, table, meter = metered

    ddb.put_item(TableName=table, Item=item("a"))

    assert meter.calls == []
