"""Human-readable durations ("15m", "6h", "3d") and sizes ("50MB", "1GiB") used in policies."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_DURATION_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
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


def parse_duration(value: object) -> timedelta:
    """`"6h"` -> 6 hours. Numbers are seconds. Rejects zero and negative durations."""
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, bool):
        raise ValueError("expected a duration like '15m', '6h' or '3d'")
    elif isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        match = _DURATION.match(value)
        if not match:
            raise ValueError(f"{value!r} is not a duration; use a number and s, m, h, d or w: '6h'")
        seconds = float(match.group(1)) * _DURATION_SECONDS[match.group(2)]
    else:
        raise ValueError("expected a duration like '15m', '6h' or '3d'")
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
    for unit in ("w", "d", "h", "m"):
        step = _DURATION_SECONDS[unit]
        if seconds % step == 0:
            return f"{seconds // step}{unit}"
    return f"{seconds}s"


Duration = Annotated[
    timedelta, BeforeValidator(parse_duration), PlainSerializer(format_duration, return_type=str)
]
ByteSize = Annotated[int, BeforeValidator(parse_size)]
