"""Durations and sizes of a policy: ASCII numbers only, bounded, never an overflow."""

from __future__ import annotations

from datetime import timedelta

import pytest

from aiops.units import (
    MAX_DURATION,
    duration_seconds,
    parse_duration,
    parse_policy_duration,
    parse_size,
)


# Arabic-Indic 3, fullwidth 3, Devanagari 15: all digits to Python's `\d`, none to a policy.
@pytest.mark.parametrize("text", ["\u0663h", "\uff13h", "\u0967\u096bm", "1\u0663m"])
def test_given_non_ascii_digits_when_read_as_a_duration_then_refused(text):
    with pytest.raises(ValueError, match="is not a duration"):
        duration_seconds(text)


@pytest.mark.parametrize("text", ["\u0663MB", "\uff13GiB", "\u0967\u096b"])
def test_given_non_ascii_digits_when_read_as_a_size_then_refused(text):
    with pytest.raises(ValueError, match="is not a size"):
        parse_size(text)


@pytest.mark.parametrize("text", ["99999999999999999d", "366d", "53w", 10.0**20])
def test_given_a_policy_duration_over_a_year_when_parsed_then_refused_naming_the_maximum(text):
    with pytest.raises(ValueError, match="at most 365d"):
        parse_policy_duration(text)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf"), "0s", -3600])
def test_given_a_non_finite_or_non_positive_policy_duration_when_parsed_then_refused(bad):
    with pytest.raises(ValueError, match=r"positive|at most"):
        parse_policy_duration(bad)


def test_given_a_year_when_parsed_as_a_policy_duration_then_accepted():
    assert parse_policy_duration("365d") == MAX_DURATION
    assert parse_policy_duration("1h30m") == timedelta(minutes=90)


def test_given_nan_when_parsed_as_a_duration_then_a_value_error_not_a_crash():
    with pytest.raises(ValueError, match="NaN"):
        parse_duration(float("nan"))


@pytest.mark.parametrize("text", ["9" * 400 + "TiB", "1" + "0" * 40, "1." + "5" * 30 + "MB"])
def test_given_a_size_with_too_many_digits_when_parsed_then_refused_without_overflow(text):
    with pytest.raises(ValueError, match="is not a size"):
        parse_size(text)


def test_given_a_fractional_size_when_parsed_then_it_is_exact():
    assert parse_size("1.1MB") == 1_100_000
    assert parse_size("5TiB") == 5 * 2**40
    assert parse_size("2PiB") == 2 * 2**50


def test_given_a_long_bad_value_when_refused_then_the_message_quotes_only_its_start():
    with pytest.raises(ValueError) as caught:
        parse_size("x" * 10_000)

    assert len(str(caught.value)) < 200
