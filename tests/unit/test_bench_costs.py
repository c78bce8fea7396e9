"""The cost bench's sizing rules, held to the DynamoDB Developer Guide ("DynamoDB item sizes and
formats", "DynamoDB read and write operations") and the DynamoDB pricing pages' examples."""

from __future__ import annotations

import pytest

from bench.costs import billed_ms, item_size, number_size, read_units, value_size, write_units

KB = 1024


# ------------------------------------------------------------------ item sizes


def test_a_string_counts_its_name_and_its_utf8_bytes():
    assert item_size({"Name": {"S": "abc"}}) == 4 + 3
    assert item_size({"n": {"S": "é€"}}) == 1 + 2 + 3


@pytest.mark.parametrize(
    ("number", "size"),
    [
        ("7", 2),  # one significant digit: 1 byte for it, 1 more
        ("123", 3),  # three digits: 2 bytes for them, 1 more
        ("1000", 2),  # trailing zeroes are trimmed
        ("0.0012", 2),  # and leading ones
        ("-12345.6", 4),  # six significant digits
    ],
)
def test_a_number_counts_a_byte_per_two_significant_digits_plus_one(number, size):
    assert number_size(number) == size
    assert item_size({"x": {"N": number}}) == 1 + size


def test_a_binary_value_counts_its_raw_bytes_not_its_base64():
    assert item_size({"b": {"B": b"\x00\x01\x02\x03"}}) == 1 + 4


def test_a_boolean_or_a_null_counts_one_byte_after_its_name():
    assert item_size({"flag": {"BOOL": True}, "gone": {"NULL": True}}) == (4 + 1) + (4 + 1)


def test_a_list_or_map_costs_three_bytes_plus_a_byte_an_element():
    assert item_size({"l": {"L": []}}) == 1 + 3
    assert item_size({"l": {"L": [{"N": "1"}, {"N": "22"}]}}) == 1 + 3 + (1 + 2) + (1 + 2)
    # A map's element is its name and its value.
    assert item_size({"m": {"M": {"key": {"S": "v"}}}}) == 1 + 3 + (1 + 3 + 1)


def test_a_set_counts_its_members():
    assert item_size({"ss": {"SS": ["ab", "c"]}}) == 2 + 3
    assert item_size({"ns": {"NS": ["1", "22"]}}) == 2 + 2 + 2


def test_plain_values_are_sized_as_boto3_would_send_them():
    plain = {"pk": "MODEL#churn", "objects": 12, "ok": True, "parts": ["a", 1]}
    typed = {
        "pk": {"S": "MODEL#churn"},
        "objects": {"N": "12"},
        "ok": {"BOOL": True},
        "parts": {"L": [{"S": "a"}, {"N": "1"}]},
    }
    assert item_size(plain) == item_size(typed)
    assert value_size(1.5) == value_size({"N": "1.5"})


def test_a_missing_item_has_no_size():
    assert item_size(None) == item_size({}) == 0


# ------------------------------------------------------------------ request units


@pytest.mark.parametrize(
    ("size", "units"),
    [(500, 1), (KB, 1), (KB + 1, 2), (3 * KB, 3)],  # a 3 KB item: three WRU (pricing page)
)
def test_a_write_costs_a_unit_per_started_kilobyte(size, units):
    assert write_units(size) == units


def test_a_transactional_write_costs_double():
    assert write_units(3 * KB, transactional=True) == 6  # the pricing page's example
    assert write_units(60, transactional=True) == 2


def test_reads_round_up_to_four_kilobytes():
    # "reading a 3,500-byte item consumes the same throughput as reading a 4 KB item"
    assert read_units(3500, "strong") == read_units(4 * KB, "strong") == 1
    # An 8 KB item: 2 strongly consistent, 1 eventually consistent, 4 transactional.
    assert read_units(8 * KB, "strong") == 2
    assert read_units(8 * KB, "eventual") == 1
    assert read_units(8 * KB, "transactional") == 4
    # GetItem of a 10 KB item is rounded to 12 KB.
    assert read_units(10 * KB, "strong") == 3


def test_a_batch_get_rounds_each_item_before_adding_them():
    # BatchGetItem of 1.5 KB and 6.5 KB items is sized as 12 KB (4 KB + 8 KB), not 8 KB.
    batch = read_units(int(1.5 * KB), "strong") + read_units(int(6.5 * KB), "strong")
    assert batch == read_units(12 * KB, "strong") == 3


def test_a_read_of_nothing_still_costs_the_minimum():
    assert read_units(0, "eventual") == 0.5
    assert read_units(0, "strong") == 1


# ------------------------------------------------------------------ Lambda durations


def test_a_handlers_own_time_is_scaled_to_its_cpu_share_and_each_call_adds_a_round_trip():
    # 512 MB has 512/1769 of a vCPU: 10 ms of own time takes ~34.6 ms, plus 2 calls of 10 ms.
    assert billed_ms(0.010, 512, 2) == 55
    # From 1,769 MB a function has a whole vCPU: no scaling.
    assert billed_ms(0.010, 2048, 2) == 30
