"""Human-readable durations ("15m", "6h", "3d") and sizes ("50MB", "1GiB") used in policies."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_DURATION_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)?\s*$")
_SIZE_BYTES = {
    "B": 1,
    "KB": 10**3,
    "MB": 10**6,
    "GB": 10**9,
    "TB": 10**12,
    "KiB": 2**10,
    "MiB": 2**20,
    "GiB": 2**30,
    "TiB": 2**40,
}


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
    for match in _DURATION_PART.finditer(text):
        if match.start() != position:
            break
        seconds += float(match.group(1)) * _DURATION_SECONDS[match.group(2)]
        position = match.end()
    if not text or position != len(text):
        raise ValueError(
            f"{value!r} is not a duration; use a number and ms, s, m, h, d or w: '6h', '1h30m'"
        )
    return seconds


def parse_duration(value: object) -> timedelta:
    """`"6h"` -> 6 hours, for policies: rejects zero and negative durations."""
    seconds = duration_seconds(value)
    if seconds <= 0:
        raise ValueError("a duration must be positive")
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
            raise ValueError(f"{value!r} is not a size; use a number and B, KB, MB, GB, KiB, MiB…")
        size = int(float(match.group(1)) * _SIZE_BYTES[match.group(2) or "B"])
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
    timedelta, BeforeValidator(parse_duration), PlainSerializer(format_duration, return_type=str)
]
ByteSize = Annotated[int, BeforeValidator(parse_size)]
