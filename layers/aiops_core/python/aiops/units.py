"""Human-readable durations ("15m", "6h", "3d") and sizes ("50MB", "1GiB") used in policies,
and the bounded number types a policy is made of."""

import math
import re
from datetime import timedelta
from decimal import Decimal
from typing import Annotated

from pydantic import BeforeValidator, Field, PlainSerializer

# ASCII digits only: `\d` also matches "٣" (Arabic-Indic three) and other Unicode digits.
_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d|w)")
_DURATION_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
# At most 20 digits either side of the point: enough for any real size, and never a number
# too long to convert (Python refuses to turn more than 4,300 digits into an int).
_SIZE = re.compile(
    r"^\s*([0-9]{1,20}(?:\.[0-9]{1,20})?)\s*(B|KB|MB|GB|TB|PB|KiB|MiB|GiB|TiB|PiB)?\s*$",
    re.ASCII,
)
_SIZE_BYTES = {
    "B": 1,
    "KB": 10**3,
    "MB": 10**6,
    "GB": 10**9,
    "TB": 10**12,
    "PB": 10**15,
    "KiB": 2**10,
    "MiB": 2**20,
    "GiB": 2**30,
    "TiB": 2**40,
    "PiB": 2**50,
}

# The longest duration a policy may name: a Step Functions standard workflow (a run holding its
# lock, a gate waiting for its approver) lives at most a year, and a longer cooldown or window
# age means "never", which is a typo rather than a policy.
MAX_DURATION = timedelta(days=365)


def _shown(value: str) -> str:
    """`value` quoted for a message, cut short: a message must not echo a megabyte back."""
    return repr(value) if len(value) <= 40 else repr(value[:40]) + "…"


def duration_seconds(value: object) -> float:
    """`"6h"` -> 21600.0; compound `"1h30m"` and `"250ms"` too. Numbers are seconds."""
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bool):
        raise ValueError("expected a duration like '15m', '6h' or '3d'")
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str):
        raise ValueError("expected a duration like '15m', '6h' or '3d'")
    text = value.strip().lower().replace(" ", "")
    seconds, position = 0.0, 0
    if text.isascii():
        for match in _DURATION_PART.finditer(text):
            if match.start() != position:
                break
            seconds += float(match.group(1)) * _DURATION_SECONDS[match.group(2)]
            position = match.end()
    if not text or position != len(text):
        raise ValueError(
            f"{_shown(value)} is not a duration; "
            "use a number and ms, s, m, h, d or w: '6h', '1h30m'"
        )
    return seconds


def parse_duration(value: object) -> timedelta:
    """`"6h"` -> 6 hours: rejects zero and negative durations; OverflowError when too long."""
    seconds = duration_seconds(value)
    if math.isnan(seconds):
        raise ValueError("a duration must be a number of seconds, not NaN")
    if seconds <= 0:
        raise ValueError("a duration must be positive")
    return timedelta(seconds=seconds)


def parse_policy_duration(value: object) -> timedelta:
    """A duration of a policy: positive and at most `MAX_DURATION`."""
    seconds = duration_seconds(value)
    if math.isnan(seconds) or seconds <= 0:
        raise ValueError("a duration must be positive")
    # Compared before building the timedelta: a huge one ("99999999999999999d") overflows it.
    if seconds > MAX_DURATION.total_seconds():
        raise ValueError(f"a duration must be at most {format_duration(MAX_DURATION)}")
    return timedelta(seconds=seconds)


def parse_size(value: object) -> int:
    """`"50MB"` -> 50_000_000 bytes. Numbers are bytes. Rejects zero and negative sizes."""
    if isinstance(value, bool):
        raise ValueError("expected a size like '50MB' or '1GiB'")
    if isinstance(value, int):
        size = value
    elif isinstance(value, str):
        match = _SIZE.match(value)
        if not match:
            raise ValueError(
                f"{_shown(value)} is not a size; use a number and B, KB, MB, GB, KiB, MiB…"
            )
        # Decimal, not float: "1.1MB" is exactly 1,100,000 bytes, and no digit string overflows.
        size = int(Decimal(match.group(1)) * _SIZE_BYTES[match.group(2) or "B"])
    else:
        raise ValueError("expected a size like '50MB' or '1GiB'")
    if size <= 0:
        raise ValueError("a size must be positive")
    return size


def format_duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit in ("w", "d", "h", "m"):  # the largest unit that divides it exactly
        step = _DURATION_SECONDS[unit]
        if seconds % step == 0:
            return f"{seconds // step}{unit}"
    return f"{seconds}s"


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_policy_duration),
    PlainSerializer(format_duration, return_type=str),
]
ByteSize = Annotated[int, BeforeValidator(parse_size)]
# NaN makes every comparison false and infinity makes a bound unreachable: either silently
# switches a check off. Give the field its own bounds (`Field(ge=…, le=…)`) as well.
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
